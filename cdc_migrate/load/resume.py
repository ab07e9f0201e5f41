"""Resuming a load: which tables an earlier run left exact, where the change log starts for them, and the
high watermark every loaded table is brought to (pure but for reading the earlier manifest)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable

from cdc_migrate.config.model import Options
from cdc_migrate.config.sections import TableOverride
from cdc_migrate.errors import ConfigError
from cdc_migrate.handoff.manifest import Manifest, TableResult, catalog_record, read_manifest
from cdc_migrate.source.binlog import BinlogPosition, same_position

logger = logging.getLogger(__name__)


def prior_manifest(options: Options) -> Manifest | None:
    """The manifest of an earlier run of the same load, to resume from (None with --force or none there).
    One of a load from another server or into another catalog is an error."""
    path = options.run.manifest
    if not path or options.run.force:
        return None
    prior = read_manifest(path, missing_ok=True)
    if prior is None:
        return None
    here, there = (options.source.host, options.source.port), (prior.source.host, prior.source.port)
    catalog = catalog_record(options.catalog)
    same_catalog = (prior.catalog.kind, prior.catalog.name, prior.catalog.warehouse) == (
        catalog.kind,
        catalog.name,
        catalog.warehouse,
    )
    if here != there or not same_catalog:
        raise ConfigError(
            f"{path} records a load from {there[0]}:{there[1]} into {prior.catalog.kind} catalog "
            f"{prior.catalog.warehouse}; this run is from {here[0]}:{here[1]} into {catalog.warehouse}. "
            "Give another --manifest, or --force to start over"
        )
    return prior


def override_dict(options: Options, table: str) -> dict[str, object]:
    """The table's settings as loaded: partitioning (override or default) and column overrides, so that
    `validate` cuts the table into the load's partitions and maps its columns the same way."""
    override = options.tables.overrides.get(table) or TableOverride()
    given = {k: v for k, v in dataclasses.asdict(override).items() if v not in (None, {})}
    defaults = {k: getattr(options.tables, k) for k in ("rows_per_partition", "min_partitions", "max_partitions")}
    return defaults | given


def resumable(options: Options, prior: Manifest | None, low: BinlogPosition | None) -> dict[str, TableResult]:
    """The tables an earlier run of this load left exact, which this run keeps (and brings to its position).

    A live source's tables are caught up from where they are exact; a replica's or clone's only stay when the
    position is the same; a table loaded with other settings, or with no record of where it is exact, loads
    again.
    """
    if prior is None:
        return {}
    done = {}
    for t in prior.tables:
        if t.status != "loaded":
            continue
        if t.override is not None and t.override != override_dict(options, t.source):
            logger.info("%s was loaded with other settings (%s); loading it again", t.source, t.override)
            continue
        at = t.exact_at
        if low is not None and (at is None or (options.snapshot.kind != "live" and not same_position(at, low))):
            logger.info(
                "%s was not loaded exactly at a position this run can continue from; loading it again", t.source
            )
            continue
        done[t.source] = t
    return done


def changelog_start(low: BinlogPosition, kept: Iterable[TableResult]) -> BinlogPosition:
    """Where a live load reads the binlog from: the low watermark, or earlier where a kept table is exact."""
    return min([low, *(t.exact_at for t in kept if t.exact_at is not None)], key=BinlogPosition.key)


def high_watermark(results: Iterable[TableResult]) -> BinlogPosition | None:
    """The latest position a loaded table is exact at: the others are brought to it (none needs to go further)."""
    exact = [t.exact_at for t in results if t.status == "loaded" and t.exact_at is not None]
    return max(exact, key=BinlogPosition.key) if exact else None


def purged(kept: dict[str, TableResult], present: set[str]) -> dict[str, TableResult]:
    """The kept tables whose exact position is in a binlog file the server no longer has (pure): a live load
    cannot bring them from there, so they load again."""
    return {k: t for k, t in kept.items() if t.exact_at is not None and t.exact_at.file not in present}
