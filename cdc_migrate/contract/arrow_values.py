"""The Arrow path's conversions (contract/arrow.py decides which, per column): pyarrow.compute over the values a
reader gave, making exactly what the JDBC path's Spark conversion makes (run in the read tasks; pyarrow is imported
there, not where the contract is planned)."""

from __future__ import annotations

from typing import Any

from cdc_migrate.contract.arrow import ArrowColumn
from cdc_migrate.contract.expressions import LONG_MAX
from cdc_migrate.contract.mapping import NULL_IN_NOT_NULL
from cdc_migrate.contract.temporal import TIME_IN_RANGE


def apply_conversion(column: ArrowColumn, values: Any) -> Any:
    """`values` as the reader gave them, converted as the column's kind says; a NOT NULL column's NULL is an error."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    converted = _KINDS[column.kind](column, values)
    if column.required and converted.null_count:
        raise column.error(text=NULL_IN_NOT_NULL)
    return converted


def _int(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa

    return values.cast(pa.int32())


def _long(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa

    return values.cast(pa.int64())


def _unsigned_long(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    top = pc.max(values).as_py()
    if top is not None and int(top) > LONG_MAX:
        raise column.error(top)
    return values.cast(pa.int64())


def _unsigned_decimal(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa

    return values.cast(pa.decimal128(20, 0))


def _decimal_values(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa

    return values.cast(pa.decimal128(column.precision, column.scale))


def _decimal_rounded(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    wide = values.cast(pa.decimal256(76, column.source_scale))  # every DECIMAL(65,S) fits
    rounded = pc.round(wide, ndigits=column.scale, round_mode="half_towards_infinity")  # Java's HALF_UP
    try:
        return rounded.cast(pa.decimal256(76, column.scale)).cast(pa.decimal128(column.precision, column.scale))
    except pa.ArrowInvalid:
        import decimal

        wide_context = decimal.Context(prec=100, rounding=decimal.ROUND_HALF_UP)
        quantum = decimal.Decimal(1).scaleb(-column.scale)
        for value in values.to_pylist():
            if value is not None:
                exact = wide_context.quantize(decimal.Decimal(value), quantum)
                if len(exact.as_tuple().digits) > column.precision:
                    raise column.error(value) from None
        raise


def _float(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa

    return values.cast(pa.float32())


def _double(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa

    return values.cast(pa.float64())


def _float_double(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa

    return values.cast(pa.float32()).cast(pa.float64())


def _boolean(column: ArrowColumn, values: Any) -> Any:
    import pyarrow.compute as pc

    return pc.not_equal(values, 0)


def _binary(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa

    return values.cast(pa.large_binary())


def _string(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa

    return values.cast(pa.large_string())


def _java_text(column: ArrowColumn, values: Any) -> Any:
    """A column's bytes decoded as Java decodes them with its one-byte charset (column.decoding: what each byte is):
    an ASCII value is itself in every such charset, the others go byte by byte through the table."""
    import codecs

    import pyarrow as pa
    import pyarrow.compute as pc

    if len(column.decoding) != 256:
        raise ValueError(f"{column.where}: no decoding table for {column.encoding}")
    binary = values.cast(pa.large_binary())
    text = binary.cast(pa.large_string(), safe=False)  # checked below before it is kept
    ascii_only = pc.fill_null(pc.string_is_ascii(text), True)
    if pc.all(ascii_only).as_py():
        return text
    decoded = [
        None if raw is None or plain else codecs.charmap_decode(raw, "strict", column.decoding)[0]
        for raw, plain in zip(binary.to_pylist(), ascii_only.to_pylist(), strict=True)
    ]
    return pc.if_else(ascii_only, text, pa.array(decoded, pa.large_string()))


def _year(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    # Debezium's binlog decoder returns 1900 + the stored byte, so YEAR 0000 arrives as 1900.
    return pc.if_else(pc.equal(values, 0), 1900, values).cast(pa.int32())


def _native_date(column: ArrowColumn, values: Any) -> Any:
    import pyarrow as pa

    return values.cast(pa.date32())


def _native_datetime(column: ArrowColumn, values: Any) -> Any:
    """A DATETIME as the reader gave it (microseconds), truncated to milliseconds where the contract says so."""
    import pyarrow as pa
    import pyarrow.compute as pc

    micros = values.cast(pa.timestamp("us"))
    return pc.floor_temporal(micros, unit="millisecond") if column.scale == 3 else micros


def _native_timestamp(column: ArrowColumn, values: Any) -> Any:
    """A TIMESTAMP as the reader gave it in the session's zone, UTC."""
    import pyarrow as pa

    return values.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))


