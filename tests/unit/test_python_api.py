"""The library for a Python caller: options from keywords (errors naming the keyword), one setting changed,
constructors refusing a wrong type at once, and results that show themselves in a line and in a notebook."""

from __future__ import annotations

import pytest

import cdc_migrate
from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.errors import ConfigError, OptionTypeError
from cdc_migrate.handoff.manifest import Manifest, TableResult, Validation
from cdc_migrate.naming import TableName
from cdc_migrate.planning.planner import Plan, PlanOutcome
from cdc_migrate.source.binlog import BinlogPosition


def _options(**keywords: object) -> cdc_migrate.Options:
    return cdc_migrate.options(environ={}, **{"source": "mysql://etl@db.internal:3306", "tables": "shop.*", **keywords})


def test_keywords_are_settings_names_and_a_source_url() -> None:
    options = _options(warehouse="wh", max_connections=8, rows_per_partition="100_000", password="pw", force=True)

    assert (options.source.host, options.source.port, options.source.user) == ("db.internal", 3306, "etl")
    assert options.tables.include == ("shop.*",) and options.catalog.warehouse == "wh"
    assert (options.source.max_connections, options.tables.rows_per_partition, options.run.force) == (8, 100_000, True)
    assert options.source.password is not None and options.source.password.reveal() == "pw"
    assert repr(options) == (
        "Options(source=etl@db.internal:3306, password=***, max_connections=8, tables=shop.*, "
        "rows_per_partition=100000, warehouse=wh, force=True)"
    )
    assert "<table class='cdc-migrate'>" in options._repr_html_() and "body{" not in options._repr_html_()


def test_one_setting_changed_is_checked_again_and_errors_name_the_keyword() -> None:
    options = _options()

    assert options.replace(force=True, tables="shop.orders").tables.include == ("shop.orders",)
    assert options.run.force is False  # (frozen: a new Options)
    with pytest.raises(ConfigError, match=r"^parallel_tables=0; load at least 1 table at a time$"):
        options.replace(parallel_tables=0)
    with pytest.raises(ConfigError, match=r"unknown keyword max_conections=3; did you mean max_connections="):
        options.replace(max_conections=3)
    with pytest.raises(ConfigError, match=r"^max_connections='many' is not an integer$"):
        _options(max_connections="many")
    with pytest.raises(ConfigError, match=r"select tables with tables='db\.\*'"):  # not --tables
        _options(source="mysql://etl@db.internal:3306/shop")


def test_constructors_refuse_a_wrong_type_at_once() -> None:
    with pytest.raises(OptionTypeError, match=r"source takes a SourceOptions, not a dict.*cdc_migrate.options"):
        cdc_migrate.Options(source={"host": "db"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"SourceOptions\(port='3306'\): port takes int, not str"):
        SourceOptions(host="db", port="3306")  # type: ignore[arg-type]
    with pytest.raises(OptionTypeError, match="options="):
        cdc_migrate.plan({"tables": "shop.*"})  # type: ignore[arg-type]


def test_results_show_as_a_line_a_notebook_table_and_a_frame() -> None:
    position = BinlogPosition("binlog.000003", 4242, "0-1-77")
    loaded = TableResult(
        "shop.orders", "shop.orders", "loaded", rows=1000, seconds=2.5, reader="arrow", exact_at=position
    )
    failed = TableResult("shop.items", "shop.items", "failed", error="x" * 5000)
    checked = Validation("2026-12-07", status="match", source_rows=1000, iceberg_rows=1000)
    manifest = Manifest(binlog=position, tables=(loaded, failed, TableResult("shop.t", None, "skipped")))

    assert str(position) == "binlog.000003:4242 (GTID set 0-1-77)"
    assert (
        repr(manifest) == "Manifest(3 tables: 1 failed, 1 loaded, 1 skipped; no position; failed: 1 table: shop.items)"
    )
    assert repr(loaded) == (
        "TableResult(shop.orders -> shop.orders: loaded, 1,000 rows, 2.5s, arrow, "
        "exact at binlog.000003:4242 (GTID set 0-1-77))"
    )
    assert len(repr(failed)) < 200 and repr(checked) == "Validation(match, 1,000 rows in MySQL, 1,000 in Iceberg)"
    html = manifest._repr_html_()
    assert html.count("<tr>") == 4 and "class='bad'" in html and "body{" not in html
    frame = manifest.to_arrow()
    assert frame.column_names[:4] == ["source", "target", "status", "reader"] and frame.num_rows == 3

    plan = Plan([PlanOutcome(TableName("shop", "x"), None, error="no such table")])
    assert repr(plan) == "Plan(1 tables: 1 error: shop.x)" and "no such table" in plan._repr_html_()
    assert plan.to_arrow().column("error").to_pylist() == ["no such table"]


def test_validate_is_exported_beside_run() -> None:
    import importlib

    importlib.import_module("cdc_migrate.validation")  # (the subpackage no longer shadows the function)

    assert "validate" in cdc_migrate.__all__ and callable(cdc_migrate.validate)
