from __future__ import annotations

import pytest

from cdc_migrate.errors import ConfigError, PlanningError
from cdc_migrate.naming import TableName, check_collisions, normalize, problem, target_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Orders", "orders"),
        ("order-items", "order_items"),
        ("_tmp_", "tmp"),
        ("My Table$2", "my_table_2"),
        ("x" * 300, "x" * 255),
        ("___", ""),
    ],
    ids=["case", "dash", "edges", "symbols", "long", "nothing-left"],
)
def test_normalize(name: str, expected: str) -> None:
    assert normalize(name) == expected


@pytest.mark.parametrize(
    ("name", "kind", "ok"),
    [
        ("orders", "table", True),
        ("a", "table", True),
        ("9lives", "table", True),
        ("Orders", "table", False),
        ("orders_", "table", False),
        ("", "table", False),
        ("aws_logs", "namespace", False),
        ("aws_logs", "table", True),
    ],
)
def test_s3_tables_rules(name: str, kind: str, ok: bool) -> None:
    assert (problem(name, kind) is None) is ok


def test_target_defaults_to_the_normalised_source_names() -> None:
    assert target_name(TableName("Shop-EU", "Orders"), None, None) == TableName("shop_eu", "orders")


def test_configured_namespace_and_override_targets() -> None:
    src = TableName("shop", "orders")
    assert target_name(src, "lake", None) == TableName("lake", "orders")
    assert target_name(src, "lake", "orders_v2") == TableName("lake", "orders_v2")
    assert target_name(src, "lake", "other.orders_v2") == TableName("other", "orders_v2")


def test_invalid_override_target_is_refused_not_rewritten() -> None:
    with pytest.raises(PlanningError, match=r"target 'Orders' for shop.orders.*tables.overrides"):
        target_name(TableName("shop", "orders"), None, "Orders")


def test_database_names_reserved_by_s3_tables_need_a_namespace() -> None:
    with pytest.raises(PlanningError, match=r"begins with 'aws'.*\[catalog\] namespace"):
        target_name(TableName("aws_data", "t"), None, None)
    with pytest.raises(ConfigError, match="catalog.namespace"):
        target_name(TableName("shop", "t"), "AWS", None)


def test_collisions_are_listed() -> None:
    pairs = [
        (TableName("shop", "Orders"), TableName("shop", "orders")),
        (TableName("shop", "orders"), TableName("shop", "orders")),
        (TableName("shop", "items"), TableName("shop", "items")),
    ]
    with pytest.raises(ConfigError, match=r"shop.Orders, shop.orders -> shop.orders") as err:
        check_collisions(pairs)
    assert "items" not in str(err.value)
