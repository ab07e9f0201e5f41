"""The run manifest: what was loaded from which binlog position, as JSON other tooling reads."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

from cdc_migrate._version import __version__
from cdc_migrate.aws.s3 import is_s3, read_s3_text, write_s3_text
from cdc_migrate.config.kinds import catalog_kind, local_catalog_paths
from cdc_migrate.config.sections import CatalogOptions, SourceOptions
from cdc_migrate.errors import ManifestError
from cdc_migrate.handoff.display import (
    COLUMNS,
    arrow_rows,
    manifest_html,
    manifest_repr,
    table_repr,
    table_row,
    validation_repr,
)
from cdc_migrate.records import OMIT_NONE, Record, doc, json_schema
from cdc_migrate.source.binlog import BinlogPosition, ServerInfo
from cdc_migrate.source.preconditions import Finding
from cdc_migrate.spark.jdbc import DriverRecord
from cdc_migrate.views import html_table

MANIFEST_VERSION = 1
# The manifest's JSON Schema, for the tools that read manifests (generated from the records: manifest_schema()).
SCHEMA_PATH = Path(__file__).with_name("manifest.schema.json")
SCHEMA_ID = "https://github.com/cdc-migrate/cdc_migrate/manifest.schema.json"


@dataclass(frozen=True)
class SourceRecord(Record):
    """The manifest's `source`: where and what the server is (never credentials), and where CDC reads the
    binlog when that is another server (a replica's source, whose binlog its position is in)."""

    host: str | None = None
    port: int | None = None
    cdc_host: str | None = None
    cdc_port: int | None = None
    user: str | None = None
    flavor: str | None = None
    version: str | None = None
    server_id: int | None = None
    server_uuid: str | None = None
    gtid_mode: str | None = None
    binlog_format: str | None = None
    binlog_row_image: str | None = None
    jdbc_driver: DriverRecord | None = field(default=None, metadata=OMIT_NONE)

    @classmethod
    def of(
        cls,
        source: SourceOptions,
        server: ServerInfo,
        origin: tuple[str, int] | None = None,
        driver: DriverRecord | None = None,
    ) -> SourceRecord:
        cdc_host, cdc_port = origin or (source.host, source.port)
        return cls(
            source.host,
            source.port,
            cdc_host,
            cdc_port,
            source.user,
            server.flavor,
            server.version,
            server.server_id,
            server.server_uuid,
            server.gtid_mode,
            server.binlog_format,
            server.binlog_row_image,
            driver,
        )


@dataclass(frozen=True)
class CatalogRecord(Record):
    """The manifest's `catalog`: where the tables went (kind, name, warehouse, uri, namespace, region), its own
    record so that a new configuration field does not change the manifest; never the catalog's extra properties
    (they may carry credentials)."""

    kind: str = "local"
    name: str | None = None
    warehouse: str | None = None
    uri: str | None = None
    namespace: str | None = None
    region: str | None = None

    def settings(self) -> dict[str, str]:
        """The `[catalog]` settings that reach this catalog again (those it has)."""
        return {k: v for k, v in self.to_dict().items() if v}

    def options(self) -> CatalogOptions:
        """The catalog options that reach it again (no extra properties)."""
        return CatalogOptions(self.kind, self.name, self.warehouse, self.uri, self.namespace, self.region)


def catalog_record(catalog: CatalogOptions) -> CatalogRecord:
    """The manifest's `catalog` for these options, with the name, the region and a local warehouse resolved."""
    warehouse = catalog.warehouse
    if catalog_kind(catalog.kind).on_disk and warehouse:
        warehouse = local_catalog_paths(warehouse)[0]
    return CatalogRecord(
        catalog.kind, catalog.catalog_name, warehouse, catalog.uri, catalog.namespace, catalog.region_name
    )


EXACT_DOC = """true only when every table the load selected is `loaded` and claims (`exact_at`, bound to its
`snapshot_id`) exactly the position CDC starts from (`binlog`): a failed, skipped or keyless table (on a live
source) makes it false. A claim holds while the table's main branch is its snapshot_id, or that snapshot with
only the Iceberg sink's commits (and row-preserving rewrites) after it: every command that relies on it (run's
resume, validate, connectors, sink-offsets) checks that first. null: no binlog position was recorded."""


@dataclass(frozen=True)
class SnapshotRecord(Record):
    """The manifest's `snapshot`: the source kind, the watermarks, whether every table is exact at the position
    CDC starts from (`changes`: the keys merged in for a live source), and what that means."""

    kind: str
    low_watermark: BinlogPosition | None = None
    high_watermark: BinlogPosition | None = None
    exact: bool | None = field(default=None, metadata=doc(EXACT_DOC))
    changes: int | None = field(
        default=None, metadata=doc("the changed keys merged into the tables that claim a position", omit_none=True)
    )
    note: str = ""


@dataclass(frozen=True)
class RunRecord(Record):
    """One run of the load (a resumed load has several): when, and from which position to which."""

    started_at: str
    binlog: BinlogPosition | None = None
    high_watermark: BinlogPosition | None = None
    finished_at: str | None = None
    run_id: str | None = field(
        default=None,
        metadata=doc("the id the run's Iceberg commits carry as the snapshot property cdc-migrate.run-id", True),
    )


@dataclass(frozen=True)
class ChunkDifference(Record):
    """A chunk whose counts or checksums differ, and its first differing keys."""

    chunk: int
    range: str
    source_rows: int
    iceberg_rows: int
    first_differences: tuple[str, ...] = ()


@dataclass(frozen=True)
class Validation(Record):
    """A table's validation against the source: the counts, the chunks compared and those that differ."""

    checked_at: str
    drift: bool | None = None
    exact: bool | None = field(default=None, metadata=OMIT_NONE)  # False: the load is not the source at one point
    note: str | None = field(default=None, metadata=OMIT_NONE)
    status: str = "error"  # match | mismatch | error
    source_rows: int | None = field(default=None, metadata=OMIT_NONE)
    iceberg_rows: int | None = field(default=None, metadata=OMIT_NONE)
    chunks: int | None = field(default=None, metadata=OMIT_NONE)
    chunking: str | None = field(default=None, metadata=OMIT_NONE)
    mismatched_chunks: tuple[ChunkDifference, ...] | None = field(default=None, metadata=OMIT_NONE)
    compared_by_presence_only: tuple[str, ...] | None = field(default=None, metadata=OMIT_NONE)
    mismatched_chunk_count: int | None = field(default=None, metadata=OMIT_NONE)
    # On a live source that moved on: the keys that differ because they changed after the table's exact position
    # (CDC applies them), the statements that changed it since (a TRUNCATE), and how far the binlog was read.
    changed_since: int | None = field(default=None, metadata=OMIT_NONE)
    statements_since: tuple[str, ...] | None = field(default=None, metadata=OMIT_NONE)
    binlog_to: BinlogPosition | None = field(default=None, metadata=OMIT_NONE)
    error: str | None = field(default=None, metadata=OMIT_NONE)

    def __repr__(self) -> str:
        return validation_repr(self)


@dataclass(frozen=True)
class TableResult(Record):
    """The outcome for one source table."""

    source: str
    target: str | None
    status: str = field(
        metadata=doc(
            "loaded, failed or skipped (a run that was interrupted before it finished the table); only a loaded "
            "table can claim a position"
        )
    )
    rows: int | None = None
    estimated_rows: int | None = None
    strategy: str | None = None
    reader: str | None = field(
        default=None,
        metadata=doc("how its rows were read: arrow (ConnectorX in Spark's tasks) or jdbc (Spark JDBC)", True),
    )
    partitions: int | None = None
    estimated_rows_per_partition: int | None = None
    partition_rows: tuple[int, ...] | None = None
    partition_seconds: tuple[float, ...] | None = field(default=None, metadata=OMIT_NONE)  # each task's time
    split_column: str | None = None
    primary_key: tuple[str, ...] = ()
    column_choices: dict[str, str] | None = None
    min: Any = None
    max: Any = None
    snapshot_id: int | None = field(
        default=None,
        metadata=doc("the Iceberg snapshot the load left as the table's main; the snapshot `exact_at` is a claim of"),
    )
    bytes: int | None = None
    # Where the table is exactly the source (the binlog position; for a live source after merging `changes`
    # changed keys in), and what CDC writes differently from MySQL in its columns (the load does the same).
    exact_at: BinlogPosition | None = field(
        default=None,
        metadata=doc(
            "the claim: the table's snapshot `snapshot_id` is exactly the source table at this binlog position. "
            "It holds while main is that snapshot, or it with only the sink's commits (and row-preserving "
            "rewrites) after it; null: no claim (see not_exact)"
        ),
    )
    not_exact: str | None = field(
        default=None,
        metadata=doc("why the table claims no position where CDC starts (none where it does)", omit_none=True),
    )
    changes: int | None = None
    applied: tuple[str, ...] | None = field(default=None, metadata=OMIT_NONE)  # statements applied (TRUNCATE)
    merge_seconds: float | None = field(default=None, metadata=OMIT_NONE)  # merging the changes in, all merges
    cdc_values: dict[str, str] | None = None
    override: dict[str, Any] | None = None
    validation: Validation | None = None
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    rows_per_second: int | None = None
    error: str | None = None

    def __repr__(self) -> str:
        return table_repr(self)

    def _repr_html_(self) -> str:
        return html_table(f"cdc_migrate: {self.source}", COLUMNS, [[table_row(self)[c] for c in COLUMNS]])


@dataclass(frozen=True)
class LeftOut(Record):
    """Something the table patterns matched that the load leaves out, and why (a view: only base tables load)."""

    source: str
    why: str


@dataclass(frozen=True)
class Manifest(Record):
    """One load: when, from which server and position, into which catalog, and each table's result."""

    version: int = MANIFEST_VERSION
    tool: dict[str, str] = field(default_factory=lambda: {"name": "cdc_migrate", "version": __version__})
    started_at: str = ""
    finished_at: str | None = None
    source: SourceRecord = field(default_factory=SourceRecord)
    binlog: BinlogPosition | None = None
    snapshot: SnapshotRecord | None = None
    preconditions: tuple[Finding, ...] = ()
    catalog: CatalogRecord = field(default_factory=CatalogRecord)
    runs: tuple[RunRecord, ...] = ()
    tables: tuple[TableResult, ...] = ()
    left_out: tuple[LeftOut, ...] | None = field(
        default=None, metadata=doc("what the patterns matched but the load leaves out", omit_none=True)
    )

    @property
    def failed(self) -> list[TableResult]:
        return [t for t in self.tables if t.status == "failed"]

    @property
    def mismatched(self) -> list[TableResult]:
        return [t for t in self.tables if t.validation and t.validation.status != "match"]

    @property
    def exact(self) -> bool | None:
        """Whether every table is exactly the source where CDC starts (None: not known)."""
        return self.snapshot.exact if self.snapshot else None

    def __repr__(self) -> str:
        return manifest_repr(self)

    def _repr_html_(self) -> str:
        return manifest_html(self)

    def to_arrow(self) -> Any:
        """One row per table (source, target, status, reader, rows, seconds, exact_at, snapshot_id, validation,
        error) as a pyarrow Table."""
        return arrow_rows(self)

    def to_pandas(self) -> Any:
        """to_arrow() as a pandas DataFrame (pandas needed)."""
        return arrow_rows(self).to_pandas()


def check_writable(path: str | Path) -> None:
    """Refuses a manifest path that cannot be written (a directory, a read-only place), before any table is."""
    if is_s3(path):
        return
    target = Path(path)
    if target.is_dir():
        raise ManifestError(
            f"run.manifest = {path} is a directory; give a file in it, e.g. --manifest {target / 'manifest.json'}"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ManifestError(
            f"cannot write the manifest {path}: {e.strerror or e}; give a writable path with --manifest (run.manifest)"
        ) from None


def write_manifest(path: str | Path, manifest: Manifest) -> None:
    """Writes the manifest atomically: a reader sees the previous file or the complete new one.

    `path` is a local path or an `s3://bucket/key` URI (one PUT, which S3 makes visible whole).
    """
    text = json.dumps(manifest.to_dict(), indent=2, default=str) + "\n"
    if is_s3(path):
        write_s3_text(str(path), text)
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


@overload
def read_manifest(path: str | Path, missing_ok: Literal[False] = False) -> Manifest: ...
@overload
def read_manifest(path: str | Path, missing_ok: bool) -> Manifest | None: ...
def read_manifest(path: str | Path, missing_ok: bool = False) -> Manifest | None:
    """Reads a manifest written by write_manifest (a local path or an s3:// URI)."""
    if is_s3(path):
        text = read_s3_text(str(path))
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            text = None
    if text is None:
        if missing_ok:
            return None
        raise ManifestError(f"manifest {path} does not exist; give the --manifest a run wrote")
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or "started_at" not in data or not isinstance(data.get("tables", []), list):
            raise ValueError("not an object with a start time and a list of tables")
        if not all(isinstance(t, dict) for t in data.get("tables", [])):
            raise ValueError("a table entry is not an object")
        return Manifest.from_dict(data)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ManifestError(
            f"{path} is not a cdc_migrate manifest ({type(e).__name__}: {e}); give the --manifest a run wrote"
        ) from None


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of the manifest as this version writes and reads it (pure; SCHEMA_PATH holds it)."""
    return json_schema(Manifest, "cdc_migrate run manifest", SCHEMA_ID)


def write_schema() -> None:
    """Writes manifest_schema() to SCHEMA_PATH (after a record's fields changed; a unit test says when)."""
    SCHEMA_PATH.write_text(json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n")
