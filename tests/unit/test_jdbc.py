from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from cdc_migrate.config.secret import Secret
from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.contract.literals import sql_literal
from cdc_migrate.contract.mapping import map_table
from cdc_migrate.errors import ConfigError
from cdc_migrate.naming import TableName
from cdc_migrate.planning.partitions import Partitioning, TablePlan
from cdc_migrate.source.schema import Column, SourceTable
from cdc_migrate.spark.jdbc import (
    connection_properties,
    driver_kind,
    jdbc_url,
    partition_predicates,
    pushed_select,
    read_spec,
)

SOURCE = SourceOptions(host="db", port=3307, user="etl", password=Secret("pw"), jdbc_properties={"useSSL": "false"})
INT = Column("ID", "int", "int", False)
NAME = Column("name", "varchar", "varchar(20)", False, character_set="utf8mb4", collation="utf8mb4_general_ci")


def plan(
    *boundaries: tuple[object, ...],
    columns: tuple[Column, ...] = (INT,),
    nullable: bool = False,
    lower: tuple[object, ...] = (-5,),
    upper: tuple[object, ...] = (500,),
) -> TablePlan:
    table = SourceTable(
        TableName("shop", "we`ird"), (*columns, Column("y", "year", "year", True)), tuple(c.name for c in columns)
    )
    return TablePlan(
        table,
        TableName("shop", "weird"),
        map_table(table),
        Partitioning(1, 1, 10),
        strategy="keyset" if boundaries else "single",
        key=table.primary_key,
        lower=lower,
        upper=upper,
        boundaries=tuple(boundaries),
        key_nullable=nullable,
    )


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        (
            "mysql",
            "jdbc:mysql://db:3307/?tinyInt1isBit=false&yearIsDateType=false&zeroDateTimeBehavior=CONVERT_TO_NULL"
            "&connectionTimeZone=UTC&forceConnectionTimeZoneToSession=true",
        ),
        ("mariadb", "jdbc:mysql://db:3307/?tinyInt1isBit=false&yearIsDateType=false&useServerPrepStmts=true"),
    ],
)
def test_url_flags_per_driver_and_no_credentials(kind: str, url: str) -> None:
    assert jdbc_url(SOURCE, kind) == url


@pytest.mark.parametrize(
    ("kind", "driver", "flags", "fetch"),
    [
        # Connector/J: row streaming (Integer.MIN_VALUE), never a server-side cursor's temporary table
        ("mysql", "com.mysql.cj.jdbc.Driver", {}, "-2147483648"),
        ("mariadb", "org.mariadb.jdbc.Driver", {"sessionVariables": "time_zone='+00:00'"}, "10000"),
    ],
)
def test_properties_per_driver_stream_every_partition(
    kind: str, driver: str, flags: dict[str, str], fetch: str
) -> None:
    props = read_spec(plan(), SOURCE, kind).properties

    assert props["driver"] == driver
    assert props["fetchsize"] == fetch
    assert "useCursorFetch" not in jdbc_url(SOURCE, kind)
    assert (props["user"], props["password"], props["useSSL"]) == ("etl", "pw", "false")
    assert flags.items() <= props.items()
    assert connection_properties(SOURCE, kind).items() <= props.items()


def test_one_partition_reads_the_pushed_down_select_without_predicates() -> None:
    spec = read_spec(plan(), SOURCE, "mariadb")

    assert spec.table == (
        "(SELECT `ID` AS `id`, CAST(`y` AS SIGNED) AS `y`, `ID` AS __cdc_migrate_k0 FROM `shop`.`we``ird`) "
        "AS cdc_migrate_src"
    )
    assert spec.predicates is None


def test_ranges_are_closed_at_the_planning_bounds() -> None:
    assert partition_predicates(plan((100,), (300,))) == (
        "(__cdc_migrate_k0 >= -5) AND (__cdc_migrate_k0 < 100)",
        "(__cdc_migrate_k0 >= 100) AND (__cdc_migrate_k0 < 300)",
        "(__cdc_migrate_k0 >= 300) AND (__cdc_migrate_k0 <= 500)",
    )


def test_null_keys_go_to_the_first_range_only() -> None:
    predicates = partition_predicates(plan((100,), nullable=True))

    assert predicates is not None
    assert predicates[0].endswith("OR __cdc_migrate_k0 IS NULL")
    assert "IS NULL" not in predicates[1]


def test_composite_keys_compare_as_row_values_in_a_form_the_index_serves() -> None:
    p = plan((3, "m"), columns=(INT, NAME), lower=(1, "a"), upper=(9, "z"))
    m = "_utf8mb4 X'6d'"

    predicates = partition_predicates(p)

    assert predicates is not None
    assert predicates[0].endswith(
        f"(__cdc_migrate_k0 <= 3 AND (__cdc_migrate_k0 < 3 OR (__cdc_migrate_k0 = 3 AND "
        f"__cdc_migrate_k1 < CONVERT({m} USING utf8mb4) COLLATE utf8mb4_general_ci)))"
    )
    assert pushed_select(p).endswith(", `ID` AS __cdc_migrate_k0, `name` AS __cdc_migrate_k1 FROM `shop`.`we``ird`")


@pytest.mark.parametrize(
    ("value", "column", "literal"),
    [
        (42, INT, "42"),
        (Decimal("-1.50"), INT, "-1.50"),
        ("O'Brien\\", NAME, "CONVERT(_utf8mb4 X'4f27427269656e5c' USING utf8mb4) COLLATE utf8mb4_general_ci"),
        (b"\x00\xff", Column("b", "binary", "binary(2)", False), "X'00ff'"),
        (date(2024, 2, 29), INT, "'2024-02-29'"),
        (datetime(2024, 1, 2, 3, 4, 5, 6), INT, "'2024-01-02 03:04:05.000006'"),
        (timedelta(hours=-1, minutes=-30), INT, "'-01:30:00.000000'"),
    ],
    ids=["int", "decimal", "string", "bytes", "date", "datetime", "time"],
)
def test_key_literals_need_no_escaping_and_keep_the_collation(value: object, column: Column, literal: str) -> None:
    assert sql_literal(value, column) == literal


def test_driver_names() -> None:
    assert driver_kind("org.mariadb.jdbc.Driver") == "mariadb"
    assert driver_kind("mysql") == "mysql"
    with pytest.raises(ConfigError, match="source.jdbc_driver = 'oracle' is unknown"):
        driver_kind("oracle")
