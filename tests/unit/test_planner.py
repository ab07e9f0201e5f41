"""Planning the tables of a run without a server: the planner's decisions over the answers the MySQL edge gives
(a stand-in answers as MySQLSource would; tests/integration plans against real servers)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from itertools import pairwise
from typing import Any

import pytest

from cdc_migrate.config.model import Options
from cdc_migrate.config.sections import TableOverride, TablesOptions
from cdc_migrate.errors import ConfigError
from cdc_migrate.naming import TableName
from cdc_migrate.planning.planner import plan_one, plan_tables
from cdc_migrate.source.access import Grants
from cdc_migrate.source.schema import Column, Key, SourceTable


class Answers:
    """What MySQLSource's planning queries return, for given tables (the boundary queries are recorded)."""

    def __init__(self, tables: Sequence[SourceTable], bounds: dict[str, tuple[Key, Key]], grants: Grants) -> None:
        self.tables = {t.name: t for t in tables}
        self._bounds = bounds
        self._grants = grants
        self.boundary_queries: list[tuple[str, int, int, str, str]] = []

    def list_tables(self) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
        out: dict[str, list[str]] = {}
        for name in self.tables:
            out.setdefault(name.namespace, []).append(name.name)
        return out, {}

    def grants(self) -> Grants:
        return self._grants

    def describe(self, names: Iterable[TableName]) -> dict[TableName, SourceTable]:
        return {n: self.tables[n] for n in names}

    def bounds(self, table: TableName, key: Sequence[str]) -> tuple[Key | None, Key | None]:
        return self._bounds.get(str(table), (None, None))

    def key_boundaries(
        self,
        table: TableName,
        key: Sequence[str],
        where_after: Callable[[Key], str],
        step: int,
        limit: int,
        first_where: str,
    ) -> list[Key]:
        lower, _ = self._bounds[str(table)]
        self.boundary_queries.append((str(table), step, limit, first_where, where_after(lower)))
        return [(f"k{i:03d}",) for i in range(1, limit + 1)]

    def readable_columns(self, table: TableName) -> list[str] | str:
        return [c.name for c in self.tables[table].columns]


EVERYTHING = Grants("'etl'@'%'", everything=True)


def col(name: str, data_type: str = "int", **more: Any) -> Column:
    return Column(name, data_type, more.pop("column_type", data_type), more.pop("nullable", False), **more)


def table(name: str, *columns: Column, pk: tuple[str, ...] = ("id",), rows: int = 10_000) -> SourceTable:
    return SourceTable(TableName.parse(name), columns, pk, rows)


SELECTION = TablesOptions(include=("shop.*",), rows_per_partition=1_000, max_partitions=8)


def test_an_evenly_spread_integer_key_gets_a_stride_and_no_boundary_queries() -> None:
    orders = table("shop.orders", col("id"))
    answers = Answers([orders], {"shop.orders": ((1,), (10_000,))}, EVERYTHING)

    plan = plan_one(answers, orders, orders.name, SELECTION, None)  # type: ignore[arg-type]

    assert (plan.strategy, plan.partitions, plan.boundaries[0]) == (
        "stride",
        8,
        (1_251,),
    )  # Spark's stride: 1 + (10000/8 - 1/8)
    assert answers.boundary_queries == []


def test_a_text_key_gets_row_balanced_ranges_found_by_mysql_with_its_collation() -> None:
    codes = table(
        "shop.codes", col("code", "varchar", character_set="utf8mb4", collation="utf8mb4_general_ci"), pk=("code",)
    )
    answers = Answers([codes], {"shop.codes": (("a",), ("z",))}, EVERYTHING)

    plan = plan_one(answers, codes, codes.name, SELECTION, None)  # type: ignore[arg-type]

    assert plan.strategy == "keyset" and plan.partitions == 8
    [(name, step, limit, first, after)] = answers.boundary_queries
    assert (name, step, limit) == ("shop.codes", 1_250, 7)
    upper = "CONVERT(_utf8mb4 X'7a' USING utf8mb4) COLLATE utf8mb4_general_ci"
    assert first == f"`code` IS NOT NULL AND (`code` <= {upper})"
    assert (
        after == f"(`code` > CONVERT(_utf8mb4 X'61' USING utf8mb4) COLLATE utf8mb4_general_ci) AND (`code` <= {upper})"
    )