def _time(column: ArrowColumn, values: Any) -> Any:
    """'HH:MM:SS[.ffffff]' inside 00:00:00-24:00:00 to a timestamptz at 1970-01-01 plus the time of day, truncated to
    milliseconds; outside, NULL where nullable, else the column's DEFAULT, else an error."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = values.cast(pa.string())
    inside = pc.fill_null(pc.match_substring_regex(text, TIME_IN_RANGE), False)
    kept = pc.if_else(inside, text, pa.scalar(None, pa.string()))

    def part(start: int, stop: int) -> Any:
        return pc.utf8_slice_codeunits(kept, start, stop).cast(pa.int64())

    fraction = pc.utf8_rpad(pc.utf8_slice_codeunits(kept, 9, 12), width=3, padding="0").cast(pa.int64())
    millis = pc.add(
        pc.add(pc.multiply(part(0, 2), 3_600_000), pc.multiply(part(3, 5), 60_000)),
        pc.add(pc.multiply(part(6, 8), 1000), fraction),
    )
    outside = pc.and_(pc.invert(inside), pc.invert(text.is_null()))
    if pc.any(outside).as_py():
        if column.required and column.outside_millis is None:
            first = pc.filter(text, outside)[0].as_py()
            raise column.error(first)
        fill = None if not column.required else column.outside_millis
        millis = pc.if_else(outside, pa.scalar(fill, pa.int64()), millis)
    return pc.multiply(millis, 1000).cast(pa.timestamp("us", tz="UTC"))


def _point(column: ArrowColumn, values: Any) -> Any:
    """MySQL's internal POINT (4 bytes little-endian SRID, then WKB: byte order, type, x, y) as Debezium's
    Point {x, y, wkb, srid}; an SRID of 0 is a null srid. (Per value: points are rarely many.)"""
    import struct

    import pyarrow as pa

    rows: list[dict[str, Any] | None] = []
    for value in values.cast(pa.large_binary()).to_pylist():
        if value is None:
            rows.append(None)
            continue
        if len(value) < 25 or value[4] != 1:
            raise column.error()
        (srid,) = struct.unpack_from("<I", value, 0)
        x, y = struct.unpack_from("<dd", value, 9)
        rows.append({"x": x, "y": y, "wkb": value[4:], "srid": srid or None})
    return pa.array(
        rows, pa.struct([("x", pa.float64()), ("y", pa.float64()), ("wkb", pa.large_binary()), ("srid", pa.int32())])
    )


def _geometry(column: ArrowColumn, values: Any) -> Any:
    """MySQL's internal geometry (4 bytes little-endian SRID, then WKB) as Debezium's Geometry {wkb, srid}."""
    import struct

    import pyarrow as pa

    rows: list[dict[str, Any] | None] = []
    for value in values.cast(pa.large_binary()).to_pylist():
        if value is None:
            rows.append(None)
            continue
        (srid,) = struct.unpack_from("<I", value, 0)
        rows.append({"wkb": value[4:], "srid": srid or None})
    return pa.array(rows, pa.struct([("wkb", pa.large_binary()), ("srid", pa.int32())]))


def _first_failing(values: Any, target: Any) -> Any:
    """The first value that does not convert to `target` (for the error's message)."""
    import pyarrow as pa

    for value in values.to_pylist():
        if value is None:
            continue
        try:
            pa.array([value]).cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return value
    return None


_KINDS = {
    "int": _int,
    "long": _long,
    "unsigned_long": _unsigned_long,
    "unsigned_decimal": _unsigned_decimal,
    "decimal": _decimal_values,
    "decimal_rounded": _decimal_rounded,
    "float": _float,
    "double": _double,
    "float_double": _float_double,
    "boolean": _boolean,
    "binary": _binary,
    "string": _string,
    "java_text": _java_text,
    "year": _year,
    "native_date": _native_date,
    "native_datetime": _native_datetime,
    "native_timestamp": _native_timestamp,
    "time": _time,
    "point": _point,
    "geometry": _geometry,
}
