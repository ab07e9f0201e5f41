"""A table's main branch as Iceberg's Java API gives it, through the session's catalog (the Spark edge of
target/lineage.py)."""

from __future__ import annotations

from typing import Any

from cdc_migrate.target.lineage import RUN_PROPERTY, SINK_COMMIT_PROPERTY, SnapshotEntry

_WHO = (SINK_COMMIT_PROPERTY, RUN_PROPERTY)
LONGEST = 100_000  # snapshots walked at most (a table's history is expired long before)


def main_chain(table: Any, until: int | None = None) -> list[SnapshotEntry]:
    """The main branch of an Iceberg (Java) table, newest first, down to snapshot `until` (or its first one)."""
    chain: list[SnapshotEntry] = []
    snapshot = table.currentSnapshot()
    while snapshot is not None and len(chain) < LONGEST:
        summary = snapshot.summary()
        parent = snapshot.parentId()
        operation = snapshot.operation()
        entry = SnapshotEntry(
            int(snapshot.snapshotId()),
            None if parent is None else int(parent),
            None if operation is None else str(operation),
            {k: str(summary.get(k)) for k in _WHO if summary.containsKey(k)},
        )
        chain.append(entry)
        if entry.snapshot_id == until or entry.parent_id is None:
            break
        snapshot = table.snapshot(entry.parent_id)
    return chain