def test_a_named_split_column_wins_over_the_primary_key() -> None:
    events = table("shop.events", col("id", "varchar"), col("seq"))
    answers = Answers([events], {"shop.events": ((1,), (10_000,))}, EVERYTHING)

    plan = plan_one(answers, events, events.name, SELECTION, TableOverride(split_column="seq"))  # type: ignore[arg-type]

    assert plan.key == ("seq",) and plan.strategy == "stride"


def _options(**tables: Any) -> Options:
    return Options.from_mapping(
        {
            "source": {"host": "db", "user": "etl"},
            "tables": {"include": ["shop.*"], "rows_per_partition": 1000, **tables},
        }
    )


def test_each_table_plans_alone_and_one_that_cannot_carries_its_error(caplog: pytest.LogCaptureFixture) -> None:
    good = table("shop.good", col("id"))
    odd = table("shop.odd", col("id"), col("v", "vector"))
    log = table("shop.log", col("line", "text"), pk=())
    answers = Answers([good, odd, log], {"shop.good": ((1,), (10_000,))}, EVERYTHING)

    with caplog.at_level(logging.WARNING):
        outcomes = {str(o.source): o for o in plan_tables(answers, _options()).tables}  # type: ignore[arg-type]

    assert outcomes["shop.good"].plan is not None and outcomes["shop.good"].plan.partitions == 9
    assert outcomes["shop.odd"].plan is None and "VECTOR" in (outcomes["shop.odd"].error or "")
    assert outcomes["shop.log"].plan is not None and outcomes["shop.log"].plan.partitions == 1
    assert [r.message for r in caplog.records].count(outcomes["shop.log"].plan.note) == 1


def test_an_override_naming_a_missing_table_of_a_loaded_database_is_a_typo() -> None:
    answers = Answers([table("shop.orders", col("id"))], {}, EVERYTHING)

    with pytest.raises(ConfigError, match=r"tables.overrides name a table that does not exist: shop.ordrs"):
        plan_tables(answers, _options(overrides={"shop.ordrs": {"split_column": "id"}}))  # type: ignore[arg-type]
    # an override for a database this run does not load is not checked
    plan_tables(answers, _options(overrides={"crm.people": {"split_column": "id"}}))  # type: ignore[arg-type]


def test_two_tables_written_to_one_target_stop_the_plan() -> None:
    answers = Answers([table("shop.a", col("id")), table("shop.b", col("id"))], {}, EVERYTHING)

    with pytest.raises(ConfigError, match=r"shop.a, shop.b -> shop.a"):
        plan_tables(answers, _options(overrides={"shop.b": {"target": "a"}}))  # type: ignore[arg-type]


def test_a_table_the_user_may_not_read_whole_is_an_error_with_the_grant() -> None:
    secret = table("shop.secret", col("id"), col("salary"))
    grants = Grants("'etl'@'%'", tables=frozenset({("shop", "other")}), columns={("shop", "secret"): frozenset({"id"})})
    answers = Answers([secret], {}, grants)

    [outcome] = plan_tables(answers, _options(include=["shop.secret"])).tables  # type: ignore[arg-type]

    assert outcome.plan is None and "GRANT SELECT ON `shop`.`secret` TO 'etl'@'%'" in (outcome.error or "")


