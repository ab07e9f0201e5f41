"""The Iceberg sink CDC continues with, reproduced for the tests: tabular-io/iceberg-kafka-connect v0.6.19
(`io.tabular.iceberg.connect.IcebergSinkConnector`) with the seed's settings (upsert mode,
`iceberg.tables.cdc-field=_cdc.op`, `DebeziumTransform`, `evolve-schema-enabled=true`).

There is no Kafka broker and no sink jar here, so this follows the sink's source line by line (paths below
are at tag v0.6.19 of tabular-io/iceberg-kafka-connect, and Iceberg 1.5.2's BaseTaskWriter, which it uses):

- Operation: `kafka-connect-transforms/.../DebeziumTransform.java` `mapOperation` (l.168-178): Debezium "u" ->
  U, "d" -> D, "c", "r" and anything else -> I; the payload is `before` for D, else `after` (l.82-88).
  `kafka-connect/.../data/IcebergWriter.java` `extractCdcOperation` (l.109-131) reads `_cdc.op`; a null
  record value (a tombstone) is skipped (l.67).
- Write semantics: `data/BaseDeltaTaskWriter.java` `write` (l.72-84): U and D delete the key, U and I write
  the row. Iceberg's `BaseTaskWriter.BaseEqualityDeltaWriter`: `write` remembers each key written in this
  commit and position-deletes the earlier row of the same key written in the same commit; `deleteKey`
  position-deletes the row written in this commit if there is one, else writes an equality delete, which
  applies to rows of EARLIER commits only (lower data sequence numbers). So an insert of a key the load
  already holds appends a second row, and a delete of a key inserted earlier in the same commit leaves
  the loaded copy alive.
- Values: `data/RecordConverter.java` `convertValue` (l.105-144) and the per-type converters (l.302-506),
  into the column types of the loaded table; fields are found through the table's name mapping when it has
  one (l.245-271), else by exact name. Schema evolution (l.214-230, `SchemaUtils.needsDataTypeUpdate`
  l.75-83): int -> long for INT64, float -> double for FLOAT64, required -> optional for an optional field,
  and an added column for a field the table lacks (the `_cdc` struct on the first record).

Connect values arrive as the JsonConverter (schemas enabled) rebuilds them: Date, Time and Timestamp logical
types as java.util.Date, Decimal as BigDecimal, bytes as byte[], structs as Struct.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from pyiceberg.schema import Schema
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

EPOCH = datetime(1970, 1, 1)
EPOCH_DATE = date(1970, 1, 1)


@dataclass(frozen=True)
class JavaDate:
    """A java.util.Date: milliseconds since the epoch (Connect's Date, Time and Timestamp)."""

    millis: int


@dataclass(frozen=True)
class JavaStruct:
    """A Connect Struct: field values in schema order."""

    fields: dict[str, Any]


class SinkError(AssertionError):
    """What would make the real sink task fail (a value its converter rejects)."""


# ---- Connect values from the JsonConverter ---------------------------------------------------------------


def connect_value(schema: dict[str, Any], value: Any) -> Any:
    """A JSON payload value as the Connect value the JsonConverter makes of it (schemas enabled)."""
    if value is None:
        return None
    name, kind = schema.get("name"), schema["type"]
    if name == "org.apache.kafka.connect.data.Decimal":
        unscaled = int.from_bytes(base64.b64decode(value), "big", signed=True)
        return Decimal(f"{unscaled}E-{int(schema['parameters']['scale'])}")  # exact, as a BigDecimal
    if name == "org.apache.kafka.connect.data.Date":
        return JavaDate(int(value) * 86_400_000)
    if name in ("org.apache.kafka.connect.data.Time", "org.apache.kafka.connect.data.Timestamp"):
        return JavaDate(int(value))
    if kind == "bytes":
        return base64.b64decode(value)
    if kind == "struct":
        return JavaStruct({f["field"]: connect_value(f, value.get(f["field"])) for f in schema["fields"]})
    if kind in ("float", "float32"):
        return _float32(float(value))
    return value  # int8-64 (a Java Number), float64, boolean, string


def _float32(value: float) -> float:
    return float(struct.unpack("<f", struct.pack("<f", value))[0])


# ---- RecordConverter (data/RecordConverter.java) ---------------------------------------------------------


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


def _java_int(v: int, bits: int) -> int:
    """Java's Number.intValue()/longValue(): the low bits of the integer part."""
    v = int(v)
    return ((v + (1 << (bits - 1))) % (1 << bits)) - (1 << (bits - 1))


def _java_text(v: Any) -> str:
    """Number.toString(): BigDecimal's scientific string (Python's Decimal str is the same), Double's form."""
    if isinstance(v, Decimal):
        return str(v)
    if isinstance(v, float):
        if v == 0 or 1e-3 <= abs(v) < 1e7:
            return repr(v) if "e" not in repr(v) else f"{v:.1f}"
        mantissa, exponent = f"{v:e}".split("e")
        digits = repr(float(mantissa)).rstrip("0").rstrip(".")
        digits = digits if "." in digits else digits + ".0"
        return f"{digits}E{int(exponent)}"
    return str(v)


def _millis_to_micros(millis: int) -> int:
    return millis * 1000


def convert_value(value: Any, ice: IcebergType, where: str) -> Any:  # RecordConverter.convertValue l.105-144
    if value is None:
        return None
    if isinstance(ice, IntegerType):  # convertInt l.302-309
        if _is_number(value):
            return _java_int(value, 32)
        if isinstance(value, str):
            return int(value)
    elif isinstance(ice, LongType):  # convertLong l.311-318
        if _is_number(value):
            return _java_int(value, 64)
        if isinstance(value, str):
            return int(value)
    elif isinstance(ice, FloatType):  # convertFloat l.320-327
        if _is_number(value) or isinstance(value, str):
            return _float32(float(value))
    elif isinstance(ice, DoubleType):  # convertDouble l.329-336
        if _is_number(value) or isinstance(value, str):
            return float(value)
    elif isinstance(ice, DecimalType):  # convertDecimal l.338-357
        if isinstance(value, Decimal):
            d = value
        elif _is_number(value):
            d = Decimal(int(value)) if float(value) == int(float(value)) else Decimal(repr(float(value)))
        elif isinstance(value, str):
            d = Decimal(value)
        else:
            raise SinkError(f"{where}: Cannot convert to BigDecimal: {type(value).__name__}")
        return d.quantize(Decimal(f"1E-{ice.scale}"), rounding=ROUND_HALF_UP, context=Context(prec=100))
    elif isinstance(ice, BooleanType):  # convertBoolean l.359-366
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return value.lower() == "true"
    elif isinstance(ice, StringType):  # convertString l.368-385
        if isinstance(value, str):
            return value
        if _is_number(value) or isinstance(value, bool):
            return _java_text(value) if not isinstance(value, bool) else str(value).lower()
    elif isinstance(ice, BinaryType):  # convertBase64Binary l.396-405
        if isinstance(value, str):
            return base64.b64decode(value)
        if isinstance(value, bytes):
            return value
    elif isinstance(ice, DateType):  # convertDateValue l.407-420
        if _is_number(value):
            return EPOCH_DATE + timedelta(days=int(value))
        if isinstance(value, str):
            return date.fromisoformat(value)
        if isinstance(value, JavaDate):
            return EPOCH_DATE + timedelta(days=int(value.millis / 86_400_000))  # Java int division
    elif isinstance(ice, TimestamptzType | TimestampType):  # convertTimestampValue l.437-495
        zone = UTC if isinstance(ice, TimestamptzType) else None
        if _is_number(value) or isinstance(value, JavaDate):
            millis = value.millis if isinstance(value, JavaDate) else int(value)
            micros = _millis_to_micros(millis)
            return (EPOCH + timedelta(microseconds=micros)).replace(tzinfo=zone)
        if isinstance(value, str):
            text = value.replace(" ", "T", 1) if len(value) > 10 and value[10] == " " else value
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if zone is None:
                return parsed.replace(tzinfo=None)
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    elif isinstance(ice, StructType) and isinstance(value, JavaStruct):  # convertStructValue l.146-157
        return {f.name: convert_value(value.fields.get(f.name), f.field_type, f"{where}.{f.name}") for f in ice.fields}
    raise SinkError(f"{where}: the sink cannot write {type(value).__name__} {value!r} into a {ice} column")


# ---- the table and its commits (BaseDeltaTaskWriter, BaseEqualityDeltaWriter) ----------------------------


@dataclass
class _Row:
    values: dict[str, Any]
    sequence: int  # the data sequence number of the commit that wrote it
    deleted: bool = False


@dataclass
class SinkTable:
    """One Iceberg table as the sink writes into it: rows with their commit's sequence number, deletes."""

    schema: Schema
    identifier: tuple[str, ...]
    name_mapping: dict[str, str] | None  # record field name -> column name
    rows: list[_Row] = field(default_factory=list)
    sequence: int = 1
    evolutions: set[str] = field(default_factory=set)
    _pending_eq: list[tuple[Any, ...]] = field(default_factory=list)
    _inserted: dict[tuple[Any, ...], _Row] = field(default_factory=dict)

    @classmethod
    def loaded(cls, table: Any) -> SinkTable:
        """The table as the load committed it (read with PyIceberg): every row at sequence 1."""
        schema: Schema = table.schema()
        identifier = tuple(schema.find_field(i).name for i in sorted(schema.identifier_field_ids))
        mapping = None
        if table.properties.get("schema.name-mapping.default"):
            mapping = {}
            for f in table.name_mapping():
                for name in f.names:
                    mapping[name] = f.names[0]
        rows = [_Row(r, 1) for r in table.scan().to_arrow().to_pylist()]
        return cls(schema, identifier, mapping, rows)

    def _column(self, record_field: str) -> NestedField | None:  # lookupStructField l.245-255
        name = self.name_mapping.get(record_field) if self.name_mapping is not None else record_field
        try:
            return self.schema.find_field(name) if name else None
        except ValueError:
            return None

    def convert(self, fields: dict[str, tuple[dict[str, Any], Any]], where: str) -> dict[str, Any]:
        row: dict[str, Any] = {}
        for name, (schema, value) in fields.items():
            column = self._column(name)
            if column is None:  # schema evolution adds it (l.204-212)
                self.evolutions.add(f"add column {name}")
                continue
            if isinstance(column.field_type, IntegerType) and schema["type"] == "int64":
                self.evolutions.add(f"{column.name}: int -> long")
            if isinstance(column.field_type, FloatType) and schema["type"] == "float64":
                self.evolutions.add(f"{column.name}: float -> double")
            if column.required and schema.get("optional", True):
                self.evolutions.add(f"{column.name}: required -> optional")
            row[column.name] = convert_value(connect_value(schema, value), column.field_type, f"{where}.{column.name}")
        return row

    def _key(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row.get(k) for k in self.identifier)

    def write(self, op: str, row: dict[str, Any]) -> None:
        """BaseDeltaTaskWriter.write (l.72-84) over BaseEqualityDeltaWriter.write/deleteKey."""
        key = self._key(row)
        if op in ("U", "D"):  # deleteKey: a position delete of this commit's row, else an equality delete
            earlier = self._inserted.pop(key, None)
            if earlier is not None:
                earlier.deleted = True
            else:
                self._pending_eq.append(key)
        if op in ("U", "I"):  # write: a position delete of this commit's earlier row of the key
            new = _Row({c.name: row.get(c.name) for c in self.schema.fields}, self.sequence + 1)
            earlier = self._inserted.get(key)
            if earlier is not None:
                earlier.deleted = True
            self._inserted[key] = new
            self.rows.append(new)

    def commit(self) -> None:
        """One sink commit: equality deletes apply to rows of earlier commits only."""
        self.sequence += 1
        for key in self._pending_eq:
            for r in self.rows:
                if not r.deleted and r.sequence < self.sequence and self._key(r.values) == key:
                    r.deleted = True
        self._pending_eq.clear()
        self._inserted.clear()

    def live(self) -> list[dict[str, Any]]:
        return [r.values for r in self.rows if not r.deleted]


def apply_events(tables: dict[str, SinkTable], events: list[dict[str, Any]], commit_every: int = 50) -> int:
    """Writes Debezium change events (JsonConverter envelopes, in topic order) as the sink would, committing
    every `commit_every` records; `tables` are keyed by `db.table` (the DebeziumTransform's `_cdc.source`).
    Returns the number of records written."""
    written = 0
    for envelope in events:
        if envelope is None:  # a tombstone (IcebergWriter l.67)
            continue
        schema, payload = envelope["schema"], envelope["payload"]
        op = {"u": "U", "d": "D"}.get(payload["op"], "I")  # DebeziumTransform.mapOperation
        side = "before" if op == "D" else "after"
        source = payload["source"]
        table = tables.get(f"{source['db']}.{source['table']}")
        if table is None:
            continue
        side_schema = next(f for f in schema["fields"] if f["field"] == side)
        fields = {f["field"]: (f, payload[side].get(f["field"])) for f in side_schema["fields"]}
        table.evolutions.add("add column _cdc")
        table.write(op, table.convert(fields, f"{source['db']}.{source['table']}"))
        written += 1
        if written % commit_every == 0:
            for t in tables.values():
                t.commit()
    for t in tables.values():
        t.commit()
    return written


def differences(source: list[dict[str, Any]], sink: list[dict[str, Any]], key: tuple[str, ...]) -> dict[str, list[Any]]:
    """Duplicated keys, missing rows, extra (resurrected or stale) rows and rows whose values differ."""
    by_key: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in sink:
        by_key.setdefault(tuple(r[k] for k in key), []).append(r)
    expected = {tuple(r[k] for k in key): r for r in source}
    out: dict[str, list[Any]] = {
        "duplicated": sorted(k for k, rs in by_key.items() if len(rs) > 1),
        "missing": sorted(expected.keys() - by_key.keys()),
        "extra": sorted(by_key.keys() - expected.keys()),
        "different": [],
    }
    for k in sorted(expected.keys() & by_key.keys()):
        got = by_key[k][-1]
        diff = {c: (got.get(c), v) for c, v in expected[k].items() if got.get(c) != v}
        if diff:
            out["different"].append((k, diff))
    return out
