"""Full loads against the real server into the real local catalog, read back with Spark and PyIceberg."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from chispa import assert_df_equality

from cdc_migrate.config.model import Options
from cdc_migrate.config.secret import Secret
from cdc_migrate.demo import sample
from cdc_migrate.handoff.manifest import read_manifest
from cdc_migrate.load.runner import plan, run
from cdc_migrate.naming import TableName
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.spark.session import jdbc_driver_kind
from cdc_migrate.spark.write import read_table, spark_identifier, write_table
from tests.manifest_schema import schema_problems

from .conftest import OptionsFactory


@pytest.fixture(params=["mysql", "mariadb"], ids=["connector-j-8.0.33", "mariadb-connector-j"])
def jdbc_driver(request: pytest.FixtureRequest) -> str:
    """Every test here runs with MySQL Connector/J 8.0.33 (Glue's) and MariaDB Connector/J, on the same data."""
    return str(request.param)


KEYS = {
    "customers": ["id"],
    "products": ["id"],
    "orders": ["id"],
    "order_items": ["order_id", "line_no"],
    "page_views": ["view_id"],
    "chars": ["id"],
}


def source_rows(server: Any, table: str, order_by: list[str]) -> list[dict[str, Any]]:
    return server.execute(f"SELECT * FROM {table} ORDER BY {', '.join(order_by)}")


def values(ids: range, row: str) -> str:
    """A VALUES list from a row template with {i}, portable across MariaDB and MySQL."""
    return ", ".join(row.format(i=i) for i in ids)


def as_iceberg_values(row: dict[str, Any], zoned: set[str]) -> dict[str, Any]:
    """PyMySQL's naive datetimes (the session is UTC) as PyIceberg returns them: aware for timestamptz."""
    return {k: v.replace(tzinfo=UTC) if k in zoned and isinstance(v, datetime) else v for k, v in row.items()}


@pytest.fixture(scope="module")
def shop(server: Any, spark: Any, warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The sample database (plus a CHAR/ENUM table) loaded once for the module's checks."""
    db = f"shop_{uuid.uuid4().hex[:8]}"
    counts = sample.create(server.connect(), database=db)
    server.execute(
        f"CREATE TABLE `{db}`.chars (id INT PRIMARY KEY, c CHAR(8), e ENUM('x', 'yy'))",
        f"INSERT INTO `{db}`.chars VALUES (1, 'ab', 'x'), (2, 'abcdefgh', 'yy'), (3, NULL, NULL)",
    )
    counts["chars"] = 3
    status = server.execute("SHOW MASTER STATUS")[0]
    manifest_path = tmp_path_factory.mktemp("shop") / "manifest.json"
    options = Options.from_mapping(
        {
            "source": {
                "host": server.host,
                "port": server.port,
                "user": server.user,
                "password": Secret(server.password),
            },
            "tables": {
                "include": [f"{db}.*"],
                "rows_per_partition": 1000,
                "max_partitions": 6,
                "overrides": {f"{db}.page_views": {"split_column": "view_id"}},
            },
            "catalog": {"kind": "local", "warehouse": str(warehouse)},
            "run": {"manifest": str(manifest_path)},
        }
    )
    manifest = run(options, spark=spark)
    yield SimpleNamespace(db=db, counts=counts, status=status, manifest=manifest, path=manifest_path)
    server.execute(f"DROP DATABASE `{db}`")


def test_every_table_is_loaded_with_all_its_rows(shop: Any) -> None:
    results = {t.source: t for t in shop.manifest.tables}

    assert set(results) == {f"{shop.db}.{t}" for t in shop.counts}
    for table, count in shop.counts.items():
        result = results[f"{shop.db}.{table}"]
        assert (result.status, result.rows, result.target) == ("loaded", count, f"{shop.db}.{table}")
    assert results[f"{shop.db}.orders"].partitions == 6
    assert results[f"{shop.db}.page_views"].split_column == "view_id"


@pytest.mark.parametrize("table", sorted(KEYS))
def test_spark_reads_back_exactly_the_source_rows(shop: Any, server: Any, spark: Any, table: str) -> None:
    actual = spark.table(f"local.{shop.db}.{table}")
    expected = spark.createDataFrame(source_rows(server, f"`{shop.db}`.`{table}`", KEYS[table]), actual.schema)

    assert_df_equality(actual, expected, ignore_row_order=True)


@pytest.mark.parametrize("table", sorted(KEYS))
def test_pyiceberg_reads_back_exactly_the_source_rows(shop: Any, server: Any, iceberg: Any, table: str) -> None:
    arrow = iceberg(f"{shop.db}.{table}").scan().to_arrow().sort_by([(k, "ascending") for k in KEYS[table]])
    zoned = {f.name for f in arrow.schema if getattr(f.type, "tz", None)}

    expected = source_rows(server, f"`{shop.db}`.`{table}`", KEYS[table])
    assert arrow.to_pylist() == [as_iceberg_values(r, zoned) for r in expected]


def test_tables_are_format_v2_and_carry_the_position_the_server_reported(shop: Any, iceberg: Any) -> None:
    table = iceberg(f"{shop.db}.orders")
    props = table.properties

    assert table.metadata.format_version == 2
    assert props["cdc-migrate.source-table"] == f"{shop.db}.orders"
    assert props["cdc-migrate.binlog-file"] == shop.status["File"]
    assert props["cdc-migrate.binlog-position"] == str(shop.status["Position"])
    assert props["cdc-migrate.binlog-gtid-set"] == shop.manifest.binlog.gtid_set
    assert (shop.manifest.binlog.file, shop.manifest.binlog.position) == (
        shop.status["File"],
        shop.status["Position"],
    )


def test_char_and_enum_come_back_unpadded(shop: Any, spark: Any, iceberg: Any) -> None:
    via_spark = {r["id"]: (r["c"], r["e"]) for r in spark.table(f"local.{shop.db}.chars").collect()}
    via_pyiceberg = {r["id"]: (r["c"], r["e"]) for r in iceberg(f"{shop.db}.chars").scan().to_arrow().to_pylist()}

    expected = {1: ("ab", "x"), 2: ("abcdefgh", "yy"), 3: (None, None)}
    assert via_spark == expected
    assert via_pyiceberg == expected


def test_the_manifest_file_matches_the_tables(shop: Any, iceberg: Any) -> None:
    on_disk = read_manifest(shop.path)

    assert on_disk == shop.manifest
    assert on_disk.finished_at is not None and on_disk.source.flavor in ("mariadb", "mysql")
    for result in on_disk.tables:
        assert result.snapshot_id == iceberg(result.target).metadata.current_snapshot_id
    assert schema_problems(json.loads(Path(shop.path).read_text())) == []  # what other tools check it against


# ---- replacing ----------------------------------------------------------------------------------------


def test_a_rerun_replaces_the_table_in_one_commit(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY, v VARCHAR(10))",
        f"INSERT INTO `{database}`.t VALUES " + values(range(1, 101), "({i}, 'v{i}')"),
    )
    options = make_options([f"{database}.t"], tables={"rows_per_partition": 10})
    first = run(options, spark=spark).tables[0]
    server.execute(
        f"DELETE FROM `{database}`.t WHERE id <= 10",
        f"UPDATE `{database}`.t SET v = 'changed' WHERE id BETWEEN 11 AND 15",
        f"INSERT INTO `{database}`.t VALUES " + values(range(101, 121), "({i}, 'new')"),
    )

    second = run(replace(options, run=replace(options.run, force=True)), spark=spark).tables[0]

    table = iceberg(f"{database}.t")
    rows = table.scan().to_arrow().sort_by("id").to_pylist()
    assert rows == source_rows(server, f"`{database}`.t", ["id"])
    assert second.snapshot_id == table.metadata.current_snapshot_id != first.snapshot_id
    # Every state a reader could have seen: the first load, then the second; never an empty table.
    seen = [table.metadata.snapshot_by_id(e.snapshot_id) for e in table.metadata.snapshot_log]
    assert [int(s.summary["total-records"]) for s in seen] == [100, 110]


def test_a_failed_replace_leaves_the_old_table_untouched(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any
) -> None:
    from pyspark.sql import functions as F

    server.execute(
        f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY, v INT)",
        f"INSERT INTO `{database}`.t VALUES " + values(range(1, 201), "({i}, {i})"),
    )
    options = make_options([f"{database}.t"], tables={"rows_per_partition": 50})
    loaded = run(options, spark=spark).tables[0]
    before = iceberg(f"{database}.t").scan().to_arrow().sort_by("id").to_pylist()

    @F.udf("int")
    def fail_on_150(v: int) -> int:
        if v == 150:
            raise RuntimeError("injected failure in the middle of the write")
        return v

    [outcome] = plan(options)
    assert outcome.plan is not None
    df = read_table(spark, outcome.plan, options.source, jdbc_driver_kind(spark, "auto"))
    with pytest.raises(Exception, match="injected failure"):
        write_table(spark, df.withColumn("v", fail_on_150("v")), "local", TableName(database, "t"), {})

    table = iceberg(f"{database}.t")
    assert table.metadata.current_snapshot_id == loaded.snapshot_id
    assert table.scan().to_arrow().sort_by("id").to_pylist() == before


