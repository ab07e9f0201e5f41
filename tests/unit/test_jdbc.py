from __future__ import annotations

import pytest

from cdc_migrate.config import Secret, SourceOptions
from cdc_migrate.errors import ConfigError
from cdc_migrate.jdbc import connection_properties, driver_kind, jdbc_url, read_options
from cdc_migrate.naming import TableName
from cdc_migrate.planning import Column, Partitioning, SourceTable, TablePlan
from cdc_migrate.typemap import map_table

SOURCE = SourceOptions(host="db", port=3307, user="etl", password=Secret("pw"), jdbc_properties={"useSSL": "false"})
TABLE = SourceTable(
    TableName("shop", "we`ird"),
    (Column("ID", "int", "int", False), Column("y", "year", "year", True)),
    ("ID",),
)


def plan(partitions: int) -> TablePlan:
    return TablePlan(
        TABLE, TableName("shop", "weird"), "ID", -5, 500, partitions, Partitioning(1, 1, 10), map_table(TABLE)
    )


@pytest.mark.parametrize(
    ("kind", "url"),
    [
        (
            "mysql",
            "jdbc:mysql://db:3307/?tinyInt1isBit=false&yearIsDateType=false&zeroDateTimeBehavior=CONVERT_TO_NULL"
            "&connectionTimeZone=UTC&forceConnectionTimeZoneToSession=true",
        ),
        ("mariadb", "jdbc:mysql://db:3307/?tinyInt1isBit=false&yearIsDateType=false"),
    ],
)
def test_url_flags_per_driver_and_no_credentials(kind: str, url: str) -> None:
    assert jdbc_url(SOURCE, kind) == url


@pytest.mark.parametrize(
    ("kind", "driver", "flags"),
    [
        ("mysql", "com.mysql.cj.jdbc.Driver", {}),
        ("mariadb", "org.mariadb.jdbc.Driver", {"sessionVariables": "time_zone='+00:00'"}),
    ],
)
def test_properties_per_driver(kind: str, driver: str, flags: dict[str, str]) -> None:
    props = connection_properties(SOURCE, kind)

    assert props["driver"] == driver
    assert (props["user"], props["password"], props["useSSL"]) == ("etl", "pw", "false")
    assert flags.items() <= props.items()


def test_one_partition_reads_the_pushed_down_select_without_bounds() -> None:
    options = read_options(plan(1), SOURCE, "mariadb")

    assert options["dbtable"] == (
        "(SELECT `ID` AS `id`, CAST(`y` AS SIGNED) AS `y` FROM `shop`.`we``ird`) AS cdc_migrate_src"
    )
    assert "partitionColumn" not in options


def test_several_partitions_split_on_the_pushed_name_of_the_key() -> None:
    options = read_options(plan(4), SOURCE, "mysql")

    assert {k: options[k] for k in ("partitionColumn", "lowerBound", "upperBound", "numPartitions")} == {
        "partitionColumn": "id",
        "lowerBound": "-5",
        "upperBound": "500",
        "numPartitions": "4",
    }


def test_driver_names() -> None:
    assert driver_kind("org.mariadb.jdbc.Driver") == "mariadb"
    assert driver_kind("mysql") == "mysql"
    with pytest.raises(ConfigError, match="source.jdbc_driver = 'oracle' is unknown"):
        driver_kind("oracle")
