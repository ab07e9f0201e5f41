"""A claim made of one snapshot holds while the table's main is that snapshot, or it with only the sink's commits
and row-preserving rewrites after it; any other write after it, or a main that does not descend from it, voids it."""

from __future__ import annotations

import pytest

from cdc_migrate.handoff.claims import check_claims, checked_manifest, exact_everywhere, not_exact_tables
from cdc_migrate.handoff.manifest import Manifest, SnapshotRecord, TableResult
from cdc_migrate.source.binlog import BinlogPosition
from cdc_migrate.target.lineage import RUN_PROPERTY, SINK_COMMIT_PROPERTY, SnapshotEntry, check_claim, main_chain

P = BinlogPosition("binlog.000003", 400, "0-1-9")
LOAD = SnapshotEntry(10, None, "overwrite", {RUN_PROPERTY: "r1"})


def entry(snapshot: int, parent: int, operation: str = "append", **properties: str) -> SnapshotEntry:
    return SnapshotEntry(snapshot, parent, operation, properties)


SINK = {SINK_COMMIT_PROPERTY: "c-1"}


@pytest.mark.parametrize(
    ("chain", "holds", "says"),
    [
        ([LOAD], True, None),
        ([entry(12, 11, "overwrite", **SINK), entry(11, 10, "append", **SINK), LOAD], True, None),
        ([entry(11, 10, "replace"), LOAD], True, None),  # compaction keeps every row
        ([entry(11, 10, "overwrite", **{RUN_PROPERTY: "r2"}), LOAD], False, "written by cdc_migrate (run r2)"),
        ([entry(12, 11, **SINK), entry(11, 10, "delete"), LOAD], False, "written by a writer other than the sink"),
        ([SnapshotEntry(20, None, "overwrite", {RUN_PROPERTY: "r3"})], False, "does not descend from"),
        ([], False, "has no current snapshot"),
    ],
    ids=["the-claimed", "sink-on-top", "compaction", "our-later-write", "someone-elses", "replaced", "empty"],
)
def test_a_claim_holds_only_under_the_sinks_commits(chain: list[SnapshotEntry], holds: bool, says: str | None) -> None:
    check = check_claim(10, chain)

    assert check.holds is holds
    assert (check.reason is None) if says is None else (says in (check.reason or ""))


def test_a_claim_without_a_snapshot_holds_nowhere_and_the_chain_follows_parents() -> None:
    assert not check_claim(None, [LOAD]).holds
    snapshots = {s.snapshot_id: s for s in (LOAD, entry(11, 10), entry(12, 11), entry(99, 98))}
    assert [s.snapshot_id for s in main_chain(12, snapshots)] == [12, 11, 10]
    assert check_claim(10, main_chain(12, snapshots)).sink_commits == 0


def claimed(source: str, snapshot: int | None = 10) -> TableResult:
    return TableResult(source, source, "loaded", primary_key=("id",), exact_at=P, snapshot_id=snapshot)


def test_a_manifest_checked_withdraws_each_void_claim_and_is_then_not_exact() -> None:
    manifest = Manifest(
        started_at="t",
        binlog=P,
        snapshot=SnapshotRecord("live", P, P, True, note="every table is exactly the source"),
        tables=(claimed("shop.a"), claimed("shop.b"), TableResult("shop.c", None, "failed")),
    )
    chains = {"shop.a": [LOAD], "shop.b": [entry(11, 10, "overwrite"), LOAD]}

    checks = check_claims(manifest.tables, lambda t: chains.get(t.source))
    checked = checked_manifest(manifest, lambda t: chains.get(t.source))

    assert sorted(checks) == ["shop.a", "shop.b"] and checks["shop.a"].holds and not checks["shop.b"].holds
    a, b, _ = checked.tables
    assert a.exact_at == P and b.exact_at is None and "its claim no longer holds" in (b.not_exact or "")
    assert checked.snapshot is not None and checked.snapshot.exact is False and "shop.b" in checked.snapshot.note
    gone = checked_manifest(manifest, lambda t: None)
    assert "its Iceberg table shop.a is gone" in (gone.tables[0].not_exact or "")


def test_exact_everywhere_names_what_is_not() -> None:
    tables = [claimed("shop.a"), TableResult("shop.b", None, "skipped")]

    assert not exact_everywhere(tables, P) and not_exact_tables(tables, P) == ["shop.b: skipped"]