# ---- failures -----------------------------------------------------------------------------------------


def test_a_failing_table_is_reported_while_the_others_load(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.a_good (id INT PRIMARY KEY)",
        f"INSERT INTO `{database}`.a_good VALUES (1), (2)",
        f"CREATE TABLE `{database}`.b_nopk (v INT)",  # no key: one partition, with a warning
        f"INSERT INTO `{database}`.b_nopk VALUES (1), (1)",
        f"CREATE TABLE `{database}`.c_wide (id INT PRIMARY KEY, d DECIMAL(65, 30))",  # fails when planned
        f"CREATE TABLE `{database}`.d_time (id INT PRIMARY KEY, t TIME NOT NULL)",  # fails while loading
        f"INSERT INTO `{database}`.d_time VALUES (1, '01:00:00'), (2, '-01:00:00')",
        f"CREATE TABLE `{database}`.e_good (id INT PRIMARY KEY)",
        f"INSERT INTO `{database}`.e_good VALUES (7)",
    )
    options = make_options([f"{database}.*"])

    manifest = run(options, spark=spark)

    by_name = {t.source.split(".")[1]: t for t in manifest.tables}
    assert {n: t.status for n, t in by_name.items()} == {
        "a_good": "loaded",
        "b_nopk": "loaded",
        "c_wide": "failed",
        "d_time": "failed",
        "e_good": "loaded",
    }
    assert (by_name["b_nopk"].rows, by_name["b_nopk"].partitions, by_name["b_nopk"].strategy) == (2, 1, "single")
    assert f"{database}.c_wide.d is DECIMAL(65,30)" in (by_name["c_wide"].error or "")
    assert f"{database}.d_time.t: TIME -01:00:00 is outside" in (by_name["d_time"].error or "")
    assert iceberg(f"{database}.e_good").scan().to_arrow().to_pylist() == [{"id": 7}]
    assert [t.status for t in read_manifest(options.run.manifest).tables] == [
        "loaded",
        "loaded",
        "failed",
        "failed",
        "loaded",
    ]


