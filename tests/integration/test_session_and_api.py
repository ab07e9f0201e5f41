"""Existing sessions (notebooks, Glue), the public API as a notebook uses it, and binary logging off."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cdc_migrate
from cdc_migrate.errors import BinlogError, SessionError
from cdc_migrate.testing.server import ThrowawayServer

from .conftest import EXTERNAL_URL, OptionsFactory


def test_a_notebook_uses_the_public_api_with_its_own_session(
    spark: Any, server: Any, database: str, warehouse: Path, tmp_path: Path
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.events (id BIGINT PRIMARY KEY, kind CHAR(6))",
        f"INSERT INTO `{database}`.events VALUES (1, 'click'), (2, 'view'), (3, 'click')",
    )
    config = tmp_path / "nb.toml"
    config.write_text(
        f'[source]\nhost = "{server.host}"\nport = {server.port}\nuser = "{server.user}"\n'
        f'[tables]\ninclude = ["{database}.events"]\n[catalog]\nwarehouse = "{warehouse}"\n'
        f'[run]\nmanifest = "{tmp_path / "m.json"}"\n'
    )
    options = cdc_migrate.resolve_options(config, {"CDC_MIGRATE_SOURCE_PASSWORD": server.password})

    [planned] = cdc_migrate.plan(options)
    settings = cdc_migrate.spark_settings(options.catalog)
    manifest = cdc_migrate.run(options, spark=spark)
    table = cdc_migrate.open_table(options, f"{database}.events")

    assert planned.plan is not None and planned.plan.split_column == "id"
    assert settings["spark.sql.readSideCharPadding"] == "false"
    assert manifest.tables[0].status == "loaded"
    assert sorted(r["kind"] for r in table.scan().to_arrow().to_pylist()) == ["click", "click", "view"]
    assert spark.table(f"local.{database}.events").count() == 3


def test_runtime_settings_are_applied_to_an_existing_session(spark: Any, warehouse: Path) -> None:
    options = cdc_migrate.Options.from_mapping({"catalog": {"kind": "local", "warehouse": str(warehouse)}})
    spark.conf.set("spark.sql.readSideCharPadding", "true")
    spark.conf.set("spark.sql.session.timeZone", "Asia/Seoul")
    try:
        cdc_migrate.prepare_session(spark, cdc_migrate.settings_for(options, launching=False))

        assert spark.conf.get("spark.sql.readSideCharPadding") == "false"
        assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    finally:
        spark.conf.set("spark.sql.readSideCharPadding", "false")
        spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_a_session_with_the_catalog_defined_elsewhere_is_refused(spark: Any, tmp_path: Path) -> None:
    other = cdc_migrate.Options.from_mapping({"catalog": {"kind": "local", "warehouse": str(tmp_path / "other")}})

    with pytest.raises(SessionError, match=r"already defines the catalog differently: spark.sql.catalog.local.uri="):
        cdc_migrate.prepare_session(spark, cdc_migrate.settings_for(other, launching=False))


def test_a_run_refused_for_a_second_warehouse_leaves_no_directory_and_the_session_as_it_was(
    spark: Any, server: Any, database: str, make_options: OptionsFactory, tmp_path: Path
) -> None:
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)")
    other = tmp_path / "second-warehouse"
    options = make_options([f"{database}.t"], catalog={"warehouse": str(other)})
    before = spark.conf.get("spark.sql.catalog.local.uri")

    with pytest.raises(SessionError, match=r"already defines the catalog differently"):
        cdc_migrate.run(options, spark=spark)

    assert not other.exists()  # the directory the run made for it is gone with the refusal
    assert spark.conf.get("spark.sql.catalog.local.uri") == before


@pytest.fixture(scope="module")
def server_without_binlog() -> Iterator[ThrowawayServer]:
    if os.environ.get(EXTERNAL_URL):
        pytest.skip("needs a second, throwaway server with binary logging off")
    with ThrowawayServer(log_bin=False) as server:
        server.execute(
            "CREATE DATABASE nolog", "CREATE TABLE nolog.t (id INT PRIMARY KEY)", "INSERT INTO nolog.t VALUES (1), (2)"
        )
        yield server


def test_binary_logging_off_stops_the_run_before_anything_is_read(
    server_without_binlog: ThrowawayServer, make_options: OptionsFactory, tmp_path: Path
) -> None:
    options = make_options(["nolog.*"], source={"port": server_without_binlog.port})

    with pytest.raises(BinlogError, match="binary logging is off .* --no-binlog-position"):
        cdc_migrate.run(options)
    assert not (tmp_path / "manifest.json").exists()


def test_opting_out_of_the_position_loads_without_one(
    server_without_binlog: ThrowawayServer, spark: Any, make_options: OptionsFactory, iceberg: Any
) -> None:
    options = make_options(
        ["nolog.*"], source={"port": server_without_binlog.port}, run={"record_binlog_position": False}
    )

    manifest = cdc_migrate.run(options, spark=spark)

    assert manifest.binlog is None
    assert manifest.tables[0].status == "loaded"
    props = iceberg("nolog.t").properties
    assert props["cdc-migrate.source-table"] == "nolog.t"
    assert not any(k.startswith("cdc-migrate.binlog") for k in props)
