from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.config.coerce import parse_source_url
from cdc_migrate.config.layers import env_keys, env_layer, load_toml, merge, resolve_options
from cdc_migrate.config.model import Options
from cdc_migrate.config.secret import Secret
from cdc_migrate.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.toml"
    path.write_text(text)
    return path


def test_flags_win_over_environment_which_wins_over_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [source]
        host = "file-host"
        port = 3307
        user = "file-user"
        [tables]
        include = ["shop.*"]
        rows_per_partition = 10
        max_partitions = 9
        """,
    )
    env = {"CDC_MIGRATE_SOURCE_PORT": "3308", "CDC_MIGRATE_TABLES_ROWS_PER_PARTITION": "20"}
    flags = {"tables": {"rows_per_partition": "30"}}

    options = resolve_options(path, env, flags)

    assert options.source.host == "file-host"
    assert options.source.port == 3308
    assert options.tables.rows_per_partition == 30
    assert options.tables.max_partitions == 9


def test_source_url_flag_replaces_file_host_and_keeps_environment_password(tmp_path: Path) -> None:
    path = write(tmp_path, '[source]\nhost = "old"\nport = 1111\nuser = "old"\n')
    env = {"CDC_MIGRATE_SOURCE_PASSWORD": "from-env"}

    options = resolve_options(path, env, {"source": {"url": "mysql://etl@db.internal:3310"}})

    assert (options.source.host, options.source.port, options.source.user) == ("db.internal", 3310, "etl")
    assert options.source.password == Secret("from-env")


def test_password_in_url_flag_wins_over_environment() -> None:
    options = resolve_options(None, {"CDC_MIGRATE_SOURCE_PASSWORD": "env"}, {"source": {"url": "mysql://u:url@h"}})

    assert options.source.password == Secret("url")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[source]\nhots = 'x'\n", "'hots' in [source]; valid keys there: host, port, user"),
        ("[sources]\nhost = 'x'\n", "'sources' in the top level; valid keys there: source, tables, catalog"),
        ("[tables.overrides.'a.b']\nsplit = 'id'\n", "valid keys there: split_column, rows_per_partition"),
        (
            "[catalog]\nwharehouse = 'x'\n",
            "'wharehouse' in [catalog]; valid keys there: kind, name, warehouse",
        ),
    ],
    ids=["source-key", "section", "override-key", "catalog-key"],
)
def test_unknown_key_is_an_error_listing_the_valid_keys(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match="unknown key") as err:
        resolve_options(write(tmp_path, text), {}, {})
    assert fragment in str(err.value)
    assert str(tmp_path / "c.toml") in str(err.value)


def test_unknown_environment_variable_is_an_error_naming_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="CDC_MIGRATE_CATALOG_WAREHOSE") as err:
        env_layer({"CDC_MIGRATE_CATALOG_WAREHOSE": "x"})
    assert "CDC_MIGRATE_CATALOG_WAREHOUSE" in str(err.value)


def test_environment_ignores_test_variables_and_other_programs() -> None:
    assert env_layer({"CDC_MIGRATE_TEST_MYSQL_URL": "x", "PATH": "/bin", "CDC_MIGRATE_RELAUNCHED": "1"}) == {}


def test_every_scalar_option_has_an_environment_variable() -> None:
    names = env_keys()
    assert names["CDC_MIGRATE_SOURCE_PASSWORD"] == ("source", "password")
    assert names["CDC_MIGRATE_CATALOG_KIND"] == ("catalog", "kind")
    assert names["CDC_MIGRATE_RUN_RECORD_BINLOG_POSITION"] == ("run", "record_binlog_position")
    assert "CDC_MIGRATE_SPARK_CONF" not in names  # tables of keys only come from files and flags


@pytest.mark.parametrize(
    "text",
    ['[source]\npassword = "hunter2"\n', '[source]\nurl = "mysql://u:hunter2@h:3306"\n'],
    ids=["password-key", "password-in-url"],
)
def test_a_password_in_a_file_is_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="never read from files.*CDC_MIGRATE_SOURCE_PASSWORD") as err:
        load_toml(write(tmp_path, text))
    assert "hunter2" not in str(err.value)


def test_environment_strings_are_coerced_to_the_option_types() -> None:
    options = resolve_options(
        None,
        {
            "CDC_MIGRATE_SOURCE_PORT": "3399",
            "CDC_MIGRATE_RUN_RECORD_BINLOG_POSITION": "false",
            "CDC_MIGRATE_TABLES_INCLUDE": "a.*, b.c",
        },
    )
    assert options.source.port == 3399
    assert options.run.record_binlog_position is False
    assert options.tables.include == ("a.*", "b.c")


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ({"source": {"port": "70000"}}, "source.port = 70000 is not a TCP port"),
        ({"source": {"port": "abc"}}, "source.port = 'abc' is not an integer"),
        ({"tables": {"rows_per_partition": 0}}, "rows_per_partition = 0; it must be at least 1"),
        (
            {"tables": {"min_partitions": 5, "max_partitions": 2}},
            r"max_partitions \(2\) is below min_partitions",
        ),
        ({"tables": {"include": ["shop"]}}, "'shop' is not of the form db.table"),
        ({"tables": {"overrides": {"shop.*": {"split_column": "id"}}}}, "must name one source table"),
        (
            {"catalog": {"kind": "hive"}},
            "catalog.kind = 'hive' is unknown; use one of local, s3tables, s3tables-rest, glue-rest, rest",
        ),
        ({"catalog": {"kind": "s3tables", "warehouse": "my-bucket"}}, "is not an S3 table bucket ARN"),
        ({"catalog": {"kind": "rest"}}, "needs catalog.uri"),
        ({"run": {"record_binlog_position": "maybe"}}, "is not a boolean"),
    ],
    ids=[
        "port-range",
        "port-type",
        "rows",
        "min-max",
        "pattern",
        "override-pattern",
        "kind",
        "arn",
        "rest-uri",
        "bool",
    ],
)
def test_bad_values_name_the_setting_and_the_fix(layer: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Options.from_mapping(layer)


def test_missing_host_and_tables_name_the_flags_that_give_them() -> None:
    options = Options.from_mapping({})
    with pytest.raises(ConfigError, match="no source host: give --source"):
        options.require_source()
    with pytest.raises(ConfigError, match="no tables selected: give --tables"):
        options.require_tables()


def test_source_url_parts_are_decoded() -> None:
    parsed = parse_source_url("mysql://etl%40corp:p%3Ass@db.example.com:3307")

    assert parsed["host"] == "db.example.com"
    assert parsed["port"] == 3307
    assert parsed["user"] == "etl@corp"
    assert parsed["password"] == Secret("p:ss")


@pytest.mark.parametrize(
    "url",
    ["postgres://u@h", "mysql://u:s3cret@h/shop", "mysql://u:s3cret@h:notaport"],
    ids=["scheme", "db", "port"],
)
def test_bad_source_urls_are_refused_without_showing_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_source_url(url)
    assert "s3cret" not in str(err.value)


def test_secret_never_shows_itself() -> None:
    options = resolve_options(None, {}, {"source": {"url": "mysql://u:topsecret@h"}})

    assert "topsecret" not in repr(options)
    assert "topsecret" not in str(options.source.password)
    assert options.source.password is not None and options.source.password.reveal() == "topsecret"


def test_merge_is_deep_and_later_layers_win() -> None:
    assert merge({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}}, {"b": 1}) == {"a": {"x": 1, "y": 3}, "b": 1}


SOURCE_FLAG = {"source": {"url": "mysql://etl@db.internal:3306"}}


@pytest.mark.parametrize(
    ("name", "flags"),
    [
        ("local.toml", SOURCE_FLAG | {"tables": {"include": ["shop.*"]}}),  # as the README runs it
        ("demo.toml", SOURCE_FLAG),  # the demo gives its throwaway server
        ("glue-s3tables.toml", {}),
        ("glue-rest.toml", {}),
    ],
)
def test_the_example_configurations_are_valid(name: str, flags: dict[str, Any]) -> None:
    options = resolve_options(ROOT / "conf" / name, {}, flags)

    assert options.require_tables().include
    assert options.require_source().host


def test_the_local_example_names_no_table_of_its_own() -> None:
    """conf/local.toml serves any database: tables and overrides are the user's (the demo's are in demo.toml)."""
    options = resolve_options(ROOT / "conf" / "local.toml", {})

    assert (options.tables.include, options.tables.overrides) == ((), {})


def test_spark_conf_values_become_strings(tmp_path: Path) -> None:
    options = resolve_options(write(tmp_path, '[spark.conf]\n"spark.a" = 4\n"spark.b" = true\n'), {})

    assert options.spark.conf == {"spark.a": "4", "spark.b": "true"}
