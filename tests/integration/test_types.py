"""The CDC type contract against the real server: every type, edge values, read back with PyIceberg and
compared with values written here by hand from Debezium's rules (time.precision.mode=connect), and with what
the real Debezium 3.6.3 sends for the same rows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IcebergType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
)

from cdc_migrate.load.runner import run

from .conftest import OptionsFactory

READERS = [("jdbc", "mysql"), ("jdbc", "mariadb"), ("arrow", "auto")]


@pytest.fixture(params=READERS, ids=["jdbc-connector-j-8.0.33", "jdbc-mariadb-connector-j", "arrow-connectorx"])
def path(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Every test here runs on both paths and the same data: Spark JDBC with MySQL Connector/J 8.0.33 (Glue's) and
    with MariaDB Connector/J, and the Arrow path (ConnectorX in Spark's tasks)."""
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def jdbc_driver(path: tuple[str, str]) -> str:
    return path[1]


@pytest.fixture
def reader(path: tuple[str, str]) -> str:
    return path[0]


COLUMNS = """
    id INT NOT NULL PRIMARY KEY,
    ti TINYINT, ti_u TINYINT UNSIGNED, si SMALLINT, si_u SMALLINT UNSIGNED,
    mi MEDIUMINT, mi_u MEDIUMINT UNSIGNED, i INT, i_u INT UNSIGNED,
    bi BIGINT, bi_u BIGINT UNSIGNED, bi_u_big BIGINT UNSIGNED,
    flag TINYINT(1),
    d12 DECIMAL(12,2), d38 DECIMAL(38,10),
    f FLOAT, f72 FLOAT(7,2), dbl DOUBLE,
    b1 BIT(1), b3 BIT(3), b16 BIT(16), b64 BIT(64),
    ch CHAR(8), vc VARCHAR(40), tx TEXT, en ENUM('small','large'), st SET('a','b','c'), js JSON,
    bn BINARY(4), vb VARBINARY(8), bl BLOB,
    d DATE NULL, d_nn DATE NOT NULL,
    dt6 DATETIME(6) NULL, dt_nn DATETIME NOT NULL,
    ts6 TIMESTAMP(6) NULL DEFAULT NULL,
    tm TIME(3), tm0 TIME,
    y YEAR,
    g GEOMETRY, p POINT
"""

# Columns whose values Debezium cannot send as they are (see test_values_debezium_cannot_send_...), one value
# per row of ROWS.
EDGE_COLUMNS = (
    "z_d DATE NULL, z_def DATE NOT NULL DEFAULT '2001-02-03', z_dtd DATETIME(3) NOT NULL DEFAULT "
    "'2000-01-01 00:00:00.250', z_tm TIME NULL, z_tmd TIME NOT NULL DEFAULT '01:00:00', z_ts TIMESTAMP(3) NOT "
    "NULL DEFAULT '2001-01-01 00:00:00.500', z_y YEAR, z_old DATE, z_olddt DATETIME(6)"
)
EDGE_VALUES = [
    "'2020-00-15', '2020-05-00', '0000-00-00 00:00:00', '24:00:00', '-05:00:00', '0000-00-00 00:00:00', 0, "
    "'0005-06-07', '0069-01-01 10:00:00.123456'",
    "'0000-00-00', '0000-00-00', '2000-00-01 00:00:00', '838:59:59', '25:00:00', '2038-01-19 03:14:07.999', 2000, "
    "'0099-12-31', '0070-01-01 00:00:00'",
    "NULL, '2024-02-29', '2024-02-29 23:59:59.999', '-00:00:00.5', '23:59:59', '1970-01-01 00:00:01', NULL, NULL, NULL",
]

ROWS = [
    """(1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295,
        9223372036854775807, 9223372036854775807, 18446744073709551615,
        5,
        9999999999.99, 9999999999999999999999999999.9999999999,
        1.1, 1.1, 1.7976931348623157e308,
        b'1', b'101', b'0000000100000010', b'1111111111111111111111111111111111111111111111111111111111111111',
        'ab', 'grüße 😀', 'long text', 'large', 'a,c', '{"k": [1, 2]}',
        'ab', 'xyz', 'blob!',
        '0000-00-00', '0000-00-00',
        '2024-01-02 03:04:05.123456', '0000-00-00 00:00:00',
        '2024-01-02 03:04:05.654321',
        '12:34:56.789', '00:00:00',
        2155,
        ST_GeomFromText('POINT(1.5 -2.25)', 4326), ST_GeomFromText('POINT(3 4)'))""",
    """(2, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0,
        -9223372036854775808, 0, 0,
        0,
        -9999999999.99, -1.5,
        -3.5, -0.5, -2.5e-300,
        b'0', b'000', b'0000000000000000', b'0000000000000000000000000000000000000000000000000000000000000000',
        '', '', '', 'small', '', '[]',
        '', '', '',
        '1000-01-01', '9999-12-31',
        '1000-01-01 00:00:00.000000', '9999-12-31 23:59:59',
        '1970-01-01 00:00:01.000000',
        '23:59:59.999', '00:00:00',
        1901,
        NULL, NULL)""",
    """(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
        NULL, '2024-02-29', NULL, '2024-02-29 23:59:59', NULL, NULL, NULL, NULL, NULL, NULL)""",
]

