"""Binlog row images as the text protocol gives them, and from there as the load's pushed SELECT gives them
(pure: python-mysql-replication's decoded values in, the values Spark converts out)."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from cdc_migrate.config.sections import ColumnOverride
from cdc_migrate.contract.docs import sample_column
from cdc_migrate.contract.mapping import map_column
from cdc_migrate.naming import TableName
from cdc_migrate.source.rowimage import canonical_value, decimal_positions, packed, unpacked
from cdc_migrate.source.schema import Column, SourceTable

T = TableName("shop", "t")


def col(column_type: str, nullable: bool = True) -> Column:
    c = sample_column(column_type, nullable)
    return replace(c, name="c")


# (column type, value as python-mysql-replication decodes it, its none source, the text protocol's value)
CANONICAL = [
    ("int unsigned", -1, None, 4294967295),
    ("bigint unsigned", -1, None, 18446744073709551615),
    ("tinyint", -5, None, -5),
    ("bit(10)", "1000000001", None, 513),
    ("set('a','b','c')", {"c", "a"}, None, "a,c"),
    ("set('a','b','c')", None, "empty set", ""),
    ("set('a','b','c')", None, "null", None),
    ("binary(4)", b"ab", None, b"ab\x00\x00"),
    ("binary(4)", "", None, b"\x00\x00\x00\x00"),
    ("varbinary(8)", b"\x00\xff", None, b"\x00\xff"),
    ("date", date(5, 6, 7), None, "0005-06-07"),
    ("date", None, "out of date range", "0000-00-00"),
    ("datetime(3)", datetime(2020, 1, 2, 3, 4, 5, 678000), None, "2020-01-02 03:04:05.678"),
    ("datetime", None, "out of datetime2 range", "0000-00-00 00:00:00"),
    ("timestamp(6)", datetime(1970, 1, 1, 0, 0, 1, 250000), None, Decimal("1.250000")),
    ("timestamp", datetime(1970, 1, 1), None, 0),
    ("time(3)", timedelta(hours=838, minutes=59, seconds=59), None, "838:59:59.000"),
    ("time(1)", -timedelta(seconds=1, microseconds=500000), None, "-00:00:01.5"),
    ("time", timedelta(days=1), None, "24:00:00"),
    ("year", 1900, None, 1900),
    ("json", {b"k": [1, 2]}, None, '{"k": [1, 2]}'),
    ("geometry", b"\x00\x00\x00\x00\x01", None, b"\x00\x00\x00\x00\x01"),
]


@pytest.mark.parametrize(
    ("column_type", "value", "source", "expected"), CANONICAL, ids=[f"{c[0]}-{i}" for i, c in enumerate(CANONICAL)]
)
def test_binlog_values_become_what_the_text_protocol_returns(
    column_type: str, value: Any, source: str | None, expected: Any
) -> None:
    assert canonical_value(col(column_type), value, source) == expected


# (column type, nullable, override, the text protocol's value, what the pushed SELECT returns)
PUSHED = [
    ("datetime(6)", True, None, "2020-01-02 03:04:05.678901", "2020-01-02 03:04:05.678"),  # LEFT(..., 23)
    ("datetime(6)", True, "timestamp_micros", "2020-01-02 03:04:05.678901", "2020-01-02 03:04:05.678901"),
    ("timestamp", True, None, 0, None),  # NULLIF(CAST(UNIX_TIMESTAMP(c) * 1000000 AS SIGNED), 0)
    ("timestamp", False, None, 0, 0),
    ("timestamp(3)", True, None, Decimal("1.250"), 1_250_000),  # whole microseconds
    ("timestamp", False, None, 1700000000, 1_700_000_000_000_000),
    ("bit(16)", True, None, 513, b"\x01\x02"),  # REVERSE(c): little-endian
    ("decimal(65,30)", True, "string", Decimal("0E-30"), "0.000000000000000000000000000000"),
    ("int", True, "string", -7, "-7"),
    ("year", True, None, 1900, 1900),
]


@pytest.mark.parametrize(
    ("column_type", "nullable", "override", "value", "pushed"),
    PUSHED,
    ids=[f"{p[0]}-{p[2]}-{i}" for i, p in enumerate(PUSHED)],
)
def test_each_choice_gives_a_binlog_value_as_its_pushed_select_does(
    column_type: str, nullable: bool, override: str | None, value: Any, pushed: Any
) -> None:
    mapping = map_column(T, col(column_type, nullable), ColumnOverride(type=override) if override else None)

    assert mapping.binlog(value) == pushed


@pytest.mark.parametrize(
    "value",
    ["12.20", "-0.00", "0E-30", "1E+2", "99999999999999999999999999999999999.999999999999999999999999999999", "-5"],
)
def test_the_spool_keeps_a_decimal_as_its_text_and_gives_back_the_same_decimal(value: str) -> None:
    table = SourceTable(
        TableName("db", "t"),
        (
            Column("id", "int", "int", False),
            Column("d", "decimal", "decimal(65,30)", True),
            Column("s", "varchar", "varchar(9)", True),
        ),
        ("id",),
    )
    decimals = decimal_positions(table)
    image = (1, Decimal(value), "12.20")

    kept = unpacked(packed(image, decimals), decimals)

    assert decimals == (1,)
    assert kept == image and str(kept[1]) == value and type(kept[1]) is Decimal and type(kept[2]) is str
    assert unpacked(packed((2, None, None), decimals), decimals) == (2, None, None)
    assert len(packed(image, decimals)) < len(pickle.dumps(image))  # (and five times faster to make)
