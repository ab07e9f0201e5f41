from __future__ import annotations

import pytest

from cdc_migrate.config import Secret, SourceOptions
from cdc_migrate.errors import ConfigError
from cdc_migrate.jdbc import connection_properties, driver_kind, jdbc_url, read_options
from cdc_migrate.naming import TableName
from cdc_migrate.planning import Column, Partitioning, SourceTable, TablePlan

SOURCE = SourceOptions(host="db", port=3307, user="etl", password=Secret("pw"), jdbc_properties={"useSSL": "false"})
TABLE = SourceTable(TableName("shop", "we`ird"), (Column("id", "int", "int", False),), ("id",))


def plan(partitions: int) -> TablePlan:
    return TablePlan(TABLE, TableName("shop", "weird"), "id", -5, 500, partitions, Partitioning(1, 1, 10))


def test_url_keeps_the_mysql_prefix_for_sparks_dialect_and_holds_no_credentials() -> None:
    assert jdbc_url(SOURCE) == "jdbc:mysql://db:3307/"


@pytest.mark.parametrize(
    ("kind", "driver", "flags"),
    [
        (
            "mysql",
            "com.mysql.cj.jdbc.Driver",
            {"connectionTimeZone": "UTC", "forceConnectionTimeZoneToSession": "true"},
        ),
        ("mariadb", "org.mariadb.jdbc.Driver", {"sessionVariables": "time_zone='+00:00'"}),
    ],
)
def test_properties_per_driver(kind: str, driver: str, flags: dict[str, str]) -> None:
    props = connection_properties(SOURCE, kind)

    assert props["driver"] == driver
    assert (props["user"], props["password"], props["useSSL"]) == ("etl", "pw", "false")
    assert flags.items() <= props.items()


def test_one_partition_reads_the_whole_table_without_bounds() -> None:
    options = read_options(plan(1), SOURCE, "mariadb")

    assert options["dbtable"] == "`shop`.`we``ird`"
    assert "partitionColumn" not in options


def test_several_partitions_hand_the_bounds_to_spark() -> None:
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
