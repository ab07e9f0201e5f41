from __future__ import annotations

import pytest

from cdc_migrate.config import TableOverride, TablesOptions
from cdc_migrate.errors import PlanningError
from cdc_migrate.naming import TableName
from cdc_migrate.planning import (
    Column,
    Partitioning,
    SourceTable,
    choose_split_column,
    partition_count,
    plan_table,
    seed_partition_count,
)
from cdc_migrate.typemap import map_table

SETTINGS = Partitioning(rows_per_partition=1000, min_partitions=2, max_partitions=10)


def col(name: str, data_type: str = "int", nullable: bool = False) -> Column:
    return Column(name=name, data_type=data_type, column_type=data_type, nullable=nullable)


def table(*columns: Column, pk: tuple[str, ...] = ()) -> SourceTable:
    return SourceTable(name=TableName("shop", "t"), columns=columns, primary_key=pk, estimated_rows=5)


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (1, 5_000, 4),  # (5000 - 1) / 1000 = 4.999 -> 4
        (0, 100, 2),  # below min_partitions -> 2
        (0, 1_000_000, 10),  # above max_partitions -> 10
        (-5_000, 5_000, 10),
        (7, 7, 2),  # the seed formula alone clamps to min_partitions
    ],
    ids=["span", "min", "max", "negative", "equal"],
)
def test_seed_rule(lo: int, hi: int, expected: int) -> None:
    assert seed_partition_count(lo, hi, SETTINGS) == expected


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (None, None, 1),  # empty table or only NULL keys
        (7, 7, 1),  # one key value: Spark reads one partition
        (1, 2, 1),  # span 1: Spark never makes more partitions than upper - lower
        (1, 4, 2),
        (-3_000, 3_000, 6),
        (1, 5_000, 4),
    ],
    ids=["none", "equal", "span-1", "span-3", "negative", "normal"],
)
def test_partition_count_is_what_spark_really_uses(lo: int | None, hi: int | None, expected: int) -> None:
    assert partition_count(lo, hi, SETTINGS) == expected


def test_spark_caps_partitions_at_the_key_span() -> None:
    many = Partitioning(rows_per_partition=1, min_partitions=8, max_partitions=8)

    assert partition_count(1, 4, many) == 3


def test_override_settings_win_over_the_defaults() -> None:
    defaults = TablesOptions(rows_per_partition=100, min_partitions=1, max_partitions=50)

    got = Partitioning.for_table(defaults, TableOverride(rows_per_partition=7, max_partitions=3))

    assert got == Partitioning(rows_per_partition=7, min_partitions=1, max_partitions=3)


def test_the_first_primary_key_column_splits_by_default() -> None:
    t = table(col("a"), col("b"), pk=("b", "a"))

    assert choose_split_column(t, None).name == "b"


def test_a_named_split_column_wins_and_is_matched_case_insensitively() -> None:
    t = table(col("id"), col("Other"), pk=("id",))

    assert choose_split_column(t, TableOverride(split_column="other")).name == "Other"


def test_no_primary_key_is_an_error_naming_the_override() -> None:
    with pytest.raises(PlanningError, match=r'shop\.t has no primary key.*tables\.overrides\."shop\.t"\.split_column'):
        choose_split_column(table(col("a")), None)


def test_unknown_split_column_lists_the_columns() -> None:
    with pytest.raises(PlanningError, match="'nope' named for shop.t does not exist; its columns are a, b"):
        choose_split_column(table(col("a"), col("b")), TableOverride(split_column="nope"))


@pytest.mark.parametrize("data_type", ["varchar", "datetime", "decimal", "double", "binary"])
def test_non_integer_split_key_is_an_error_for_now(data_type: str) -> None:
    t = table(col("k", data_type), pk=("k",))

    with pytest.raises(PlanningError, match=f"is {data_type}; only integer columns can split a read"):
        choose_split_column(t, None)


def test_plan_carries_bounds_and_effective_partitions() -> None:
    t = table(col("id"), pk=("id",))

    plan = plan_table(t, TableName("shop", "t"), t.columns[0], (-10, 10_000), SETTINGS, map_table(t))

    assert (plan.split_column, plan.lower, plan.upper, plan.partitions, plan.strategy) == (
        "id",
        -10,
        10_000,
        10,
        "stride",
    )


def test_bounds_beyond_64_bits_are_an_error_not_a_wrap() -> None:
    t = table(Column("id", "bigint", "bigint unsigned", False), pk=("id",))

    with pytest.raises(PlanningError, match="18446744073709551615, beyond the 64-bit range"):
        plan_table(t, TableName("shop", "t"), t.columns[0], (0, 2**64 - 1), SETTINGS, map_table(t))