# ---- every row exactly once, whatever the keys ----------------------------------------------------------


# name: (columns, rows, override, strategy, partitions: exact int or None for "several")
EDGE_CASES: dict[str, tuple[str, list[str], dict[str, str], str, int | None]] = {
    "empty": ("id INT PRIMARY KEY, rid INT", [], {}, "single", 1),
    "single-row": ("id INT PRIMARY KEY, rid INT", ["(5, 1)"], {}, "single", 1),
    "min-equals-max": ("k INT, rid INT", ["(5, 1)", "(5, 2)", "(5, 3)"], {"split_column": "k"}, "single", 1),
    "uniform-negative": (
        "id INT PRIMARY KEY, rid INT",
        [f"({i}, {i + 1000})" for i in range(-500, 501)],
        {},
        "stride",
        10,
    ),
    "nulls-in-split-column": (
        "k INT NULL, rid INT",
        ["(NULL, 1)", "(NULL, 2)", "(NULL, 3)", *[f"({i}, {i + 1000})" for i in range(-300, 301, 7)]],
        {"split_column": "k"},
        "stride",
        5,  # keys -300..295: (295 + 300) / 100
    ),
    "skewed": (
        "id BIGINT PRIMARY KEY, rid INT",
        [f"({i}, {i})" for i in range(1, 1001)] + ["(1000000000000, 0)"],
        {},
        "keyset",
        None,
    ),
    "composite": (  # balanced leading values: cut on the leading column by the optimizer's estimates
        "a INT NOT NULL, b VARCHAR(10) NOT NULL, rid INT, PRIMARY KEY (a, b)",
        [f"({i % 7}, 'k{i}', {i})" for i in range(1000)],
        {},
        "keyset",
        None,
    ),
    "composite-hot-leading-value": (  # a = 0 holds most rows: ranges of the whole key, walked in MySQL
        "a INT NOT NULL, b VARCHAR(10) NOT NULL, rid INT, PRIMARY KEY (a, b)",
        [f"({0 if i < 600 else i % 7}, 'k{i}', {i})" for i in range(1000)],
        {},
        "keyset",
        None,
    ),
    "string-ci": (
        "code VARCHAR(20) COLLATE utf8mb4_general_ci PRIMARY KEY, rid INT",
        [f"('{'ÄBCDEFGHIJ'[i % 10]}{chr(97 + i % 26)}{i:04d}', {i})" for i in range(1000)],
        {},
        "keyset",
        None,
    ),
    "datetime": (
        "at DATETIME(3) PRIMARY KEY, rid INT",
        [f"(TIMESTAMP'2024-01-01 00:00:00' + INTERVAL {i * 37} SECOND, {i})" for i in range(1000)],
        {},
        "keyset",
        None,
    ),
    "binary": (
        "h BINARY(4) PRIMARY KEY, rid INT",
        [f"(UNHEX(LPAD(HEX({i * 65537}), 8, '0')), {i})" for i in range(1000)],
        {},
        "keyset",
        None,
    ),
    "keyless": ("v INT, rid INT", [f"({i % 3}, {i})" for i in range(300)], {}, "single", 1),
}