GEOMETRY = StructType(
    NestedField(1, "wkb", BinaryType(), required=True), NestedField(2, "srid", IntegerType(), required=False)
)
POINT = StructType(
    NestedField(1, "x", DoubleType(), required=True),
    NestedField(2, "y", DoubleType(), required=True),
    NestedField(3, "wkb", BinaryType(), required=False),
    NestedField(4, "srid", IntegerType(), required=False),
)

# The Iceberg type and required flag of every column, from the contract table.
EXPECTED_TYPES: dict[str, tuple[IcebergType, bool]] = {
    "id": (IntegerType(), True),
    "ti": (IntegerType(), False),
    "ti_u": (IntegerType(), False),
    "si": (IntegerType(), False),
    "si_u": (IntegerType(), False),
    "mi": (IntegerType(), False),
    "mi_u": (IntegerType(), False),
    "i": (IntegerType(), False),
    "i_u": (LongType(), False),
    "bi": (LongType(), False),
    "bi_u": (LongType(), False),
    "bi_u_big": (DecimalType(20, 0), False),
    "flag": (IntegerType(), False),
    "d12": (DecimalType(12, 2), False),
    "d38": (DecimalType(38, 10), False),
    "f": (FloatType(), False),
    "f72": (DoubleType(), False),
    "dbl": (DoubleType(), False),
    "b1": (BooleanType(), False),
    "b3": (BinaryType(), False),
    "b16": (BinaryType(), False),
    "b64": (BinaryType(), False),
    "ch": (StringType(), False),
    "vc": (StringType(), False),
    "tx": (StringType(), False),
    "en": (StringType(), False),
    "st": (StringType(), False),
    "js": (StringType(), False),
    "bn": (BinaryType(), False),
    "vb": (BinaryType(), False),
    "bl": (BinaryType(), False),
    "d": (DateType(), False),
    "d_nn": (DateType(), True),
    "dt6": (TimestampType(), False),
    "dt_nn": (TimestampType(), True),
    "ts6": (TimestamptzType(), False),
    "tm": (TimestamptzType(), False),
    "tm0": (TimestamptzType(), False),
    "y": (IntegerType(), False),
    "g": (GEOMETRY, False),
    "p": (POINT, False),
}

F32_1_1 = 1.100000023841858  # FLOAT 1.1 is float32 1.100000023841858; Debezium sends that value
T0 = datetime(1970, 1, 1, tzinfo=UTC)

