"""The run's pure decisions without a server: what a resumed run keeps, where its change log starts, the high
watermark, the connection budget, and a table's result from its plan and its load."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.config.model import Options
from cdc_migrate.contract.mapping import map_table
from cdc_migrate.errors import ConfigError, SourceError
from cdc_migrate.handoff.backfill import Exactness
from cdc_migrate.handoff.claims import exact_everywhere
from cdc_migrate.handoff.manifest import Manifest, SourceRecord, TableResult, catalog_record, write_manifest
from cdc_migrate.load.budget import ConnectionBudget, connections_for
from cdc_migrate.load.resume import (
    changelog_start,
    high_watermark,
    override_dict,
    prior_manifest,
    resumable,
)
from cdc_migrate.load.table import TableRun, key_json, loaded_result, planned_result, written_properties
from cdc_migrate.naming import TableName
from cdc_migrate.planning.capacity import UserLimit, capacity, local_slots, with_capacity
from cdc_migrate.planning.partitions import Partitioning, TablePlan
from cdc_migrate.source.binlog import BinlogPosition
from cdc_migrate.source.schema import Column, SourceTable
from cdc_migrate.spark.write import POSITION_KEYS, LoadOutcome, position_properties

LOW = BinlogPosition("binlog.000003", 400, "0-1-10", "t0")
EARLIER = BinlogPosition("binlog.000002", 9000, "0-1-4", "t-1")
LATER = BinlogPosition("binlog.000003", 7000, "0-1-20", "t1")


def options(kind: str = "live", **tables: object) -> Options:
    return Options.from_mapping(
        {
            "source": {"host": "db", "user": "etl"},
            "tables": {"include": ["shop.*"], **tables},
            "snapshot": {"kind": kind}
            if kind != "clone"
            else {"kind": kind, "binlog_file": "b.1", "binlog_position": 4},
        }
    )


def loaded(source: str, at: BinlogPosition | None, **more: object) -> TableResult:
    base = TableResult(source, source, "loaded", rows=1, primary_key=("id",), exact_at=at)
    return replace(base, **({"override": override_dict(options(), source)} | more))  # type: ignore[arg-type]


# ---- resume -----------------------------------------------------------------------------------------------


def test_a_live_run_keeps_every_table_an_earlier_run_left_exact_anywhere() -> None:
    prior = Manifest(started_at="t", tables=(loaded("shop.a", EARLIER), loaded("shop.b", LATER)))

    assert set(resumable(options(), prior, LOW)) == {"shop.a", "shop.b"}


def test_tables_not_loaded_without_a_position_or_with_other_settings_load_again() -> None:
    prior = Manifest(
        started_at="t",
        tables=(
            TableResult("shop.failed", "shop.failed", "failed", error="x"),
            loaded("shop.nowhere", None),
            loaded("shop.finer", LOW, override={"rows_per_partition": 10, "min_partitions": 1, "max_partitions": 200}),
            loaded("shop.kept", LOW),
        ),
    )

    assert list(resumable(options(), prior, LOW)) == ["shop.kept"]


def test_a_replica_or_clone_keeps_only_tables_exact_at_its_own_position() -> None:
    prior = Manifest(started_at="t", tables=(loaded("shop.same", LOW), loaded("shop.other", LATER)))

    assert list(resumable(options("replica"), prior, LOW)) == ["shop.same"]
    assert list(resumable(options("clone"), prior, LOW)) == ["shop.same"]


def test_without_a_position_every_loaded_table_is_kept_and_without_a_prior_none() -> None:
    prior = Manifest(started_at="t", tables=(loaded("shop.a", None),))

    assert list(resumable(options(), prior, None)) == ["shop.a"]
    assert resumable(options(), None, LOW) == {}


def test_the_change_log_starts_where_the_earliest_kept_table_is_exact() -> None:
    assert changelog_start(LOW, [loaded("shop.a", LATER)]) == LOW
    assert changelog_start(LOW, [loaded("shop.a", LATER), loaded("shop.b", EARLIER)]) == EARLIER
    assert changelog_start(LOW, []) == LOW


def test_the_high_watermark_is_the_latest_position_a_loaded_table_is_exact_at() -> None:
    results = [loaded("shop.a", LOW), loaded("shop.b", LATER), replace(loaded("shop.c", None), status="failed")]

    assert high_watermark(results) == LATER
    assert high_watermark([TableResult("shop.x", None, "failed")]) is None


def test_exact_everywhere_needs_every_table_loaded_and_claiming_the_position() -> None:
    keyless = replace(loaded("shop.log", None), primary_key=(), not_exact="it has no primary key")

    assert exact_everywhere([loaded("shop.a", LATER), loaded("shop.b", LATER)], LATER)
    assert not exact_everywhere([loaded("shop.a", LATER), keyless], LATER)  # a keyless table is no exception
    assert not exact_everywhere([loaded("shop.a", LATER), loaded("shop.b", LOW)], LATER)
    assert not exact_everywhere([loaded("shop.a", LATER), TableResult("shop.x", None, "failed")], LATER)
    assert not exact_everywhere([loaded("shop.a", LATER), TableResult("shop.y", None, "skipped")], LATER)
    assert not exact_everywhere([], LATER) and not exact_everywhere([loaded("shop.a", LATER)], None)


def test_the_settings_a_table_was_loaded_with_are_the_defaults_and_its_override() -> None:
    given = options(overrides={"shop.a": {"rows_per_partition": 10, "split_column": "k"}})
    opts = with_capacity(given, capacity(given, slots=2))

    assert override_dict(opts, "shop.a") == {
        "rows_per_partition": 10,
        "min_partitions": 1,
        "max_partitions": 200,
        "split_column": "k",
    }
    assert override_dict(opts, "shop.b") == {"rows_per_partition": 250_000, "min_partitions": 1, "max_partitions": 200}


def test_a_manifest_of_another_load_is_refused_and_force_ignores_it(tmp_path: Path) -> None:
    path = str(tmp_path / "m.json")
    opts = Options.from_mapping({"source": {"host": "db", "user": "etl"}, "run": {"manifest": path}})
    other = Manifest(
        started_at="t", source=SourceRecord(host="elsewhere", port=3306), catalog=catalog_record(opts.catalog)
    )
    write_manifest(path, other)

    with pytest.raises(ConfigError, match="records a load from elsewhere:3306.*--force to start over"):
        prior_manifest(opts)
    assert prior_manifest(replace(opts, run=replace(opts.run, force=True))) is None
    write_manifest(path, replace(other, source=SourceRecord(host="db", port=3306)))
    assert prior_manifest(opts) is not None


# ---- the connection budget -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("partitions", "slots", "limit", "expected"),
    [(8, 4, 32, (4, 8)), (8, 16, 32, (8, 8)), (8, 16, 3, (3, 3)), (1, 4, 2, (1, 1)), (40, 40, 32, (32, 32))],
    ids=["slots", "partitions", "budget-merges", "single", "budget-caps"],
)
def test_a_read_holds_min_of_partitions_slots_and_budget_and_merges_when_the_budget_is_smaller(
    partitions: int, slots: int, limit: int, expected: tuple[int, int]
) -> None:
    assert connections_for(partitions, slots, limit) == expected


def test_the_budget_never_lends_more_than_its_limit_at_once() -> None:
    budget = ConnectionBudget(5)
    held, most, lock = [0], [0], threading.Lock()

    def take(n: int) -> None:
        with budget.hold(n):
            with lock:
                held[0] += n
                most[0] = max(most[0], held[0])
            time.sleep(0.01)
            with lock:
                held[0] -= n

    threads = [threading.Thread(target=take, args=(n,)) for n in (3, 2, 4, 1, 5, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert most[0] <= 5 and budget.free == 5
    with pytest.raises(ValueError, match="cannot hold 6 of 5"), budget.hold(6):
        pass


# ---- a table's result -----------------------------------------------------------------------------------


def _plan() -> TablePlan:
    source = SourceTable(
        TableName("shop", "t"),
        (Column("id", "bigint", "bigint unsigned", False), Column("d", "date", "date", True)),
        ("id",),
        99,
    )
    settings = Partitioning(10, 1, 10)
    return TablePlan(
        source, TableName("shop", "t"), map_table(source), settings, "stride", ("id",), (1,), (99,), ((50,),)
    )


def test_a_tables_result_before_it_loads_says_how_it_is_read() -> None:
    result = planned_result(_plan(), "shop.t", {"rows_per_partition": 10})

    assert (result.status, result.strategy, result.partitions, result.split_column) == ("failed", "stride", 2, "id")
    assert (result.min, result.max, result.primary_key) == (1, 99, ("id",))
    assert result.column_choices == {"id": "bigint_unsigned"} and result.cdc_values and "d" in result.cdc_values


def test_a_loaded_tables_result_says_where_it_is_exact() -> None:
    base = planned_result(_plan(), "shop.t", {})
    outcome = LoadOutcome(rows=99, snapshot_id=7, partition_rows=(49, 50), bytes=1000, partition_seconds=(0.5, 0.7))

    assert loaded_result(base, outcome, LOW).exact_at == LOW
    assert loaded_result(base, outcome, LOW).partition_seconds == (0.5, 0.7)  # what a projection is made from
    folded = replace(outcome, exactness=Exactness(LATER, 3, True))
    assert (loaded_result(base, folded, LOW).exact_at, loaded_result(base, folded, LOW).changes) == (LATER, 3)
    inexact = replace(outcome, exactness=Exactness(LATER, 0, False, why="it has no primary key"))
    assert loaded_result(base, inexact, LOW).exact_at is None
    assert loaded_result(base, inexact, LOW).not_exact == "it has no primary key"
    assert loaded_result(base, outcome, None).status == "loaded"


def test_keys_are_written_to_the_manifest_as_json_values() -> None:
    assert key_json((5,)) == 5
    assert key_json(("a", date(2024, 1, 2), datetime(2024, 1, 2, 3, 4), b"\x01\xff", Decimal("1.50"))) == [
        "a",
        "2024-01-02",
        "2024-01-02T03:04:00",
        "01ff",
        "1.50",
    ]
    assert key_json(None) is None


# ---- capacity ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slots", "server", "expected"),
    [
        (2, 151, (200, 4, 4)),  # a laptop: the seed's cap, four tables, a read per table at most
        (16, 151, (200, 4, 16)),
        (320, 2000, (1280, 40, 320)),  # 20 G.4X workers: every slot busy on a big table
        (320, 300, (1280, 40, 150)),  # never more than half of what the server allows
    ],
    ids=["2-cores", "16-cores", "320-slots", "small-server"],
)
def test_limits_not_configured_follow_the_task_slots_and_the_server(
    slots: int, server: int, expected: tuple[int, int, int]
) -> None:
    cap = capacity(options(), slots, server)

    assert (cap.max_partitions, cap.parallel_tables, cap.max_connections) == expected


def test_configured_limits_win_over_the_rule() -> None:
    given = Options.from_mapping(
        {
            "source": {"host": "db", "user": "etl", "max_connections": 8},
            "tables": {"max_partitions": 50},
            "run": {"parallel_tables": 2},
        }
    )

    resolved = with_capacity(given, capacity(given, 320, 2000))

    assert (resolved.tables.max_partitions, resolved.run.parallel_tables, resolved.source.max_connections) == (50, 2, 8)


def test_the_users_connection_limit_caps_the_reads_less_what_the_load_needs_besides() -> None:
    limited = UserLimit("'etl'@'%'", limit=8, in_use=1, overhead=2)  # a live load's binlog reader

    assert capacity(options(), 16, 151, limited).max_connections == 5
    assert capacity(options(), 16, 151, UserLimit("'etl'@'%'", 0, 5, 3)).max_connections == 16  # 0: no limit


@pytest.mark.parametrize(
    ("configured", "message"),
    [
        (
            None,
            r"'etl'@'%' may open 2 connections \(max_user_connections\); the load needs 3 \(1 to read, 2 for a live "
            r"load's binlog reader\): ALTER USER 'etl'@'%' WITH MAX_USER_CONNECTIONS 3 \(6 to read four partitions",
        ),
        (7, r"the load needs 9 \(7 to read, 2 .*\): .*MAX_USER_CONNECTIONS 9 or lower source.max_connections"),
    ],
    ids=["too-few-for-any-load", "configured-above-the-limit"],
)
def test_a_user_that_may_not_open_enough_connections_is_refused_with_what_to_set(
    configured: int | None, message: str
) -> None:
    given = (
        options()
        if configured is None
        else replace(options(), source=replace(options().source, max_connections=configured))
    )
    limit = 2 if configured is None else 8

    with pytest.raises(SourceError, match=message):
        capacity(given, 2, 151, UserLimit("'etl'@'%'", limit, 0, 2))


def test_a_local_master_says_its_slots_and_a_cluster_does_not() -> None:
    assert local_slots("local[3]") == 3 and local_slots("local") == 1 and local_slots("local[*]") >= 1
    assert local_slots("yarn") is None and local_slots("spark://h:7077") is None


def test_a_tables_write_claims_no_position_its_finish_binds_one_to_its_snapshot() -> None:
    def shared(backfill: object) -> TableRun:
        return TableRun(None, options(), "mariadb", LOW, 2, ConnectionBudget(2), None, None, backfill)  # type: ignore[arg-type]

    for backfill in (None, object()):  # a replica or a clone; a live source
        written = written_properties(shared(backfill), _plan())
        assert not any(k.startswith("cdc-migrate.binlog-") for k in written)
        assert written["cdc-migrate.source-table"] == "shop.t"
    claim = position_properties(LOW, 1234)
    assert claim["cdc-migrate.binlog-file"] == LOW.file and claim["cdc-migrate.exact-snapshot-id"] == "1234"
    assert set(claim) == set(POSITION_KEYS) and position_properties(None, 1234) == {}


def test_a_dropped_connection_is_tried_again_and_a_data_error_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    from cdc_migrate.errors import WriteError
    from cdc_migrate.load import table as table_module
    from cdc_migrate.load.table import Halt, _with_retries

    calls: list[int] = []
    outcome = LoadOutcome(rows=1, snapshot_id=1)

    def failing(times: int, message: str) -> Any:
        def load(*args: Any, **kwargs: Any) -> LoadOutcome:
            calls.append(1)
            if len(calls) <= times:
                raise WriteError(f"shop.t -> shop.t: {message}")
            return outcome

        return load

    shared = TableRun(None, options(), "mariadb", LOW, 2, ConnectionBudget(2), None, None)  # type: ignore[arg-type]
    refused = "cannot reach MySQL at h:3306 (java.net.ConnectException: Connection refused); nothing was written"

    monkeypatch.setattr(table_module, "load_table", failing(2, refused))
    assert _with_retries(shared, _plan(), waits=(0.0, 0.0, 0.0)) is outcome and len(calls) == 3

    calls.clear()
    monkeypatch.setattr(table_module, "load_table", failing(9, refused))
    with pytest.raises(WriteError, match="Connection refused"):
        _with_retries(shared, _plan(), waits=(0.0, 0.0))
    assert len(calls) == 3  # the first try and two more

    calls.clear()
    monkeypatch.setattr(table_module, "load_table", failing(9, "TIME 30:00:00 is outside 00:00:00-24:00:00"))
    with pytest.raises(WriteError, match="TIME"):
        _with_retries(shared, _plan(), waits=(0.0, 0.0))
    assert len(calls) == 1  # a deterministic data error is not tried again

    calls.clear()
    halted = TableRun(None, options(), "mariadb", LOW, 2, ConnectionBudget(2), None, None, halt=Halt())  # type: ignore[arg-type]
    halted.halt.set("the run was interrupted")
    monkeypatch.setattr(table_module, "load_table", failing(9, refused))
    with pytest.raises(WriteError):
        _with_retries(halted, _plan(), waits=(60.0,))
    assert len(calls) == 1  # a halted run does not wait


@pytest.mark.parametrize(
    ("reason", "again"),
    [
        ("java.net.ConnectException: Connection refused", True),
        ("the source dropped a connection while the table was read (Communications link failure)", True),
        ("Could not connect to address=(host=h)(port=3306): Socket fail to connect", True),
        ("Could not connect: User 'etl' has exceeded the 'max_user_connections' resource (current value: 2)", False),
        ("Access denied for user 'etl'@'10.0.0.1'", False),
        ("cdc-migrate: shop.t.d: 2024-13-01 is not a valid DATE", False),
    ],
)
def test_only_a_connection_that_went_away_is_worth_another_try(reason: str, again: bool) -> None:
    from cdc_migrate.spark.failures import dropped

    assert dropped(reason) is again


def test_the_jvms_workload_counts_only_the_cells_it_reads_itself() -> None:
    from cdc_migrate.load.runner import workload
    from cdc_migrate.planning.planner import PlanOutcome
    from cdc_migrate.spark.settings import C1_ONLY, driver_java_options

    big = replace(_plan(), source=replace(_plan().source, estimated_rows=50_000_000))
    outcomes = [PlanOutcome(big.source.name, big.target, replace(big, reader=r)) for r in ("jdbc", "arrow")]

    assert workload(outcomes[:1]).cells == 100_000_000 and workload(outcomes[1:]).cells == 0
    # a big table read by the JVM wants C2; read by Arrow tasks the JVM only plans and commits: C1
    assert C1_ONLY not in driver_java_options("1g", workload(outcomes[:1]))
    assert C1_ONLY in driver_java_options("1g", workload(outcomes[1:]))
