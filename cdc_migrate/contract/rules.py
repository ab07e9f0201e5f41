"""The CDC type contract, one row per MySQL type: which columns, what Debezium sends, how the load reads and
converts them, the other ways to load them, what CDC writes differently from MySQL, how a validation compares
them, and whether their keys split into ranges that MySQL and Iceberg order alike (pure)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from importlib.resources import files

from cdc_migrate.contract import conversions as v
from cdc_migrate.contract import temporal as t
from cdc_migrate.contract import types as ty
from cdc_migrate.contract.types import Canonical, Choice, Ctx
from cdc_migrate.source.schema import Column

ChoiceBuilder = Callable[[Ctx], Choice]
CanonicalForm = Callable[[Ctx, Choice, str | None], Canonical | None]
ColumnTest = Callable[[Column], bool]


def _of(*types: str) -> ColumnTest:
    return lambda c: c.data_type in types


def _always(c: Column) -> bool:
    return True


def _never(c: Column) -> bool:
    return False


def _binary_collation(c: Column) -> bool:
    """Text keys order alike in MySQL and Iceberg (bytes) only under a binary collation."""
    return c.data_type in ("char", "varchar") and (c.collation or "").endswith("_bin")


@dataclass(frozen=True)
class Rule:
    """One row of the contract.

    choices: the other ways to load the column (the `type` override); refused: overrides that cannot work with
    CDC, and why; cdc: where what Debezium sends (and the load therefore writes) differs from the value in
    MySQL; canonical: the text a validation compares on both sides (None: compared by presence only);
    splittable: its key values split into ranges (MySQL orders them as the literals we write); ordered: those
    ranges select the same rows in Iceberg (so a validation can compare range by range). mysql, debezium,
    samples, refused and cdc are documentation, read from rules.toml.
    """

    name: str
    matches: ColumnTest
    default: ChoiceBuilder
    canonical: CanonicalForm
    choices: dict[str, ChoiceBuilder] = field(default_factory=dict)
    splittable: ColumnTest = _always
    ordered: ColumnTest = _always
    mysql: str = ""
    debezium: str = ""
    samples: tuple[str, ...] = ()  # COLUMN_TYPEs shown in the generated documentation
    refused: dict[str, str] = field(default_factory=dict)
    cdc: str = ""


def _is_tinyint1(c: Column) -> bool:
    return c.data_type == "tinyint" and c.column_type.lower().startswith("tinyint(1)") and not c.unsigned


def _is_int(c: Column) -> bool:
    small = ("tinyint", "smallint", "mediumint")
    return (c.data_type in (*small, "int", "integer") and not c.unsigned) or (c.data_type in small and c.unsigned)


def _is_long(c: Column) -> bool:
    return (c.data_type in ("int", "integer") and c.unsigned) or (c.data_type == "bigint" and not c.unsigned)


def _is_bigint_unsigned(c: Column) -> bool:
    return c.data_type == "bigint" and c.unsigned


TEXT_TYPES = ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set")
BINARY_TYPES = ("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob")
GEOMETRY_TYPES = (
    *("geometry", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon"),
    *("geometrycollection", "geomcollection"),
)
# Iceberg refuses float and double identifier fields.
FLOATING_TYPES = ("float", "double", "real")

_DOCS = tomllib.loads(files("cdc_migrate.contract").joinpath("rules.toml").read_text(encoding="utf-8"))


def _documented(rule: Rule) -> Rule:
    """The rule with its documentation from rules.toml."""
    doc = _DOCS["rules"][rule.name]
    refused = {k: _DOCS["reasons"][why] for k, why in doc.get("refused", {}).items()}
    samples = tuple(doc["samples"])
    return replace(
        rule, mysql=doc["mysql"], debezium=doc["debezium"], samples=samples, refused=refused, cdc=doc.get("cdc", "")
    )


STRING: dict[str, ChoiceBuilder] = {"string": v.text_choice}
TEXT_KEYS = _of("char", "varchar")
BYTES_KEYS = _of("binary", "varbinary")
AS_STRING = v.as_is(ty.STRING)
AS_BINARY = v.as_is(ty.BINARY)
NUMBER = v.number_canonical

RULES: tuple[Rule, ...] = tuple(
    _documented(r)
    for r in (
        Rule("tinyint1", _is_tinyint1, v.tinyint1_choice, v.tinyint1_canonical, STRING),
        Rule("int", _is_int, v.as_is(ty.INT), NUMBER, {"long": v.as_is(ty.LONG), **STRING}),
        Rule("long", _is_long, v.as_is(ty.LONG), NUMBER, STRING),
        Rule(
            "bigint_unsigned",
            _is_bigint_unsigned,
            v.bigint_unsigned_long,
            NUMBER,
            {"decimal(20,0)": v.as_is(ty.decimal(20, 0)), **STRING},
        ),
        Rule("decimal", _of("decimal", "numeric"), v.decimal_default, v.decimal_canonical, STRING),
        Rule("float", _of("float"), v.float_choice, v.uncompared, {"double": v.float_as_double}, ordered=_never),
        Rule(
            "double", _of("double", "real"), v.as_is(ty.DOUBLE), v.uncompared, splittable=_of("double"), ordered=_never
        ),
        Rule("bit", _of("bit"), v.bit_choice, v.bit_canonical, splittable=_never, ordered=_never),
        Rule(
            "text",
            _of(*TEXT_TYPES),
            v.text_default,
            v.string_canonical,
            splittable=TEXT_KEYS,
            ordered=_binary_collation,
        ),
        Rule("json", _of("json"), AS_STRING, v.string_canonical, splittable=_never, ordered=_never),
        Rule("binary", _of(*BINARY_TYPES), AS_BINARY, v.binary_canonical, splittable=BYTES_KEYS, ordered=BYTES_KEYS),
        Rule("date", _of("date"), t.date_choice, t.date_canonical),
        Rule(
            "datetime",
            _of("datetime"),
            t.datetime_choice(micros=False),
            t.datetime_canonical,
            {"timestamp_micros": t.datetime_choice(micros=True)},
            ordered=_never,
        ),
        Rule("timestamp", _of("timestamp"), t.timestamp_choice, t.timestamp_canonical, ordered=_never),
        Rule("time", _of("time"), t.time_choice, t.time_canonical, ordered=_never),
        Rule("year", _of("year"), t.year_choice, t.year_canonical),
        Rule("point", _of("point"), v.point_choice, v.geometry_canonical, splittable=_never, ordered=_never),
        Rule(
            "geometry", _of(*GEOMETRY_TYPES), v.geometry_choice, v.geometry_canonical, splittable=_never, ordered=_never
        ),
    )
)


def rule_for(column: Column) -> Rule | None:
    """The contract's row for a column, or None for a type it does not cover."""
    return next((r for r in RULES if r.matches(column)), None)


def splittable(column: Column) -> bool:
    """Whether a key column's values split into ranges MySQL selects by the literals we write."""
    rule = rule_for(column)
    return rule is not None and rule.splittable(column)


def order_preserving(column: Column) -> bool:
    """Whether MySQL and Iceberg order the column's values alike, so a key range selects the same rows."""
    rule = rule_for(column)
    return rule is not None and rule.splittable(column) and rule.ordered(column)
