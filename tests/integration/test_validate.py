"""`cdc-migrate validate` against the real server and catalog: a clean load matches, every kind of
corruption is found with its chunk and key, a source that moved on is reported as drift."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from cdc_migrate.cli.app import main
from cdc_migrate.handoff.manifest import read_manifest
from cdc_migrate.load.runner import run
from cdc_migrate.validation.validator import validate

from .conftest import OptionsFactory
from .test_types import COLUMNS as EVERY_TYPE_COLUMNS
from .test_types import ROWS as EVERY_TYPE_ROWS


@pytest.fixture(params=["mysql", "mariadb"], ids=["connector-j-8.0.33", "mariadb-connector-j"])
def jdbc_driver(request: pytest.FixtureRequest) -> str:
    """Every test here runs with MySQL Connector/J 8.0.33 (Glue's) and MariaDB Connector/J, on the same data."""
    return str(request.param)


@pytest.fixture
def loaded(server: Any, spark: Any, database: str, make_options: OptionsFactory) -> Iterator[Any]:
    """Four tables loaded: integer keys (range chunks), a case-insensitive string key and a DATETIME(6)
    key (hash chunks), and every type of the CDC contract."""
    server.execute(
        "SET SESSION sql_mode = ''",
        f"CREATE TABLE `{database}`.ints (id INT PRIMARY KEY, v VARCHAR(20), amount DECIMAL(12,4), at DATETIME(3))",
        f"INSERT INTO `{database}`.ints VALUES "
        + ", ".join(
            f"({i}, 'v{i}', {i}.0001, TIMESTAMP'2024-01-01 00:00:00' + INTERVAL {i} SECOND)" for i in range(1, 1001)
        ),
        f"CREATE TABLE `{database}`.codes (code VARCHAR(10) COLLATE utf8mb4_general_ci PRIMARY KEY, n INT)",
        f"INSERT INTO `{database}`.codes VALUES " + ", ".join(f"('K{i:04d}', {i})" for i in range(600)),
        f"CREATE TABLE `{database}`.events (at DATETIME(6) PRIMARY KEY, what VARCHAR(10))",
        f"INSERT INTO `{database}`.events VALUES "
        + ", ".join(f"(TIMESTAMP'2024-01-01 00:00:00.123456' + INTERVAL {i} MINUTE, 'e{i}')" for i in range(300)),
        f"CREATE TABLE `{database}`.every_type ({EVERY_TYPE_COLUMNS})",
        f"INSERT INTO `{database}`.every_type VALUES {', '.join(EVERY_TYPE_ROWS)}",
        f"ANALYZE TABLE `{database}`.ints, `{database}`.codes, `{database}`.events, `{database}`.every_type",
    )
    options = make_options(
        [f"{database}.*"],
        tables={
            "rows_per_partition": 100,
            "overrides": {f"{database}.every_type": {"columns": {"bi_u_big": {"type": "decimal(20,0)"}}}},
        },
    )
    manifest = run(options, spark=spark)
    assert [t.status for t in manifest.tables] == ["loaded"] * 4
    yield SimpleNamespace(options=options, path=options.run.manifest, db=database)


def by_table(manifest: Any) -> dict[str, Any]:
    """Each table's validation as the manifest's JSON has it."""
    return {t.source.split(".")[1]: t.validation.to_dict() if t.validation else None for t in manifest.tables}


def test_a_clean_load_matches_the_source_chunk_by_chunk(loaded: Any, spark: Any) -> None:
    results = by_table(validate(loaded.options, loaded.path, spark=spark))

    assert {t: r["status"] for t, r in results.items()} == dict.fromkeys(
        ("codes", "events", "every_type", "ints"), "match"
    )
    loaded_ints = next(t for t in read_manifest(loaded.path).tables if t.source.endswith(".ints"))
    assert (results["ints"]["chunking"], results["ints"]["chunks"]) == ("range", 9) == ("range", loaded_ints.partitions)
    assert results["codes"]["chunking"] == "hash" and results["events"]["chunking"] == "hash"
    assert results["ints"]["source_rows"] == results["ints"]["iceberg_rows"] == 1000
    assert results["every_type"]["compared_by_presence_only"] == ["f", "f72", "dbl"]
    assert results["ints"]["drift"] is False
    assert by_table(read_manifest(loaded.path)) == results  # recorded in the manifest

    finer = by_table(validate(loaded.options, loaded.path, spark=spark, chunk_rows=40))
    assert (finer["ints"]["chunks"], finer["codes"]["chunks"]) == (24, 15)  # 999 / 40 (seed rule), 600 / 40
    assert {r["status"] for r in finer.values()} == {"match"}


def test_corruptions_are_named_with_their_chunk_and_key(loaded: Any, spark: Any) -> None:
    db = loaded.db
    spark.sql(f"DELETE FROM local.`{db}`.ints WHERE id = 437")  # a lost row
    spark.sql(f"UPDATE local.`{db}`.ints SET v = 'tampered' WHERE id = 555")  # a changed value
    spark.sql(f"INSERT INTO local.`{db}`.codes VALUES ('ZZZZ', 1)")  # a row that is not in MySQL

    results = by_table(validate(loaded.options, loaded.path, spark=spark))

    ints, codes = results["ints"], results["codes"]
    assert ints["status"] == "mismatch" and ints["mismatched_chunk_count"] == 2
    (lost, changed) = ints["mismatched_chunks"]
    assert (lost["range"], lost["source_rows"], lost["iceberg_rows"]) == ("[334, 445)", 111, 110)
    assert lost["first_differences"] == ["missing from Iceberg: 437"]
    assert (changed["range"], changed["first_differences"]) == ("[445, 556)", ["different values: 555"])
    assert codes["status"] == "mismatch"
    assert codes["mismatched_chunks"][0]["first_differences"] == ["not in MySQL: ZZZZ"]
    assert results["events"]["status"] == results["every_type"]["status"] == "match"


def test_the_command_exits_non_zero_and_prints_the_mismatch(
    loaded: Any, spark: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, server: Any
) -> None:
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password)
    spark.sql(f"DELETE FROM local.`{loaded.db}`.ints WHERE id = 1")

    code = main(["validate", "--manifest", loaded.path])

    out = capsys.readouterr().out
    assert code == 1
    assert f"{loaded.db}.ints: chunk 0 [MIN, 112): 111 rows in MySQL, 110 in Iceberg; missing from Iceberg: 1" in out
    assert "validation: 3/4 tables match the source" in out


