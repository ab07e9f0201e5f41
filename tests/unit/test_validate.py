"""How validation cuts a table into chunks and encodes rows (pure); the real comparison against MySQL
and Iceberg is in tests/integration/test_validate.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cdc_migrate.config.sections import ColumnOverride, TableOverride
from cdc_migrate.contract.mapping import map_table
from cdc_migrate.naming import TableName
from cdc_migrate.planning.partitions import Partitioning, TablePlan
from cdc_migrate.source.schema import Column, SourceTable
from cdc_migrate.validation.checksum import encoding
from cdc_migrate.validation.chunks import chunks_for
from cdc_migrate.validation.validator import MAX_CHUNKS, _chunking


def plan(*columns: Column, key: tuple[str, ...], boundaries: tuple[tuple[object, ...], ...]) -> TablePlan:
    table = SourceTable(TableName("shop", "t"), columns, primary_key=key, estimated_rows=1000)
    return TablePlan(
        table,
        TableName("shop", "t"),
        map_table(table),
        Partitioning(100, 1, 10),
        strategy="stride" if boundaries else "single",
        key=key,
        boundaries=boundaries,
    )


def col(name: str, data_type: str = "int", collation: str | None = None, nullable: bool = False) -> Column:
    return Column(name, data_type, data_type, nullable, collation=collation)


def test_integer_keys_are_cut_into_the_loads_key_ranges() -> None:
    p = plan(col("id"), col("v", "varchar"), key=("id",), boundaries=((101,), (201,)))

    chunks = chunks_for(p, encoding(p.mapping, p.key))

    assert (chunks.mode, chunks.count) == ("range", 3)
    assert chunks.labels == ("[MIN, 101)", "[101, 201)", "[201, MAX]")
    assert chunks.mysql_where[0] == "((`id` < 101)) OR `id` IS NULL"  # NULL keys sort first, as the load reads them
    assert chunks.mysql_where[1] == "(`id` >= 101) AND (`id` < 201)"
    assert chunks.spark_chunk == (
        "CASE WHEN `id` IS NULL THEN 0 WHEN `id` < 101L THEN 0 WHEN `id` < 201L THEN 1 ELSE 2 END"
    )


def test_keys_that_mysql_and_iceberg_order_differently_are_hashed_into_buckets() -> None:
    ci = plan(col("code", "varchar", "utf8mb4_general_ci"), key=("code",), boundaries=(("K",), ("T",)))
    binary = plan(col("code", "varchar", "utf8mb4_bin"), key=("code",), boundaries=(("K",), ("T",)))
    micros = plan(col("at", "datetime"), key=("at",), boundaries=(("2024-01-01",),))

    assert (chunks_for(ci, encoding(ci.mapping, ci.key)).mode, chunks_for(ci, encoding(ci.mapping, ci.key)).count) == (
        "hash",
        3,
    )
    assert chunks_for(binary, encoding(binary.mapping, binary.key)).mode == "range"
    assert chunks_for(micros, encoding(micros.mapping, micros.key)).mode == "hash"


def test_a_table_read_in_one_partition_is_one_chunk() -> None:
    p = plan(col("id"), key=("id",), boundaries=())

    chunks = chunks_for(p, encoding(p.mapping, p.key))

    assert (chunks.mode, chunks.count, chunks.labels) == ("whole", 1, ("the whole table",))


def test_floating_point_columns_are_compared_by_presence_only() -> None:
    p = plan(col("id"), col("f", "float", nullable=True), col("d", "double", nullable=True), key=("id",), boundaries=())

    enc = encoding(p.mapping, p.key)

    assert enc.uncompared == ("f", "d")
    assert "ISNULL(`f`)" in enc.mysql_row and "`f`" not in enc.mysql_row.replace("ISNULL(`f`)", "")
    assert "isnull(`d`)" in enc.spark_row


def test_a_column_loaded_as_text_is_compared_as_text() -> None:
    table = SourceTable(TableName("shop", "t"), (col("id"), col("t", "decimal", nullable=True)), ("id",), 1)
    mapping = map_table(table, {"t": ColumnOverride(type="string")})

    enc = encoding(mapping, ("id",))

    assert "CONVERT(CAST(`t` AS CHAR) USING utf8mb4)" in enc.mysql_row
    assert "format_number" not in enc.spark_row


def test_validation_chunks_follow_the_load_unless_a_chunk_size_is_given() -> None:
    loaded = TableOverride(rows_per_partition=500, max_partitions=20, split_column="id")

    assert _chunking(loaded, None) == loaded
    assert _chunking(loaded, 40) == replace(loaded, rows_per_partition=40, min_partitions=1, max_partitions=MAX_CHUNKS)
    assert _chunking(None, 40) == TableOverride(rows_per_partition=40, min_partitions=1, max_partitions=MAX_CHUNKS)


def test_a_chunk_size_below_one_row_is_refused() -> None:
    import pytest

    from cdc_migrate.errors import ConfigError

    with pytest.raises(ConfigError, match="--chunk-rows must be a positive number of rows, not 0"):
        _chunking(None, 0)


def _compared() -> Any:
    from cdc_migrate.validation.sides import DIFFERENT, EXTRA, MISSING, Difference
    from cdc_migrate.validation.validator import Compared

    p = plan(col("id"), col("v", "varchar"), key=("id",), boundaries=((101,), (201,)))
    enc = encoding(p.mapping, p.key)
    found = [Difference(0, DIFFERENT, "7"), Difference(0, MISSING, "9"), Difference(2, EXTRA, "250")]
    sums = {0: (100, 1), 1: (100, 2), 2: (100, 3)}
    return Compared(chunks_for(p, enc), sums, {0: (99, 5), 1: (100, 2), 2: (101, 6)}, [0, 2], found, True, enc)


def test_differences_in_keys_changed_since_the_load_are_counted_not_mismatched() -> None:
    from cdc_migrate.validation.validator import verdict

    compared = _compared()

    all_changed = verdict(compared, {"7", "9", "250"}, [])
    one_not = verdict(compared, {"7", "250"}, [])
    unknown = verdict(compared, None, [])

    assert (all_changed.status, all_changed.changed_since, all_changed.mismatched_chunk_count) == ("match", 3, 0)
    assert (one_not.status, one_not.changed_since, one_not.mismatched_chunk_count) == ("mismatch", 2, 1)
    assert [(c.chunk, c.range, c.first_differences) for c in one_not.mismatched_chunks or ()] == [
        (0, "[MIN, 101)", ("missing from Iceberg: 9",))
    ]
    assert (unknown.status, unknown.changed_since, unknown.mismatched_chunk_count) == ("mismatch", None, 2)
    assert [c.first_differences for c in unknown.mismatched_chunks or ()] == [
        ("different values: 7", "missing from Iceberg: 9"),
        ("not in MySQL: 250",),
    ]
