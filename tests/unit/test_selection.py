from __future__ import annotations

import pytest

from cdc_migrate.errors import ConfigError
from cdc_migrate.naming import TableName
from cdc_migrate.source.selection import select_tables

SERVER = {
    "shop": ["orders", "order_items", "customers", "tmp_x"],
    "crm": ["leads"],
    "empty": [],
    "mysql": ["user"],
}


def names(*items: str) -> list[TableName]:
    return sorted(TableName.parse(i) for i in items)


def test_patterns_and_literals() -> None:
    got = select_tables(SERVER, ["shop.order*", "crm.leads"])

    assert got == names("crm.leads", "shop.order_items", "shop.orders")


def test_excludes_remove_from_the_selection() -> None:
    assert select_tables(SERVER, ["shop.*"], ["shop.tmp_*", "shop.customers"]) == names(
        "shop.order_items", "shop.orders"
    )


def test_database_wildcards_skip_system_databases() -> None:
    got = select_tables(SERVER, ["*.*"])

    assert TableName("mysql", "user") not in got
    assert TableName("crm", "leads") in got


def test_unknown_database_lists_the_databases() -> None:
    with pytest.raises(
        ConfigError,
        match=r"'shopp.\*' names a database that does not exist; databases on the "
        r"server: crm, empty, shop",
    ):
        select_tables(SERVER, ["shopp.*"])


def test_unknown_table_lists_the_tables_of_its_database() -> None:
    with pytest.raises(ConfigError, match=r"table 'crm.lead' does not exist; tables in crm: leads"):
        select_tables(SERVER, ["crm.lead"])


def test_a_view_is_named_as_a_view() -> None:
    with pytest.raises(ConfigError, match="crm.v_leads is a view"):
        select_tables(SERVER, ["crm.v_leads"], views={"crm": ["v_leads"]})


def test_a_pattern_matching_nothing_is_an_error() -> None:
    with pytest.raises(ConfigError, match="matches no table in empty"):
        select_tables(SERVER, ["empty.*"])


def test_excluding_everything_is_an_error() -> None:
    with pytest.raises(ConfigError, match="remove every selected table"):
        select_tables(SERVER, ["crm.*"], ["crm.*"])