def test_a_key_changed_since_the_load_is_a_change_not_a_mismatch(loaded: Any, spark: Any, server: Any) -> None:
    server.execute(f"UPDATE `{loaded.db}`.ints SET v = 'later' WHERE id = 7")

    manifest = validate(loaded.options, loaded.path, spark=spark)

    ints = by_table(manifest)["ints"]
    assert (ints["status"], ints["drift"], ints["changed_since"]) == ("match", True, 1)
    assert ints["binlog_to"]["position"] > manifest.binlog.position
    from cdc_migrate.load.report import run_summary

    assert "4/4 tables match the source (1 keys changed since the load: CDC applies them)" in run_summary(manifest)


def test_a_run_with_validate_checks_every_table_as_it_finishes(
    server: Any, spark: Any, database: str, make_options: OptionsFactory
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.t (id BIGINT PRIMARY KEY, s VARCHAR(5))",
        f"INSERT INTO `{database}`.t VALUES (1, 'a'), (2, NULL), (3, 'c')",
    )

    manifest = run(make_options([f"{database}.t"], run={"validate": True}), spark=spark)

    [table] = manifest.tables
    assert table.validation is not None
    assert (table.validation.status, table.validation.source_rows, table.validation.drift) == (
        "match",
        3,
        False,
    )


