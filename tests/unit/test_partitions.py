from __future__ import annotations

from dataclasses import replace

import pytest

from cdc_migrate.config.sections import TableOverride, TablesOptions
from cdc_migrate.contract.mapping import map_table
from cdc_migrate.errors import PlanningError
from cdc_migrate.naming import TableName
from cdc_migrate.planning.partitions import (
    Partitioning,
    choose_split_key,
    decide,
    distribution_factor,
    partition_count,
    plan_table,
    stride_boundaries,
)
from cdc_migrate.source.schema import Column, SourceTable

SETTINGS = Partitioning(rows_per_partition=1000, min_partitions=2, max_partitions=10)


def col(name: str, data_type: str = "int", nullable: bool = False) -> Column:
    return Column(name=name, data_type=data_type, column_type=data_type, nullable=nullable)


def table(*columns: Column, pk: tuple[str, ...] = (), rows: int = 5) -> SourceTable:
    return SourceTable(name=TableName("shop", "t"), columns=columns, primary_key=pk, estimated_rows=rows)


@pytest.mark.parametrize(
    ("units", "expected"),
    [(4_999, 4), (100, 2), (1_000_000, 10), (0, 2)],
    ids=["span", "min", "max", "none"],
)
def test_seed_rule(units: int, expected: int) -> None:
    assert SETTINGS.count(units) == expected


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [(None, None, 1), (7, 7, 1), (1, 2, 1), (1, 4, 2), (-3_000, 3_000, 6), (1, 5_000, 4)],
    ids=["none", "equal", "span-1", "span-3", "negative", "normal"],
)
def test_stride_partition_count_is_what_spark_would_use(lo: int | None, hi: int | None, expected: int) -> None:
    assert partition_count(lo, hi, SETTINGS) == expected


def test_stride_caps_partitions_at_the_key_span() -> None:
    assert partition_count(1, 4, Partitioning(rows_per_partition=1, min_partitions=8, max_partitions=8)) == 3


@pytest.mark.parametrize(
    ("lo", "hi", "n", "expected"),
    [
        (1, 100, 4, [(26,), (51,), (76,)]),  # stride = 100/4 - 1/4 = 25
        (-7, 7, 2, [(-7,)]),  # stride = 7/2 - (-7/2) = 3 - (-3) = 6 -> -1; JVM division truncates
        (0, 10, 3, [(3,), (6,)]),
    ],
)
def test_stride_boundaries_follow_sparks_arithmetic(lo: int, hi: int, n: int, expected: list[tuple[int]]) -> None:
    stride = {(1, 100, 4): 25, (-7, 7, 2): 6, (0, 10, 3): 3}[(lo, hi, n)]
    assert stride_boundaries(lo, hi, n) == tuple((lo + i * stride,) for i in range(1, n))
    if (lo, hi, n) != (-7, 7, 2):
        assert list(stride_boundaries(lo, hi, n)) == expected


def test_distribution_factor() -> None:
    assert distribution_factor(1, 1000, 1000) == 1.0
    assert distribution_factor(1, 10**12, 5_000_000) > 10


def test_even_keys_get_a_stride_and_skewed_keys_row_balanced_ranges() -> None:
    ids = table(col("id"), pk=("id",), rows=5_000)
    key = choose_split_key(ids, None)
    assert key is not None

    assert decide(ids, key, (1,), (5_000,), SETTINGS)[:2] == ("stride", 4)
    # 5000 rows spread to 10^12: the span would make max_partitions of nearly empty ranges
    strategy, n, note = decide(ids, key, (1,), (10**12,), SETTINGS)
    assert (strategy, n) == ("keyset", 5)  # by the row count: 5000 / 1000
    assert "unevenly spread" in note


@pytest.mark.parametrize(
    ("columns", "pk"),
    [
        ((col("a"), col("b", "varchar")), ("a", "b")),
        ((col("code", "varchar"),), ("code",)),
        ((col("d", "datetime"),), ("d",)),
    ],
    ids=["composite", "string", "datetime"],
)
def test_other_keys_get_row_balanced_ranges(columns: tuple[Column, ...], pk: tuple[str, ...]) -> None:
    t = table(*columns, pk=pk, rows=3_000)
    key = choose_split_key(t, None)
    assert key is not None and key.names == pk

    assert decide(t, key, ("a",) * len(pk), ("z",) * len(pk), SETTINGS)[:2] == ("keyset", 3)


