"""A table's main branch as a chain of snapshots, and whether a claim made of one of them still holds (pure).

A claim ("this table is exactly the source at binlog position P") is made of one snapshot of the table's main
branch. It holds while main is that snapshot, or a descendant of it whose later snapshots changed no row the
claim is about: commits of the Iceberg sink CDC continues with (they apply the changes after P), and
rewrites that keep the rows as they are (Iceberg's `replace` operation: compaction, which S3 Tables runs
itself). Any other write after it (a later or killed load, a catch-up merge, someone's UPDATE) voids it, and so
does a main that no longer descends from it (the table was replaced).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# Every commit of the tabular Iceberg sink (v0.6.19) sets this snapshot property: Coordinator.java l.64 (the name),
# l.234 (each append) and l.250 (each row delta), at tag v0.6.19 of tabular-io/iceberg-kafka-connect.
SINK_COMMIT_PROPERTY = "kafka.connect.commit-id"
# What cdc_migrate's own commits carry (the run that made them), where Spark lets it set a snapshot property.
RUN_PROPERTY = "cdc-migrate.run-id"
# Iceberg's operation for a commit that rewrites files without changing a row (DataOperations.REPLACE).
REPLACE = "replace"


@dataclass(frozen=True)
class SnapshotEntry:
    """One snapshot of a table: its id, its parent's, what operation made it and the properties that say by whom."""

    snapshot_id: int
    parent_id: int | None
    operation: str | None = None
    properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def by_sink(self) -> bool:
        return SINK_COMMIT_PROPERTY in self.properties

    def author(self) -> str:
        """Who made it, as far as its properties say."""
        if self.by_sink:
            return "the Iceberg sink"
        run = self.properties.get(RUN_PROPERTY)
        return f"cdc_migrate (run {run})" if run else "a writer other than the sink"


def main_chain(current: int | None, snapshots: Mapping[int, SnapshotEntry]) -> list[SnapshotEntry]:
    """Main's snapshot and its ancestors, newest first, as far as the table keeps them (pure)."""
    chain: list[SnapshotEntry] = []
    at = current
    while at is not None and at in snapshots and len(chain) < len(snapshots):
        chain.append(snapshots[at])
        at = snapshots[at].parent_id
    return chain


@dataclass(frozen=True)
class ClaimCheck:
    """Whether a claim made of a snapshot still holds; `reason` says why not (None where it holds)."""

    reason: str | None = None
    sink_commits: int = 0  # the sink's commits on top of the claimed snapshot

    @property
    def holds(self) -> bool:
        return self.reason is None


def check_claim(claimed: int | None, chain: Sequence[SnapshotEntry]) -> ClaimCheck:
    """Whether a claim made of snapshot `claimed` holds for a table whose main is `chain` (main_chain) (pure)."""
    if claimed is None:
        return ClaimCheck("the claim names no snapshot of the table")
    if not chain:
        return ClaimCheck(f"the table has no current snapshot (the claim is of snapshot {claimed})")
    ids = [entry.snapshot_id for entry in chain]
    if claimed not in ids:
        return ClaimCheck(
            f"its main (snapshot {chain[0].snapshot_id}, by {chain[0].author()}) does not descend from the claimed "
            f"snapshot {claimed}: the table was replaced since (a later or killed load)"
        )
    after = chain[: ids.index(claimed)]
    foreign = [entry for entry in after if not (entry.by_sink or entry.operation == REPLACE)]
    if foreign:
        entry = foreign[-1]  # the first write after the claim
        return ClaimCheck(
            f"its main moved past the claimed snapshot {claimed}: snapshot {entry.snapshot_id} "
            f"({entry.operation or 'an unknown operation'}) was written by {entry.author()}"
        )
    return ClaimCheck(None, sum(entry.by_sink for entry in after))