KEY_BOUNDS = {
    "composite": (0, 6),  # the split key is the leading column
    "composite-hot-leading-value": ([0, "k0"], [6, "k993"]),
    "datetime": ("2024-01-01T00:00:00", "2024-01-01T10:16:03"),
    "binary": ("00000000", "03e703e7"),
    "uniform-negative": (-500, 500),
}


@pytest.mark.parametrize("case", list(EDGE_CASES), ids=list(EDGE_CASES))
def test_every_row_is_loaded_exactly_once(
    case: str, server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Callable[[str], Any]
) -> None:
    columns, values, override, strategy, partitions = EDGE_CASES[case]
    server.execute(f"CREATE TABLE `{database}`.t ({columns}) DEFAULT CHARSET utf8mb4")
    if values:
        server.execute(f"INSERT INTO `{database}`.t VALUES {', '.join(values)}")
    server.execute(f"ANALYZE TABLE `{database}`.t")
    overrides = {f"{database}.t": override} if override else {}
    options = make_options(
        [f"{database}.t"], tables={"rows_per_partition": 100, "max_partitions": 10, "overrides": overrides}
    )

    [outcome] = plan(options)
    assert outcome.plan is not None
    spark_partitions = read_table(spark, outcome.plan, options.source, "mariadb").rdd.getNumPartitions()
    result = run(options, spark=spark).tables[0]

    loaded = Counter(r["rid"] for r in iceberg(f"{database}.t").scan().to_arrow().to_pylist())
    source = Counter(r["rid"] for r in server.execute(f"SELECT rid FROM `{database}`.t"))
    assert loaded == source  # every row, none twice
    assert sum(loaded.values()) == len(values) == result.rows
    assert (result.strategy, result.partitions) == (strategy, outcome.plan.partitions)
    assert result.partitions == spark_partitions
    if partitions is not None:
        assert result.partitions == partitions
    else:
        assert result.partitions >= 5
    assert result.partition_rows is not None and sum(result.partition_rows) == len(values)
    assert len(result.partition_rows) == result.partitions
    if values:  # each read partition's task time, for a projection (an empty range took its time too)
        assert result.partition_seconds is not None and len(result.partition_seconds) == result.partitions
    if strategy == "keyset":  # row-balanced: no range holds more than twice its share
        assert max(result.partition_rows) <= 2 * len(values) / result.partitions
    if case in KEY_BOUNDS:  # keys as the manifest's JSON shows them
        assert (result.min, result.max) == KEY_BOUNDS[case]