def test_empty_and_small_tables_are_read_in_one_partition() -> None:
    t = table(col("id"), pk=("id",), rows=10)
    key = choose_split_key(t, None)
    assert key is not None
    one = Partitioning(rows_per_partition=1000, min_partitions=1, max_partitions=10)

    assert decide(t, key, None, None, one)[:2] == ("single", 1)
    assert decide(t, key, (1,), (10,), one)[:2] == ("single", 1)


def test_the_whole_primary_key_splits_by_default_and_a_named_column_wins() -> None:
    t = table(col("a"), col("b"), col("Other"), pk=("b", "a"))

    assert choose_split_key(t, None).names == ("b", "a")  # type: ignore[union-attr]
    assert choose_split_key(t, TableOverride(split_column="other")).names == ("Other",)  # type: ignore[union-attr]


def test_no_primary_key_means_one_partition_unless_a_column_is_named() -> None:
    t = table(col("a", nullable=True))

    assert choose_split_key(t, None) is None
    plan = plan_table(t, t.name, map_table(t), SETTINGS, None, note="no key")
    assert (plan.strategy, plan.partitions, plan.note) == ("single", 1, "no key")
    assert choose_split_key(t, TableOverride(split_column="a")).nullable  # type: ignore[union-attr]


def test_a_key_that_cannot_be_range_compared_means_one_partition() -> None:
    assert choose_split_key(table(col("e", "enum"), pk=("e",)), None) is None
    with pytest.raises(PlanningError, match="split column 'j' of shop.t is json, which cannot be split"):
        choose_split_key(table(col("j", "json")), TableOverride(split_column="j"))


def test_unknown_split_column_lists_the_columns() -> None:
    with pytest.raises(PlanningError, match="'nope' named for shop.t does not exist; its columns are a, b"):
        choose_split_key(table(col("a"), col("b")), TableOverride(split_column="nope"))


def test_a_stride_plan_has_ranges_closed_at_the_planning_bounds() -> None:
    t = table(col("id"), pk=("id",), rows=10_000)

    plan = plan_table(t, t.name, map_table(t), SETTINGS, choose_split_key(t, None), (-10,), (10_000,))

    assert (plan.strategy, plan.partitions, plan.lower, plan.upper) == ("stride", 10, (-10,), (10_000,))
    assert plan.boundaries[0] == (-10 + 1001,)  # stride = 10000/10 - (-10/10) = 1001


def test_merging_keeps_fewer_ranges_over_the_same_span() -> None:
    t = table(col("id"), pk=("id",), rows=10_000)
    plan = plan_table(t, t.name, map_table(t), SETTINGS, choose_split_key(t, None), (0,), (10_000,))

    merged = plan.merged(3)

    assert merged.partitions <= 3 and set(merged.boundaries) <= set(plan.boundaries)
    assert (merged.lower, merged.upper) == (plan.lower, plan.upper)
    assert plan.merged(50) is plan


def test_a_bigint_unsigned_key_beyond_64_bits_gets_row_balanced_ranges_not_a_wrap() -> None:
    t = table(Column("id", "bigint", "bigint unsigned", False), pk=("id",), rows=30)
    boundaries = ((2**63,), (2**64 - 10,))

    p = plan_table(
        t,
        t.name,
        map_table(t),
        replace(SETTINGS, rows_per_partition=10),
        choose_split_key(t, None),
        (0,),
        (2**64 - 1,),
        boundaries,
    )

    assert (p.strategy, p.boundaries) == ("keyset", boundaries)


def test_table_defaults_and_overrides_combine() -> None:
    defaults = TablesOptions(rows_per_partition=100, min_partitions=1, max_partitions=50, even_distribution_max=3)

    got = Partitioning.for_table(defaults, TableOverride(rows_per_partition=7, max_partitions=3))

    assert got == Partitioning(rows_per_partition=7, min_partitions=1, max_partitions=3, even_distribution_max=3)
