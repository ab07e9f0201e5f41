"""The CDC type contract as pure mappings: pushed SQL, target types, overrides, names."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cdc_migrate.config.sections import ColumnOverride
from cdc_migrate.contract.docs import sample_column
from cdc_migrate.contract.mapping import map_column, map_table
from cdc_migrate.errors import ConfigError, PlanningError
from cdc_migrate.naming import TableName
from cdc_migrate.source.schema import Column, SourceTable
from cdc_migrate.spark.write import with_source_names

T = TableName("shop", "t")


def col(column_type: str, nullable: bool = True, name: str = "c") -> Column:
    c = sample_column(column_type, nullable)
    return Column(
        name, c.data_type, c.column_type, nullable, c.numeric_precision, c.numeric_scale, c.datetime_precision
    )


# Written by hand from the contract (../shared/reference/type-contract.md), not derived from the code.
CONTRACT = [
    ("tinyint", "int", "`c`"),
    ("tinyint unsigned", "int", "`c`"),
    ("tinyint(1)", "int", "CAST(`c` AS SIGNED)"),
    ("smallint", "int", "`c`"),
    ("smallint unsigned", "int", "`c`"),
    ("mediumint unsigned", "int", "`c`"),
    ("int", "int", "`c`"),
    ("int unsigned", "long", "`c`"),
    ("bigint", "long", "`c`"),
    ("bigint unsigned", "long", "`c`"),
    ("decimal(38,10)", "decimal(38,10)", "`c`"),
    ("float", "float", "`c`"),
    ("float(7,2)", "double", "`c`"),
    ("double", "double", "`c`"),
    ("bit(1)", "boolean", "CAST(`c` AS UNSIGNED)"),
    ("bit(64)", "binary", "REVERSE(`c`)"),
    ("char(8)", "string", "`c`"),
    ("enum('a','b')", "string", "`c`"),
    ("set('a','b')", "string", "`c`"),
    ("json", "string", "`c`"),
    ("longtext", "string", "`c`"),
    ("binary(4)", "binary", "`c`"),
    ("blob", "binary", "`c`"),
    ("date", "date", "CAST(`c` AS CHAR)"),
    ("datetime(6)", "timestamp", "LEFT(CAST(`c` AS CHAR), 23)"),
    ("timestamp(6)", "timestamptz", "NULLIF(CAST(UNIX_TIMESTAMP(`c`) * 1000000 AS SIGNED), 0)"),
    ("time(3)", "timestamptz", "CAST(`c` AS CHAR)"),
    ("year", "int", "CAST(`c` AS SIGNED)"),
    ("geometry", "struct<wkb: binary, srid: int>", "`c`"),
    ("polygon", "struct<wkb: binary, srid: int>", "`c`"),
    ("point", "struct<x: double, y: double, wkb: binary, srid: int>", "`c`"),
]


@pytest.mark.parametrize(("column_type", "iceberg", "pushed"), CONTRACT, ids=[c[0] for c in CONTRACT])
def test_each_mysql_type_gets_the_contract_type_and_a_driver_independent_read(
    column_type: str, iceberg: str, pushed: str
) -> None:
    m = map_column(T, col(column_type))

    assert (m.type.iceberg, m.pushed) == (iceberg, pushed)


def test_required_exactly_where_mysql_says_not_null() -> None:
    assert map_column(T, col("int", nullable=False)).required
    assert not map_column(T, col("int", nullable=True)).required


def test_not_null_columns_refuse_nulls_at_load_time() -> None:
    assert "NULL in a NOT NULL column" in map_column(T, col("int", nullable=False)).convert
    assert "NOT NULL" not in map_column(T, col("int", nullable=True)).convert


@pytest.mark.parametrize(("nullable", "zero"), [(True, "THEN NULL ELSE"), (False, "THEN DATE'1970-01-01' ELSE")])
def test_zero_dates_follow_debezium(nullable: bool, zero: str) -> None:
    assert zero in map_column(T, col("date", nullable)).convert


def test_bigint_unsigned_beyond_long_stops_with_both_fixes() -> None:
    convert = map_column(T, col("bigint unsigned")).convert

    assert "9223372036854775807" in convert
    assert 'tables.overrides."shop.t".columns.c.type = "decimal(20,0)"' in convert
    assert "bigint.unsigned.handling.mode=precise" in convert


def test_time_outside_a_day_follows_debezium_null_default_or_a_stop() -> None:
    # Debezium 3.6 (seen with the real engine): NULL where nullable, the column's DEFAULT where NOT NULL, and a
    # connector that stops on a NOT NULL column without a usable default.
    nullable = map_column(T, col("time(3)")).convert
    with_default = map_column(T, replace(col("time(3)", nullable=False), default="01:00:00.25")).convert
    without = map_column(T, replace(col("time(3)", nullable=False), default="25:00:00")).convert

    assert "ELSE NULL END" in nullable and "raise_error" not in nullable
    assert "ELSE timestamp_millis(3600250) END" in with_default
    assert "shop.t.c: TIME " in without and "outside 00:00:00-24:00:00 in a NOT NULL column" in without
    assert '"string"' not in without


@pytest.mark.parametrize(
    ("column_type", "nullable", "default", "zero"),
    [
        ("date", True, "2001-02-03", "NULL"),
        ("date", False, None, "DATE'1970-01-01'"),
        ("date", False, "2001-02-03", "DATE'2001-02-03'"),
        ("date", False, "2001-00-03", "DATE'1970-01-01'"),
        ("datetime(6)", False, "2001-02-03 04:05:06.789123", "TIMESTAMP_NTZ'2001-02-03 04:05:06.789'"),
        ("datetime", False, "0000-00-00 00:00:00", "TIMESTAMP_NTZ'1970-01-01 00:00:00'"),
        ("timestamp(3)", False, "2001-01-01 00:00:00.5", "TIMESTAMP'2001-01-01 00:00:00.5'"),
        ("timestamp", False, None, "TIMESTAMP'1970-01-01 00:00:00'"),
    ],
)
def test_zero_dates_become_null_the_default_or_the_epoch(
    column_type: str, nullable: bool, default: str | None, zero: str
) -> None:
    convert = map_column(T, replace(col(column_type, nullable), default=default)).convert

    assert f"THEN {zero}" in convert


def test_a_zero_year_month_or_day_is_a_zero_date() -> None:
    convert = map_column(T, col("date")).convert

    assert "substring(`c`, 6, 2) = '00'" in convert and "substring(`c`, 9, 2) = '00'" in convert


def test_year_0000_is_1900_and_srid_0_is_null_as_debezium_sends_them() -> None:
    assert "WHEN `c` = 0 THEN 1900" in map_column(T, col("year")).convert
    assert "NULLIF(CAST(conv(" in map_column(T, col("geometry")).convert


@pytest.mark.parametrize("column_type", ["date", "datetime(3)", "timestamp", "time"])
def test_temporal_columns_as_text_are_refused_with_the_reason(column_type: str) -> None:
    with pytest.raises(ConfigError, match=r"= 'string' is refused for .*(java.util.Date|ISO text)"):
        map_column(T, col(column_type), ColumnOverride(type="string"))


def test_a_float_primary_key_is_refused_before_anything_is_written() -> None:
    table = SourceTable(T, (col("double", False, "k"), col("int", True, "v")), ("k",))

    with pytest.raises(PlanningError, match=r"primary key of shop.t includes k \(DOUBLE, a float\).*--exclude shop.t"):
        map_table(table)


@pytest.mark.parametrize(
    ("column_type", "override", "iceberg", "pushed"),
    [
        ("bigint unsigned", "decimal(20,0)", "decimal(20,0)", "`c`"),
        ("datetime(6)", "timestamp_micros", "timestamp", "CAST(`c` AS CHAR)"),
        ("decimal(65,30)", "decimal(38,10)", "decimal(38,10)", "CAST(`c` AS CHAR)"),
        ("decimal(65,30)", "string", "string", "CAST(`c` AS CHAR)"),
        ("int", "long", "long", "`c`"),
        ("float", "double", "double", "`c`"),
    ],
)
def test_overrides_choose_another_valid_type(column_type: str, override: str, iceberg: str, pushed: str) -> None:
    m = map_column(T, col(column_type), ColumnOverride(type=override))

    assert (m.type.iceberg, m.pushed) == (iceberg, pushed)


@pytest.mark.parametrize(
    ("column_type", "override", "valid"),
    [
        ("tinyint(1)", "boolean", "valid: string"),
        ("datetime", "date", "valid: timestamp_micros"),
        ("decimal(65,30)", "decimal(40,2)", "decimal(P,S) with P <= 38"),
        ("year", "string", "none"),
    ],
)
def test_invalid_overrides_are_refused_naming_the_valid_ones(column_type: str, override: str, valid: str) -> None:
    with pytest.raises(ConfigError, match=r'tables.overrides."shop.t".columns.c.type = .* is not a valid way') as e:
        map_column(T, col(column_type), ColumnOverride(type=override))
    assert valid in str(e.value)


def test_decimal_beyond_38_digits_needs_a_choice() -> None:
    with pytest.raises(PlanningError, match=r'shop.t.c is DECIMAL\(65,30\).*"string", or "decimal\(38,30\)"'):
        map_column(T, col("decimal(65,30)"))


def test_types_outside_the_contract_need_the_string_override() -> None:
    inet = Column("addr", "inet6", "inet6", True)

    with pytest.raises(PlanningError, match=r'INET6, which the CDC type contract does not cover.*"string"'):
        map_column(T, inet)
    assert map_column(T, inet, ColumnOverride(type="string")).pushed == "CAST(`addr` AS CHAR)"


def test_column_names_are_lower_cased_and_collisions_listed() -> None:
    # MySQL column names are case-insensitive, so collisions come from chosen names.
    table = SourceTable(T, (col("int", False, "Id"), col("int", True, "Name"), col("int", True, "mail")), ("Id",))

    with pytest.raises(PlanningError, match=r"Name, mail -> name.*columns.<column>.name"):
        map_table(table, {"MAIL": ColumnOverride(name="name")})
    mapping = map_table(table, {"mail": ColumnOverride(name="email")})
    assert [c.name for c in mapping.columns] == ["id", "name", "email"]
    assert mapping.identifier == ("id",)
    assert mapping.renamed() == {"id": "Id", "name": "Name", "email": "mail"}


def test_chosen_names_must_be_lower_case() -> None:
    table = SourceTable(T, (col("int", False, "id"),), ("id",))

    with pytest.raises(ConfigError, match="target column name 'ID' must be non-empty lower case"):
        map_table(table, {"id": ColumnOverride(name="ID")})


def test_overrides_for_missing_columns_are_refused() -> None:
    table = SourceTable(T, (col("int", False, "id"),), ("id",))

    with pytest.raises(ConfigError, match="columns names nope, not columns of shop.t; its columns are id"):
        map_table(table, {"nope": ColumnOverride(type="string")})


def test_required_paths_include_required_struct_fields() -> None:
    table = SourceTable(T, (col("int", False, "id"), col("geometry", False, "g"), col("point", True, "p")), ("id",))

    # Geometry columns are optional whatever MySQL says: Debezium's Geometry schema is (the sink relaxes them).
    assert map_table(table).required_paths() == ["id", "g.wkb", "p.x", "p.y"]


def test_select_pushes_every_column_under_its_target_name() -> None:
    table = SourceTable(T, (col("int", False, "Id"), col("date", True, "d")), ("Id",))

    assert map_table(table).select_sql() == "SELECT `Id` AS `id`, CAST(`d` AS CHAR) AS `d` FROM `shop`.`t`"


def test_name_mapping_gets_the_source_names_of_renamed_columns() -> None:
    default = [{"field-id": 1, "names": ["id"]}, {"field-id": 2, "names": ["email"]}]

    assert with_source_names(default, {"id": "ID"}) == [
        {"field-id": 1, "names": ["id", "ID"]},
        {"field-id": 2, "names": ["email"]},
    ]