def test_keyset_boundaries_are_computed_in_mysql(
    server: Any, database: str, make_options: OptionsFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.execute(
        # a key led by a string: its boundaries are walked in MySQL (an integer leading column is estimated)
        f"CREATE TABLE `{database}`.t (a INT NOT NULL, b VARCHAR(10) NOT NULL, PRIMARY KEY (b, a))",
        f"INSERT INTO `{database}`.t VALUES " + ", ".join(f"({i % 13}, 'k{i}')" for i in range(5000)),
        f"ANALYZE TABLE `{database}`.t",
    )
    fetched: list[tuple[str, int]] = []
    original = MySQLSource.query

    def counting(self: MySQLSource, sql: str, args: Any = None) -> list[dict[str, Any]]:
        rows = original(self, sql, args)
        fetched.append((sql, len(rows)))
        return rows

    monkeypatch.setattr(MySQLSource, "query", counting)

    [outcome] = plan(make_options([f"{database}.t"], tables={"rows_per_partition": 500, "max_partitions": 20}))

    assert outcome.plan is not None and outcome.plan.strategy == "keyset"
    key_queries = [(sql, n) for sql, n in fetched if f"FROM `{database}`.`t`" in sql]
    assert all(n <= 1 for _, n in key_queries)  # only bounds and boundaries travel, never the keys
    assert outcome.plan.partitions == 10  # 5000 rows / 500
    assert len(key_queries) == 2 + 9  # the first and last key, then one query per boundary
    assert all("ORDER BY `b`, `a` LIMIT 1 OFFSET" in sql for sql, _ in key_queries[2:])


def test_spark_identifiers_are_quoted() -> None:
    assert spark_identifier("local", TableName("9ns", "t`x"), "refs") == "`local`.`9ns`.`t``x`.`refs`"


def test_the_manifest_records_the_driver_and_its_version(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, jdbc_driver: str
) -> None:
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.t VALUES (1)")

    manifest = run(make_options([f"{database}.t"]), spark=spark)

    recorded = manifest.source.jdbc_driver
    assert recorded is not None and recorded.kind == jdbc_driver
    if jdbc_driver == "mysql":
        assert (recorded.class_name, recorded.version) == ("com.mysql.cj.jdbc.Driver", "8.0.33")
    else:
        assert recorded.class_name == "org.mariadb.jdbc.Driver" and (recorded.version or "").startswith("2.")


@pytest.mark.parametrize("change", ["DROP TABLE {t}", "RENAME TABLE {t} TO {t}_new", "ALTER TABLE {t} DROP COLUMN v"])
def test_a_table_dropped_renamed_or_altered_after_it_was_planned_is_said_so(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, monkeypatch: Any, change: str
) -> None:
    """Not a live load (no binlog to read the statement from): the read's own error, explained in one line."""
    import cdc_migrate.load.runner as runner

    server.execute(
        f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY, v INT)", f"INSERT INTO `{database}`.t VALUES (1, 1)"
    )
    planned = runner._start

    def then_changed(*args: Any) -> Any:
        start = planned(*args)
        server.execute(change.format(t=f"`{database}`.t"))
        return start

    monkeypatch.setattr(runner, "_start", then_changed)
    options = make_options([f"{database}.t"], run={"record_binlog_position": False})

    [table] = run(options, spark=spark).tables

    assert table.status == "failed"
    assert (table.error or "").startswith(f"{database}.t -> {database}.t: ")
    gone = "the table is gone from the source" if "COLUMN" not in change else "a planned column is gone"
    assert gone in (table.error or "") and "\n" not in (table.error or ""), table.error
    assert "java.sql" not in (table.error or "").split("(")[0]
