"""The claims of a manifest, checked against the tables they are about: a table's claim (`exact_at`, bound to its
`snapshot_id`) holds while its main branch is that snapshot or it with only the sink's commits after it
(target/lineage.py). Every command that relies on a claim checks it here first; one that no longer holds is
withdrawn (the table then claims nothing and says why), and the load is exact only where every table claims
the position CDC starts from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from cdc_migrate.config.sections import CatalogOptions
from cdc_migrate.handoff.manifest import Manifest, TableResult
from cdc_migrate.naming import TableName
from cdc_migrate.source.binlog import BinlogPosition, same_position
from cdc_migrate.target.lineage import ClaimCheck, SnapshotEntry, check_claim

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

logger = logging.getLogger(__name__)

# A table's main branch (newest first), or None where the table is gone.
ChainOf = Callable[[TableResult], list[SnapshotEntry] | None]


def check_claims(tables: Iterable[TableResult], chain_of: ChainOf) -> dict[str, ClaimCheck]:
    """Each claiming table's check, by source table."""
    checks = {}
    for table in tables:
        if table.status != "loaded" or table.exact_at is None:
            continue
        chain = chain_of(table)
        if chain is None:
            checks[table.source] = ClaimCheck(f"its Iceberg table {table.target} is gone")
        else:
            checks[table.source] = check_claim(table.snapshot_id, chain)
    return checks


def withdrawn(table: TableResult, why: str) -> TableResult:
    """The table without its claim, saying why (pure)."""
    return replace(table, exact_at=None, not_exact=why)


def void_reason(check: ClaimCheck) -> str:
    return f"its claim no longer holds: {check.reason}; load it again"


def with_checks(tables: Iterable[TableResult], checks: dict[str, ClaimCheck]) -> list[TableResult]:
    """The tables with every claim that failed its check withdrawn (pure)."""
    out = []
    for table in tables:
        check = checks.get(table.source)
        out.append(withdrawn(table, void_reason(check)) if check is not None and not check.holds else table)
    return out


def exact_everywhere(tables: Iterable[TableResult], position: BinlogPosition | None) -> bool:
    """Whether every table is loaded and claims exactly `position` (and there is some table) (pure)."""
    tables = list(tables)
    return (
        position is not None
        and bool(tables)
        and all(t.status == "loaded" and t.exact_at is not None and same_position(t.exact_at, position) for t in tables)
    )


def not_exact_tables(tables: Iterable[TableResult], position: BinlogPosition | None) -> list[str]:
    """`source: why` for each table that does not claim `position` (pure)."""
    out = []
    for t in tables:
        if t.status != "loaded":
            out.append(f"{t.source}: {t.status}")
        elif t.exact_at is None:
            out.append(f"{t.source}: {t.not_exact or 'it claims no position'}")
        elif position is not None and not same_position(t.exact_at, position):
            out.append(f"{t.source}: exact at {t.exact_at}, not at {position}")
    return out


def checked_manifest(manifest: Manifest, chain_of: ChainOf) -> Manifest:
    """The manifest with every claim checked against its table: one that no longer holds is withdrawn, and the
    load is then no longer exact (the snapshot says which tables and why)."""
    checks = check_claims(manifest.tables, chain_of)
    failed = {k: c for k, c in checks.items() if not c.holds}
    for source, check in failed.items():
        logger.info("%s: %s", source, void_reason(check))
    if not failed:
        return manifest
    tables = tuple(with_checks(manifest.tables, checks))
    snapshot = manifest.snapshot
    if snapshot is not None and snapshot.exact:
        why = "; ".join(not_exact_tables(tables, manifest.binlog))
        snapshot = replace(snapshot, exact=False, note=f"some tables are not exact where CDC starts ({why})")
    return replace(manifest, tables=tables, snapshot=snapshot)


def spark_chains(spark: SparkSession, catalog: str) -> ChainOf:
    """Tables' main branches through the session's Iceberg catalog."""
    from cdc_migrate.spark.lineage import main_chain
    from cdc_migrate.spark.write import iceberg_table

    def chain(table: TableResult) -> list[SnapshotEntry] | None:
        try:
            iceberg = iceberg_table(spark, catalog, TableName.parse(table.target or table.source))
        except Exception as e:
            if _no_such_table(e):
                return None
            raise
        iceberg.refresh()
        return main_chain(iceberg, until=table.snapshot_id)

    return chain


def pyiceberg_chains(catalog: CatalogOptions) -> ChainOf:
    """Tables' main branches read with PyIceberg (commands that run without Spark)."""
    from pyiceberg.exceptions import NoSuchTableError

    from cdc_migrate.target.pyiceberg import main_lineage, open_catalog

    opened: list[Any] = []  # the catalog, opened when a claim is first checked

    def chain(table: TableResult) -> list[SnapshotEntry] | None:
        if not opened:
            opened.append(open_catalog(catalog))
        try:
            return main_lineage(opened[0].load_table(table.target or table.source))
        except NoSuchTableError:
            return None

    return chain


def _no_such_table(e: BaseException) -> bool:
    text = str(e)
    return "NoSuchTableException" in text or "Table or view not found" in text or "cannot be found" in text