EXPECTED_ROWS = [
    {
        "id": 1,
        "ti": 127,
        "ti_u": 255,
        "si": 32767,
        "si_u": 65535,
        "mi": 8388607,
        "mi_u": 16777215,
        "i": 2147483647,
        "i_u": 4294967295,
        "bi": 9223372036854775807,
        "bi_u": 9223372036854775807,
        "bi_u_big": Decimal("18446744073709551615"),
        "flag": 5,
        "d12": Decimal("9999999999.99"),
        "d38": Decimal("9999999999999999999999999999.9999999999"),
        "f": F32_1_1,
        "f72": F32_1_1,
        "dbl": 1.7976931348623157e308,
        "b1": True,
        "b3": b"\x05",
        "b16": b"\x02\x01",
        "b64": b"\xff" * 8,
        "ch": "ab",
        "vc": "grüße 😀",
        "tx": "long text",
        "en": "large",
        "st": "a,c",
        "js": '{"k": [1, 2]}',
        "bn": b"ab\x00\x00",
        "vb": b"xyz",
        "bl": b"blob!",
        "d": None,
        "d_nn": date(1970, 1, 1),
        "dt6": datetime(2024, 1, 2, 3, 4, 5, 123000),
        "dt_nn": datetime(1970, 1, 1),
        "ts6": datetime(2024, 1, 2, 3, 4, 5, 654321, tzinfo=UTC),
        "tm": datetime(1970, 1, 1, 12, 34, 56, 789000, tzinfo=UTC),
        "tm0": T0,
        "y": 2155,
        "g": {"wkb": bytes.fromhex("0101000000000000000000F83F00000000000002C0"), "srid": 4326},
        # An SRID of 0 is a null srid, as Debezium sends it.
        "p": {"x": 3.0, "y": 4.0, "wkb": bytes.fromhex("010100000000000000000008400000000000001040"), "srid": None},
    },
    {
        "id": 2,
        "ti": -128,
        "ti_u": 0,
        "si": -32768,
        "si_u": 0,
        "mi": -8388608,
        "mi_u": 0,
        "i": -2147483648,
        "i_u": 0,
        "bi": -9223372036854775808,
        "bi_u": 0,
        "bi_u_big": Decimal("0"),
        "flag": 0,
        "d12": Decimal("-9999999999.99"),
        "d38": Decimal("-1.5000000000"),
        "f": -3.5,
        "f72": -0.5,
        "dbl": -2.5e-300,
        "b1": False,
        "b3": b"\x00",
        "b16": b"\x00\x00",
        "b64": b"\x00" * 8,
        "ch": "",
        "vc": "",
        "tx": "",
        "en": "small",
        "st": "",
        "js": "[]",
        "bn": b"\x00\x00\x00\x00",
        "vb": b"",
        "bl": b"",
        "d": date(1000, 1, 1),
        "d_nn": date(9999, 12, 31),
        "dt6": datetime(1000, 1, 1),
        "dt_nn": datetime(9999, 12, 31, 23, 59, 59),
        "ts6": datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC),
        "tm": datetime(1970, 1, 1, 23, 59, 59, 999000, tzinfo=UTC),
        "tm0": T0,
        "y": 1901,
        "g": None,
        "p": None,
    },
    {
        "id": 3,
        **{c: None for c in EXPECTED_TYPES if c not in ("id", "d_nn", "dt_nn")},
        "d_nn": date(2024, 2, 29),
        "dt_nn": datetime(2024, 2, 29, 23, 59, 59),
    },
]


def shape(t: IcebergType) -> Any:
    """A type without its field ids."""
    if isinstance(t, StructType):
        return [(f.name, shape(f.field_type), f.required) for f in t.fields]
    return t


@pytest.fixture
def every_type(server: Any, database: str) -> str:
    server.execute(
        "SET SESSION sql_mode = ''",  # zero dates are allowed, as on many old schemas
        f"CREATE TABLE `{database}`.every_type ({COLUMNS}) DEFAULT CHARSET utf8mb4",
        f"INSERT INTO `{database}`.every_type VALUES {', '.join(ROWS)}",
    )
    return database


def load(make_options: OptionsFactory, spark: Any, table: str, columns: dict[str, dict[str, str]] | None = None):  # type: ignore[no-untyped-def]
    db = table.split(".")[0]
    overrides = {table: {"columns": columns}} if columns else {}
    return run(make_options([f"{db}.*"], tables={"overrides": overrides}), spark=spark).tables


def test_every_type_lands_as_the_contract_says(
    every_type: str, make_options: OptionsFactory, spark: Any, iceberg: Any
) -> None:
    [result] = load(make_options, spark, f"{every_type}.every_type", {"bi_u_big": {"type": "decimal(20,0)"}})
    assert result.status == "loaded", result.error

    table = iceberg(f"{every_type}.every_type")
    fields = {f.name: f for f in table.schema().fields}
    assert list(fields) == list(EXPECTED_TYPES)
    for name, (expected_type, required) in EXPECTED_TYPES.items():
        field = fields[name]
        assert (shape(field.field_type), field.required) == (shape(expected_type), required), name
    assert [table.schema().find_field(i).name for i in table.schema().identifier_field_ids] == ["id"]

    rows = sorted(table.scan().to_arrow().to_pylist(), key=lambda r: r["id"])
    for got, expected in zip(rows, EXPECTED_ROWS, strict=True):
        for name in EXPECTED_TYPES:
            assert got[name] == expected[name], f"row {expected['id']} column {name}"