def test_a_nullable_split_column_with_nulls_matches(
    server: Any, spark: Any, database: str, make_options: OptionsFactory
) -> None:
    # MySQL counted NULL keys in the first chunk and Spark in the last: a false mismatch.
    server.execute(
        f"CREATE TABLE `{database}`.u (id INT PRIMARY KEY, u INT NULL UNIQUE)",
        f"INSERT INTO `{database}`.u VALUES "
        + ", ".join(f"({i}, {'NULL' if i % 10 == 0 else i})" for i in range(1, 501)),
        f"ANALYZE TABLE `{database}`.u",
    )
    split = {f"{database}.u": {"split_column": "u"}}
    options = make_options([f"{database}.u"], tables={"rows_per_partition": 100, "overrides": split})
    run(options, spark=spark)

    [result] = validate(options, options.run.manifest, spark=spark).tables

    assert result.partitions and result.partitions > 2
    assert result.validation and result.validation.status == "match", result.validation


def test_a_bigint_unsigned_key_beyond_a_long_loads_in_ranges_and_matches(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any
) -> None:
    # Its only key holds values >= 2^63: loaded as decimal(20,0) (the contract), split by row-balanced ranges.
    server.execute(
        f"CREATE TABLE `{database}`.big (id BIGINT UNSIGNED PRIMARY KEY, v INT)",
        f"INSERT INTO `{database}`.big VALUES "
        + ", ".join(f"({2**64 - 1 - i * 7919 * 10**12}, {i})" for i in range(300)),
        f"ANALYZE TABLE `{database}`.big",
    )
    overrides = {f"{database}.big": {"columns": {"id": {"type": "decimal(20,0)"}}}}
    options = make_options([f"{database}.big"], tables={"rows_per_partition": 100, "overrides": overrides})

    [loaded] = run(options, spark=spark).tables
    [checked] = validate(options, options.run.manifest, spark=spark).tables

    assert (loaded.status, loaded.strategy, loaded.rows) == ("loaded", "keyset", 300), loaded.error
    assert loaded.partitions and loaded.partitions >= 3
    assert checked.validation and checked.validation.status == "match", checked.validation
    assert max(r["id"] for r in iceberg(f"{database}.big").scan().to_arrow().to_pylist()) == 2**64 - 1


def test_validate_checks_only_the_tables_asked_for_and_finds_the_manifest_in_the_config(
    loaded: Any,
    spark: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    server: Any,
    tmp_path: Any,
) -> None:
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password)
    config = tmp_path / "v.toml"
    config.write_text(f'[run]\nmanifest = "{loaded.path}"\n')

    code = main(["validate", "--config", str(config), "--tables", f"{loaded.db}.ints"])

    assert code == 0, capsys.readouterr().err
    checked = {t.source.split(".")[1] for t in read_manifest(loaded.path).tables if t.validation}
    assert checked == {"ints"}


def test_validate_against_a_wrong_warehouse_is_an_error_not_a_new_empty_one(
    loaded: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, server: Any, tmp_path: Any
) -> None:
    monkeypatch.setenv("CDC_MIGRATE_SOURCE_PASSWORD", server.password)
    wrong = tmp_path / "not-the-warehouse"

    code = main(["validate", "--manifest", loaded.path, "--warehouse", str(wrong)])

    err = capsys.readouterr().err
    assert code == 2 and f"the local warehouse {wrong} holds no catalog" in err and len(err.splitlines()) == 1
    assert not wrong.exists()


def test_validating_a_load_that_is_not_a_snapshot_at_one_position_says_so(
    server: Any, spark: Any, database: str, make_options: OptionsFactory
) -> None:
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.t VALUES (1)")
    options = make_options([f"{database}.t"], run={"record_binlog_position": False})
    run(options, spark=spark)

    manifest = validate(options, options.run.manifest, spark=spark)

    [table] = manifest.tables
    assert table.validation and table.validation.exact is False and table.validation.status == "match"
    from cdc_migrate.load.report import run_summary

    summary = run_summary(manifest)
    assert "match (inexact load)" in summary and "inexact load: no binlog position was recorded" in summary
