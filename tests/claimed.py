"""Iceberg tables a test manifest can claim: made in a local warehouse with PyIceberg (no Spark), one commit each,
as a load leaves them; and a commit as the Iceberg sink makes one (the tabular sink v0.6.19 sets
kafka.connect.commit-id on every commit it makes: Coordinator.java l.64, l.234, l.250)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cdc_migrate.config.sections import CatalogOptions
from cdc_migrate.target.lineage import SINK_COMMIT_PROPERTY
from cdc_migrate.target.pyiceberg import open_catalog


def local_catalog(warehouse: Path) -> Any:
    warehouse.mkdir(parents=True, exist_ok=True)
    return open_catalog(CatalogOptions(kind="local", warehouse=str(warehouse)))


def loaded_table(warehouse: Path, name: str, rows: int = 1) -> int:
    """Creates `namespace.table` with `rows` rows in one commit; returns that snapshot's id (the claimed one)."""
    import pyarrow as pa

    catalog = local_catalog(warehouse)
    catalog.create_namespace_if_not_exists(name.split(".")[0])
    data = pa.table({"id": pa.array(range(rows), pa.int64())})
    table = catalog.create_table(name, schema=data.schema)
    table.append(data)
    return int(table.metadata.current_snapshot_id)


def sink_commit(table: Any, rows: list[dict[str, Any]], commit_id: str = "4c4b2c9e-0000-0000-0000-000000000001") -> int:
    """Appends rows as the sink's coordinator commits them (its commit id among the snapshot's properties)."""
    import pyarrow as pa

    data = pa.Table.from_pylist(rows, schema=table.schema().as_arrow())
    table.append(data, snapshot_properties={SINK_COMMIT_PROPERTY: commit_id})
    return int(table.metadata.current_snapshot_id)