def test_values_debezium_cannot_send_as_they_are_load_as_it_sends_them(
    server: Any, database: str, make_options: OptionsFactory, spark: Any, iceberg: Any
) -> None:
    # Debezium 3.6's rules, each seen with the real engine (test_debezium_sends_every_value_as_it_was_loaded):
    # a zero year, month or day is NULL if nullable, else the column's DEFAULT, else the epoch; a TIME outside
    # 00:00:00-24:00:00 likewise (24:00:00 itself is a day later); YEAR 0000 is 1900; years 0001-0099 stay.
    server.execute(
        "SET SESSION sql_mode = ''",
        f"CREATE TABLE `{database}`.edges (id INT PRIMARY KEY, d DATE NULL, d_nn DATE NOT NULL, "
        "d_def DATE NOT NULL DEFAULT '2001-02-03', dt DATETIME(3) NULL, dt_def DATETIME NOT NULL DEFAULT "
        "'2001-02-03 04:05:06', tm TIME NULL, tm_def TIME(2) NOT NULL DEFAULT '12:00:00.25', y YEAR)",
        f"INSERT INTO `{database}`.edges VALUES (1, '2020-00-15', '2020-05-00', '0000-00-00', '2020-01-00 10:00:00', "
        "'0000-00-00 00:00:00', '838:59:59', '-00:00:01', 0), "
        "(2, '0005-06-07', '0099-12-31', '2001-00-00', '0069-01-01 10:00:00.123', '1970-01-01 00:00:00', "
        "'24:00:00', '23:59:59.99', 1999)",
    )

    [result] = load(make_options, spark, f"{database}.edges")

    assert result.status == "loaded", result.error
    rows = iceberg(f"{database}.edges").scan().to_arrow().sort_by("id").to_pylist()
    assert rows == [
        {
            "id": 1,
            "d": None,
            "d_nn": date(1970, 1, 1),
            "d_def": date(2001, 2, 3),
            "dt": None,
            "dt_def": datetime(2001, 2, 3, 4, 5, 6),
            "tm": None,
            "tm_def": datetime(1970, 1, 1, 12, 0, 0, 250000, tzinfo=UTC),
            "y": 1900,
        },
        {
            "id": 2,
            "d": date(5, 6, 7),
            "d_nn": date(99, 12, 31),
            "d_def": date(2001, 2, 3),
            "dt": datetime(69, 1, 1, 10, 0, 0, 123000),
            "dt_def": datetime(1970, 1, 1),
            "tm": datetime(1970, 1, 2, tzinfo=UTC),
            "tm_def": datetime(1970, 1, 1, 23, 59, 59, 990000, tzinfo=UTC),
            "y": 1999,
        },
    ]
    assert result.cdc_values and "YEAR 0000 is 1900" in result.cdc_values["y"]


def test_a_time_debezium_cannot_send_in_a_not_null_column_without_a_default_stops_the_load_clearly(
    server: Any, database: str, make_options: OptionsFactory, spark: Any
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.times (id INT PRIMARY KEY, tm TIME NOT NULL)",
        f"INSERT INTO `{database}`.times VALUES (1, '10:00:00'), (2, '838:59:59')",
    )

    [failed] = load(make_options, spark, f"{database}.times")

    assert failed.status == "failed"
    error = failed.error or ""
    assert f"{database}.times.tm: TIME 838:59:59 is outside 00:00:00-24:00:00 in a NOT NULL column" in error
    assert "make the column nullable" in error and '"string"' not in error


def test_bigint_unsigned_beyond_long_fails_naming_the_column_and_both_fixes(
    server: Any, database: str, make_options: OptionsFactory, spark: Any, iceberg: Any
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.big (id INT PRIMARY KEY, v BIGINT UNSIGNED)",
        f"INSERT INTO `{database}`.big VALUES (1, 5), (2, 18446744073709551615)",
    )

    [result] = load(make_options, spark, f"{database}.big")

    assert result.status == "failed"
    error = result.error or ""
    assert f"{database}.big.v: BIGINT UNSIGNED value 18446744073709551615 is above 2^63-1" in error
    assert f'tables.overrides."{database}.big".columns.v.type = "decimal(20,0)"' in error
    assert "bigint.unsigned.handling.mode=precise" in error


