"""The MySQL edge against a real server: identity, binlog position, introspection, and clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cdc_migrate.config.secret import Secret
from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.errors import ConfigError, SourceError
from cdc_migrate.load.runner import plan
from cdc_migrate.naming import TableName
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.testing.server import free_port

from .conftest import OptionsFactory


def connect(server: Any, **changes: Any) -> MySQLSource:
    params = {"host": server.host, "port": server.port, "user": server.user, "password": Secret(server.password)}
    return MySQLSource.connect(SourceOptions(**(params | changes)))


def test_position_is_what_the_server_reports(server: Any, database: str) -> None:
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY)", f"INSERT INTO `{database}`.t VALUES (1), (2)")
    status = server.execute("SHOW MASTER STATUS")[0]
    gtid = server.execute("SELECT @@global.gtid_binlog_pos AS g")[0]["g"] if "MariaDB" in _version(server) else None

    with connect(server) as source:
        info = source.server_info()
        position = source.binlog_position(info)

    assert (position.file, position.position) == (status["File"], status["Position"])
    expected_gtid = gtid if gtid is not None else status["Executed_Gtid_Set"].replace("\n", "")
    assert position.gtid_set == expected_gtid
    assert position.gtid_set != ""  # the writes above made GTIDs
    taken = datetime.fromisoformat(position.taken_at.replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - taken) < timedelta(minutes=1)
    assert info.version == _version(server)
    assert info.server_id == int(server.execute("SELECT @@server_id AS i")[0]["i"])
    assert info.flavor == ("mariadb" if "MariaDB" in info.version else "mysql")


def _version(server: Any) -> str:
    return str(server.execute("SELECT VERSION() AS v")[0]["v"])


def test_describe_reads_columns_and_the_primary_key_in_key_order(server: Any, database: str) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.pk2 (a INT NOT NULL, b VARCHAR(10) NOT NULL, c DATETIME(3) NULL, "
        "d INT UNSIGNED, PRIMARY KEY (b, a))",
        f"INSERT INTO `{database}`.pk2 VALUES (1, 'x', NULL, 4)",
    )
    name = TableName(database, "pk2")

    with connect(server) as source:
        table = source.describe([name])[name]

    assert [c.name for c in table.columns] == ["a", "b", "c", "d"]
    assert table.primary_key == ("b", "a")
    assert [(c.data_type, c.nullable) for c in table.columns] == [
        ("int", False),
        ("varchar", False),
        ("datetime", True),
        ("int", True),
    ]
    assert table.columns[2].datetime_precision == 3
    assert table.columns[3].unsigned


def test_wrong_password_is_a_clear_error_without_the_password(server: Any) -> None:
    server.execute(
        "CREATE USER IF NOT EXISTS 'etl_wrong'@'%' IDENTIFIED BY 'etlpw-right'",
        "GRANT SELECT ON *.* TO 'etl_wrong'@'%'",
    )

    with pytest.raises(
        SourceError, match="refused user 'etl_wrong': access denied.*CDC_MIGRATE_SOURCE_PASSWORD"
    ) as err:
        connect(server, user="etl_wrong", password=Secret("etlpw-wrong"))
    assert "etlpw" not in str(err.value)


def test_unreachable_host_is_a_clear_error() -> None:
    options = SourceOptions(host="127.0.0.1", port=free_port(), user="x", connect_timeout=2)

    with pytest.raises(SourceError, match=r"cannot reach MySQL at 127.0.0.1:\d+ within 2s: .*Check the host and port"):
        MySQLSource.connect(options)


def test_unknown_database_and_table_name_what_exists(server: Any, database: str, make_options: OptionsFactory) -> None:
    server.execute(f"CREATE TABLE `{database}`.real_one (id INT PRIMARY KEY)")

    with pytest.raises(ConfigError, match=r"names a database that does not exist; databases on the server: .*"):
        plan(make_options(["no_such_db_xyz.*"]))
    with pytest.raises(ConfigError, match=f"table '{database}.nope' does not exist; tables in {database}: real_one"):
        plan(make_options([f"{database}.nope"]))


def test_an_override_for_a_table_that_does_not_exist_is_refused(
    server: Any, database: str, make_options: OptionsFactory
) -> None:
    server.execute(f"CREATE TABLE `{database}`.a (id INT PRIMARY KEY)", f"CREATE TABLE `{database}`.b (v INT)")
    overrides = {f"{database}.typo": {"split_column": "id"}}

    with pytest.raises(ConfigError, match=f"tables.overrides name a table that does not exist: {database}.typo"):
        plan(make_options([f"{database}.*"], tables={"overrides": overrides}))
    # An override for an existing table that this run does not select is simply not used.
    [outcome] = plan(make_options([f"{database}.a"], tables={"overrides": {f"{database}.b": {"split_column": "v"}}}))
    assert outcome.plan is not None


def test_plan_shows_strategy_bounds_and_partitions(server: Any, database: str, make_options: OptionsFactory) -> None:
    dense = ", ".join(f"({i}, {i})" for i in range(-50, 250))
    codes = ", ".join(f"('k{i:03d}')" for i in range(300))
    server.execute(
        f"CREATE TABLE `{database}`.nums (id INT PRIMARY KEY, v INT)",
        f"INSERT INTO `{database}`.nums VALUES {dense}",
        f"CREATE TABLE `{database}`.nopk (v INT)",
        f"CREATE TABLE `{database}`.strkey (code VARCHAR(8) PRIMARY KEY)",
        f"INSERT INTO `{database}`.strkey VALUES {codes}",
        f"ANALYZE TABLE `{database}`.nums, `{database}`.strkey",
    )

    outcomes = {str(o.source): o for o in plan(make_options([f"{database}.*"], tables={"rows_per_partition": 100}))}

    nums, nopk, strkey = (outcomes[f"{database}.{t}"].plan for t in ("nums", "nopk", "strkey"))
    assert nums is not None and nopk is not None and strkey is not None
    assert (nums.strategy, nums.key, nums.lower, nums.upper, nums.partitions) == ("stride", ("id",), (-50,), (249,), 2)
    assert (nopk.strategy, nopk.partitions) == ("single", 1) and "has no primary key" in nopk.note
    assert (strkey.strategy, strkey.lower, strkey.upper) == ("keyset", ("k000",), ("k299",))
    assert strkey.partitions == len(strkey.boundaries) + 1 >= 2


def test_connections_share_one_tls_context_instead_of_loading_certificates_each_time(server: Any) -> None:
    # PyMySQL 1.2 prefers TLS without verifying and builds a context (the system's CA certificates loaded)
    # on every connect: 17 ms of CPU each, and a live load connects once per table for its position.
    with connect(server) as first, connect(server) as second:
        contexts = [getattr(s._conn, "ctx", None) for s in (first, second)]
        assert first.query("SELECT 1 AS one") == [{"one": 1}]
    if contexts[0] is None:
        pytest.skip("this PyMySQL makes no TLS context unless asked")
    assert contexts[0] is contexts[1]