class Keys(Answers):
    """Answers for one integer-keyed table whose key values are `keys`; estimates are exact counts (the
    optimizer's are approximate) and are counted."""

    def __init__(self, tables: Sequence[SourceTable], keys: list[int]) -> None:
        super().__init__(tables, {str(t.name): ((min(keys),), (max(keys),)) for t in tables}, EVERYTHING)
        self.keys = sorted(keys)
        self.dives = 0

    def estimate_rows(self, table: TableName, column: str, lo: int, hi: int) -> int:
        import bisect

        self.dives += 1
        return bisect.bisect_left(self.keys, hi) - bisect.bisect_left(self.keys, lo)


def test_a_skewed_integer_key_is_cut_by_estimates_from_the_index_without_a_walk() -> None:
    keys = list(range(1, 20_001)) + [10**12 + i * 10**9 for i in range(20)]  # dense ids, then a sparse tail
    skewed = table("shop.skewed", col("id", "bigint"), rows=len(keys))
    answers = Keys([skewed], keys)

    plan = plan_one(answers, skewed, skewed.name, SELECTION, None)  # type: ignore[arg-type]

    assert plan.strategy == "keyset" and answers.boundary_queries == [] and answers.dives < 400
    edges = [1, *(b[0] for b in plan.boundaries), 10**13]
    sizes = [sum(1 for k in keys if lo <= k < hi) for lo, hi in pairwise(edges)]
    assert len(sizes) == 8 and max(sizes) <= 1.3 * len(keys) / 8, sizes


def test_a_composite_key_is_cut_on_its_leading_column_by_estimates() -> None:
    orders = table("shop.orders", col("tenant"), col("no"), pk=("tenant", "no"), rows=10_000)
    answers = Keys([orders], [t for t in range(100) for _ in range(100)])
    answers._bounds["shop.orders"] = ((0, 0), (99, 99))

    plan = plan_one(answers, orders, orders.name, SELECTION, None)  # type: ignore[arg-type]

    assert plan.key == ("tenant",) and plan.partitions == 8 and answers.boundary_queries == []
    sizes = [hi - lo for lo, hi in pairwise([0, *(b[0] for b in plan.boundaries), 100])]  # tenants per partition
    assert len(sizes) == 8 and max(sizes) <= 1.5 * 100 / 8, sizes


def test_a_composite_key_with_a_hot_leading_value_is_walked_on_the_whole_key() -> None:
    orders = table("shop.orders", col("tenant"), col("no"), pk=("tenant", "no"), rows=10_000)
    keys = [0] * 5_000 + [t for t in range(1, 100) for _ in range(50)]  # tenant 0 holds half the rows
    answers = Keys([orders], keys)
    answers._bounds["shop.orders"] = ((0, 0), (99, 49))

    plan = plan_one(answers, orders, orders.name, SELECTION, None)  # type: ignore[arg-type]

    assert plan.key == ("tenant", "no") and answers.boundary_queries != []  # split inside tenant 0 as well


class InnoDBKeys(Keys):
    """Estimates as InnoDB gives them on a big table: each range over-estimated alike (1.8x), and a range
    capped at half the table's rows (records_in_range), so the whole range's estimate is far too low."""

    def estimate_rows(self, table: TableName, column: str, lo: int, hi: int) -> int:
        return min(int(1.8 * super().estimate_rows(table, column, lo, hi)), len(self.keys) // 2)


def test_a_balanced_composite_key_is_estimated_even_when_innodb_caps_the_whole_ranges_estimate() -> None:
    orders = table("shop.orders", col("tenant"), col("no"), pk=("tenant", "no"), rows=100_000)
    answers = InnoDBKeys([orders], [t for t in range(100) for _ in range(1_000)])
    answers._bounds["shop.orders"] = ((0, 0), (99, 999))
    selection = TablesOptions(include=("shop.*",), rows_per_partition=1_250, max_partitions=80)

    plan = plan_one(answers, orders, orders.name, selection, None)  # type: ignore[arg-type]

    assert plan.key == ("tenant",) and plan.partitions == 80 and answers.boundary_queries == []