def test_wide_decimals_need_a_choice_and_a_value_that_does_not_fit_stops_the_load(
    server: Any, database: str, make_options: OptionsFactory, spark: Any, iceberg: Any
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.wide (id INT PRIMARY KEY, v DECIMAL(65,30))",
        f"INSERT INTO `{database}`.wide VALUES (1, 1.25), (2, -12345678901234567890.123456789)",
    )

    [no_choice] = load(make_options, spark, f"{database}.wide")
    [fits] = load(make_options, spark, f"{database}.wide", {"v": {"type": "decimal(38,10)"}})
    [too_small] = load(make_options, spark, f"{database}.wide", {"v": {"type": "decimal(20,10)"}})

    assert no_choice.status == "failed" and "DECIMAL(65,30); Iceberg decimals hold at most 38" in (
        no_choice.error or ""
    )
    assert fits.status == "loaded"
    rows = iceberg(f"{database}.wide").scan().to_arrow().sort_by("id").to_pylist()
    assert [r["v"] for r in rows] == [Decimal("1.2500000000"), Decimal("-12345678901234567890.1234567890")]
    assert too_small.status == "failed"
    assert "does not fit decimal(20,10)" in (too_small.error or "")


def test_columns_are_lower_cased_with_source_names_in_the_name_mapping(
    server: Any, database: str, make_options: OptionsFactory, spark: Any, iceberg: Any
) -> None:
    server.execute(
        f"CREATE TABLE `{database}`.people (CustomerID INT NOT NULL, Region CHAR(2) NOT NULL, EMail VARCHAR(50), "
        "PRIMARY KEY (CustomerID, Region))",
        f"INSERT INTO `{database}`.people VALUES (1, 'KR', 'a@x'), (2, 'JP', NULL)",
    )

    [result] = load(make_options, spark, f"{database}.people", {"EMail": {"name": "email_address"}})

    assert result.status == "loaded", result.error
    table = iceberg(f"{database}.people")
    schema = table.schema()
    assert [f.name for f in schema.fields] == ["customerid", "region", "email_address"]
    assert sorted(schema.find_field(i).name for i in schema.identifier_field_ids) == ["customerid", "region"]
    names = {field.names[0]: list(field.names) for field in table.name_mapping()}
    assert names == {
        "customerid": ["customerid", "CustomerID"],
        "region": ["region", "Region"],
        "email_address": ["email_address", "EMail"],
    }


def test_debezium_sends_every_value_as_it_was_loaded(
    dbz_server: Any, make_options: OptionsFactory, spark: Any, iceberg: Any, tmp_path: Path
) -> None:
    """The contract against the real Debezium 3.6.3: the rows are inserted, loaded, and Debezium's events for those
    inserts, written into the loaded columns as the sink converts them, equal the loaded rows value for value."""
    from cdc_migrate.cli.app import main

    from . import debezium
    from .sink import SinkTable, apply_events

    db = f"ty_{uuid.uuid4().hex[:8]}"
    dbz_server.execute(
        f"CREATE DATABASE `{db}` DEFAULT CHARSET utf8mb4",
        "SET SESSION sql_mode = ''",
        f"CREATE TABLE `{db}`.every_type ({COLUMNS}, {EDGE_COLUMNS}) DEFAULT CHARSET utf8mb4",
        f"CREATE TABLE `{db}`.{debezium.MARKER_TABLE} (id INT AUTO_INCREMENT PRIMARY KEY)",
    )
    before = dbz_server.execute("SHOW MASTER STATUS")[0]
    dbz_server.execute(
        "SET SESSION sql_mode = ''",
        *(
            f"INSERT INTO `{db}`.every_type VALUES {row[:-1]}, {edge})"
            for row, edge in zip(ROWS, EDGE_VALUES, strict=True)
        ),
    )
    overrides = {
        f"{db}.every_type": {"columns": {"bi_u": {"type": "decimal(20,0)"}, "bi_u_big": {"type": "decimal(20,0)"}}}
    }
    options = make_options([f"{db}.every_type"], source={"port": dbz_server.port}, tables={"overrides": overrides})
    manifest = run(options, spark=spark)
    assert manifest.tables[0].status == "loaded", manifest.tables[0].error
    assert main(["connectors", "--manifest", str(options.run.manifest), "--out", str(tmp_path / "cdc")]) == 0
    events = debezium.sent_since(dbz_server, tmp_path / "cdc", db, before)

    loaded = {r["id"]: r for r in iceberg(f"{db}.every_type").scan().to_arrow().to_pylist()}
    empty = SinkTable.loaded(iceberg(f"{db}.every_type"))
    empty.rows = []
    apply_events({f"{db}.every_type": empty}, events)
    sent = {r["id"]: r for r in empty.live()}
    assert sorted(sent) == sorted(loaded) == [1, 2, 3]
    for i, row in loaded.items():
        for column, value in row.items():
            assert sent[i][column] == value, f"row {i} column {column}: Debezium sends {sent[i][column]!r}"
    assert empty.evolutions == {"add column _cdc"}
    dbz_server.execute(f"DROP DATABASE `{db}`")
