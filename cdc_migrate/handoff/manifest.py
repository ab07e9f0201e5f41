"""The run manifest: what was loaded from which binlog position, as JSON other tooling reads."""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

from cdc_migrate._version import __version__
from cdc_migrate.aws.calls import is_s3, read_s3_text, write_s3_text
from cdc_migrate.config.model import CatalogOptions, SourceOptions
from cdc_migrate.errors import ConfigError
from cdc_migrate.source.binlog import BinlogPosition, ServerInfo
from cdc_migrate.target.kinds import catalog_kind, local_catalog_paths

MANIFEST_VERSION = 1
STATUSES = ("loaded", "failed", "skipped")


@dataclass(frozen=True)
class TableResult:
    """The outcome for one source table."""

    source: str
    target: str | None
    status: str
    rows: int | None = None
    estimated_rows: int | None = None
    strategy: str | None = None
    partitions: int | None = None
    estimated_rows_per_partition: int | None = None
    partition_rows: tuple[int, ...] | None = None
    split_column: str | None = None
    primary_key: tuple[str, ...] = ()
    column_choices: dict[str, str] | None = None
    min: Any = None
    max: Any = None
    snapshot_id: int | None = None
    bytes: int | None = None
    # Where the table is exactly the source (the binlog position; for a live source after folding `changes`
    # changed keys in), and what CDC writes differently from MySQL in its columns (the load does the same).
    exact_at: dict[str, Any] | None = None
    changes: int | None = None
    cdc_values: dict[str, str] | None = None
    override: dict[str, Any] | None = None
    validation: dict[str, Any] | None = None
    started_at: str | None = None
    finished_at: str | None = None
    seconds: float | None = None
    rows_per_second: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Manifest:
    """One run: when, from which server and position, into which catalog, and each table's result."""

    started_at: str
    source: dict[str, Any]
    catalog: dict[str, Any]
    binlog: dict[str, Any] | None
    snapshot: dict[str, Any] = field(default_factory=dict)
    preconditions: tuple[dict[str, str], ...] = ()
    tables: tuple[TableResult, ...] = ()
    finished_at: str | None = None
    tool: dict[str, str] = field(default_factory=lambda: {"name": "cdc_migrate", "version": __version__})
    version: int = MANIFEST_VERSION
    runs: tuple[dict[str, Any], ...] = ()

    @property
    def failed(self) -> list[TableResult]:
        return [t for t in self.tables if t.status == "failed"]

    @property
    def mismatched(self) -> list[TableResult]:
        return [t for t in self.tables if t.validation and t.validation.get("status") != "match"]

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        order = ["version", "tool", "started_at", "finished_at", "source", "binlog", "snapshot", "preconditions",
                 "catalog", "runs", "tables"]  # fmt: skip
        return {k: d[k] for k in order}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        fields = {f.name for f in dataclasses.fields(TableResult)}
        tables = []
        for table in data.get("tables", []):
            values: dict[str, Any] = {k: v for k, v in table.items() if k in fields}
            for key in ("partition_rows", "primary_key"):
                if values.get(key) is not None:
                    values[key] = tuple(values[key])
            tables.append(TableResult(**values))
        return cls(
            started_at=data["started_at"],
            finished_at=data.get("finished_at"),
            source=data.get("source", {}),
            catalog=data.get("catalog", {}),
            binlog=data.get("binlog"),
            snapshot=data.get("snapshot", {}),
            preconditions=tuple(data.get("preconditions", [])),
            tables=tuple(tables),
            tool=data.get("tool", {}),
            version=data.get("version", MANIFEST_VERSION),
            runs=tuple(data.get("runs", [])),
        )


def source_section(source: SourceOptions, server: ServerInfo, origin: tuple[str, int] | None = None) -> dict[str, Any]:
    """The manifest's `source`: where and what the server is (never credentials), and where CDC reads the
    binlog when that is another server (`origin`: a replica's source, whose binlog its position is in)."""
    cdc_host, cdc_port = origin or (source.host, source.port)
    return {
        "host": source.host,
        "port": source.port,
        "cdc_host": cdc_host,
        "cdc_port": cdc_port,
        "user": source.user,
        "flavor": server.flavor,
        "version": server.version,
        "server_id": server.server_id,
        "server_uuid": server.server_uuid,
        "gtid_mode": server.gtid_mode,
        "binlog_format": server.binlog_format,
        "binlog_row_image": server.binlog_row_image,
    }


def binlog_section(position: BinlogPosition | None) -> dict[str, Any] | None:
    return dataclasses.asdict(position) if position else None


def catalog_section(catalog: CatalogOptions) -> dict[str, Any]:
    """The manifest's `catalog`: kind, name, warehouse, uri, namespace, region (never its extra properties,
    which may carry credentials)."""
    warehouse = catalog.warehouse
    if catalog_kind(catalog.kind).on_disk and warehouse:
        warehouse = local_catalog_paths(warehouse)[0]
    return {
        "kind": catalog.kind,
        "name": catalog.catalog_name,
        "warehouse": warehouse,
        "uri": catalog.uri,
        "namespace": catalog.namespace,
        "region": catalog.region_name,
    }


def check_writable(path: str | Path) -> None:
    """Refuses a manifest path that cannot be written (a directory, a read-only place), before any table is."""
    if is_s3(path):
        return
    target = Path(path)
    if target.is_dir():
        raise ConfigError(
            f"run.manifest = {path} is a directory; give a file in it, e.g. --manifest {target / 'manifest.json'}"
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise ConfigError(
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
        raise ConfigError(f"manifest {path} does not exist; give the --manifest a run wrote")
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("tables", []), list):
            raise ValueError("not an object with a list of tables")
        for key in ("source", "catalog", "snapshot"):
            if not isinstance(data.get(key) or {}, dict):
                raise ValueError(f"{key} is not an object")
        if not all(isinstance(t, dict) for t in data.get("tables", [])):
            raise ValueError("a table entry is not an object")
        return Manifest.from_dict(data)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConfigError(
            f"{path} is not a cdc_migrate manifest ({type(e).__name__}: {e}); give the --manifest a run wrote"
        ) from None
