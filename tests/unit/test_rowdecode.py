"""The compiled row readers' value decoding against python-mysql-replication's own (its private readers, fed the
same bytes), then canonical_value: every DECIMAL width and sign, DATETIME, TIMESTAMP and TIME at every fractional
width (TIME negative too), zero and partial dates. The whole path is checked on a real server's binlog in
tests/integration/test_changelog.py."""

from __future__ import annotations

import decimal
import random
from typing import Any

import pytest
from pymysqlreplication.row_event import RowsEvent

from cdc_migrate.naming import TableName
from cdc_migrate.source.rowdecode import (
    NEWDECIMAL,
    Logged,
    _datetime_text,
    _decimal_size,
    _time_text,
    _timestamp_value,
    compile_reader,
)
from cdc_migrate.source.rowimage import canonical_value
from cdc_migrate.source.schema import Column, SourceTable

_SIZES = (0, 1, 1, 2, 2, 3, 3, 4, 4, 4)


class _Packet:
    """The few reads python-mysql-replication's value readers make, over bytes."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at, self.back = data, 0, b""

    def read(self, n: float) -> bytes:
        n = int(n)
        if self.back:
            head, self.back = self.back[:n], self.back[n:]
            n -= len(head)
        else:
            head = b""
        out = head + self.data[self.at : self.at + n]
        self.at += n
        return out

    def read_uint8(self) -> int:
        return self.read(1)[0]

    def unread(self, data: bytes) -> None:
        self.back += data

    def read_int_be_by_size(self, size: int) -> int:
        return int.from_bytes(self.read(size), "big", signed=True)


def _theirs(method: str, data: bytes, **column: Any) -> Any:
    """python-mysql-replication's reader `method` of a column with these attributes, over `data`."""
    event = object.__new__(RowsEvent)
    event.packet = _Packet(data)  # type: ignore[attr-defined]
    meta = type("Meta", (), {"name": "c", **column})()
    return getattr(event, f"_RowsEvent__{method}")(meta)


def _decimal_bytes(value: decimal.Decimal, precision: int, scale: int) -> bytes:
    negative = value.is_signed()
    text = f"{abs(value).quantize(decimal.Decimal(1).scaleb(-scale)):f}"
    whole, _, part = text.partition(".")
    whole, part, integral = whole.rjust(precision - scale, "0"), part.ljust(scale, "0"), precision - scale
    out, lead = b"", integral % 9
    if lead:
        out += int(whole[:lead]).to_bytes(_SIZES[lead], "big")
    out += b"".join(int(whole[lead + 9 * k : lead + 9 * k + 9]).to_bytes(4, "big") for k in range(integral // 9))
    out += b"".join(int(part[9 * k : 9 * k + 9]).to_bytes(4, "big") for k in range(scale // 9))
    if scale % 9:
        out += int(part[scale - scale % 9 :]).to_bytes(_SIZES[scale % 9], "big")
    flipped = bytearray(out)
    flipped[0] ^= 0x80
    return bytes(b ^ 0xFF for b in flipped) if negative else bytes(flipped)


@pytest.mark.parametrize(
    ("precision", "scale"), [(1, 0), (9, 0), (10, 2), (12, 2), (18, 9), (27, 27), (38, 10), (65, 0), (65, 30)]
)
def test_decimals_of_every_width_and_sign(precision: int, scale: int) -> None:
    decimal.getcontext().prec = 200
    rng = random.Random(precision * 100 + scale)
    column = Column("d", "decimal", f"decimal({precision},{scale})", True, precision, scale)
    reader = compile_reader(
        SourceTable(TableName("db", "t"), (column,), (), 0), [Logged(NEWDECIMAL, precision=precision, decimals=scale)]
    )
    assert reader is not None
    for _ in range(500):
        magnitude = rng.randint(0, 10 ** rng.randint(0, precision) - 1)
        value = decimal.Decimal(magnitude * rng.choice((1, -1))).scaleb(-scale)
        data = _decimal_bytes(value, precision, scale)
        assert len(data) == _decimal_size(precision, scale)
        theirs = _theirs("read_new_decimal", data, precision=precision, decimals=scale)
        assert [repr(image[0]) for image in reader.write(b"\x00" + data)] == [repr(theirs)]  # (a null bitmap first)


def _packed_datetime(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    return (1 << 39) | ((year * 13 + month) << 22) | (day << 17) | (hour << 12) | (minute << 6) | second


@pytest.mark.parametrize("fsp", range(7))
def test_datetimes_timestamps_and_times_at_every_fractional_width(fsp: int) -> None:
    rng = random.Random(fsp)
    frac = (fsp + 1) // 2
    column = Column("c", "datetime", f"datetime({fsp})", True, datetime_precision=fsp)
    stamp = Column("c", "timestamp", f"timestamp({fsp})", True, datetime_precision=fsp)
    clock = Column("c", "time", f"time({fsp})", True, datetime_precision=fsp)
    cases = [
        (0, 0, 0, 0, 0, 0),
        (2020, 0, 15, 1, 2, 3),
        (2020, 2, 0, 0, 0, 0),
        (0, 1, 1, 0, 0, 0),
        (9999, 12, 31, 23, 59, 59),
    ]
    cases += [
        (rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23), 59, 0) for _ in range(200)
    ]
    for parts in cases:
        micros = rng.randint(0, 10**fsp - 1) * 10 ** (fsp % 2) if fsp else 0
        data = _packed_datetime(*parts).to_bytes(5, "big") + (micros.to_bytes(frac, "big") if frac else b"")
        value = _theirs("read_datetime2", data, fsp=fsp)
        source = "out of datetime2 range" if value is None else None  # what its caller notes for a None
        assert _datetime_text(data, fsp, fsp) == canonical_value(column, value, source)
        seconds = rng.randint(0, 2**31 - 1).to_bytes(4, "big") + (micros.to_bytes(frac, "big") if frac else b"")
        theirs = _theirs_timestamp(seconds, fsp)
        assert repr(_timestamp_value(seconds, fsp, fsp)) == repr(canonical_value(stamp, theirs))
    for _ in range(300):
        hours, negative = rng.randint(0, 838), rng.random() < 0.5
        packed = (hours << 12) | (rng.randint(0, 59) << 6) | rng.randint(0, 59)
        fraction = rng.randint(0, 10**fsp - 1) * 10 ** (fsp % 2) if fsp else 0
        whole = ((1 << 23) | packed) << (8 * frac) | fraction
        if negative:
            whole = (1 << (24 + 8 * frac)) - whole
        data = whole.to_bytes(3 + frac, "big")
        value = _theirs("read_time2", data, fsp=fsp)
        assert _time_text(data, fsp, fsp) == canonical_value(clock, value)


def _theirs_timestamp(data: bytes, fsp: int) -> Any:
    import datetime

    event = object.__new__(RowsEvent)
    event.packet = _Packet(data[4:])  # type: ignore[attr-defined]
    meta = type("Meta", (), {"fsp": fsp})()
    moment = datetime.datetime.utcfromtimestamp(int.from_bytes(data[:4], "big", signed=True))
    return event._RowsEvent__add_fsp_to_time(moment, meta)  # type: ignore[attr-defined]
