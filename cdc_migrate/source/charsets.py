"""Text the binlog carries in a column's own character set, decoded exactly as the server converts it to utf8mb4
(what a read over JDBC or ConnectorX returns), so that a change merged from the binlog is the value a load reads
(pure, but for the server's own table, read through a query function).

Python's codecs are not MySQL's: MySQL's latin1 is cp1252 with 0x81, 0x8D, 0x8F, 0x90 and 0x9D as the C1
controls (Python's cp1252 refuses them), cp1250's undefined bytes become '?', euckr holds cp949's extension
(Python's euc_kr refuses 0x8141), and swe7, dec8, macce and others have no Python codec at all. So every
character set but the Unicode ones is decoded with a table the server itself gives (source/mysql.py
charset_table): what each byte, and each multi-byte sequence that is one character, converts to.
"""

from __future__ import annotations

import codecs
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cdc_migrate.errors import SourceError
from cdc_migrate.source.binlog import QueryFn

# The Unicode character sets, which Python decodes as MySQL does (big-endian where MySQL stores so).
UNICODE = {
    "utf8mb4": "utf-8",
    "utf8mb3": "utf-8",
    "utf8": "utf-8",
    "utf16": "utf-16-be",
    "utf16le": "utf-16-le",
    "ucs2": "utf-16-be",
    "utf32": "utf-32-be",
    "gb18030": "gb18030",  # MySQL 8 only: the standard's mapping (not seen here: MariaDB has no gb18030)
}
BINARY = "binary"
# Character sets with characters of three bytes: EUC-JP's JIS X 0212, after the lead byte 0x8F (SS3).
THREE_BYTE_LEAD = {"ujis": 0x8F, "eucjpms": 0x8F}


@dataclass(frozen=True)
class CharsetTable:
    """What the server converts a character set's bytes to: each byte alone (256 characters), and each sequence
    of two or three bytes that is one character."""

    charset: str
    single: str
    multi: Mapping[bytes, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.single) != 256:
            raise ValueError(f"{self.charset}: a table of {len(self.single)} single bytes, not 256")

    @property
    def ascii_identity(self) -> bool:
        return self.single[:128] == "".join(map(chr, range(128)))


def decode(table: CharsetTable, data: bytes) -> str:
    """`data` in the table's character set as the server converts it: the longest sequence that is one character
    first, else the byte alone (which the server shows as '?' where it is no character)."""
    if not table.multi:
        return codecs.charmap_decode(data, "strict", table.single)[0]
    if data.isascii() and table.ascii_identity:
        return data.decode("ascii")
    out, i, n, multi, single = [], 0, len(data), table.multi, table.single
    while i < n:
        byte = data[i]
        if byte >= 0x80:
            two = multi.get(data[i : i + 2])
            if two is not None:
                out.append(two)
                i += 2
                continue
            three = multi.get(data[i : i + 3])
            if three is not None:
                out.append(three)
                i += 3
                continue
        out.append(single[byte])
        i += 1
    return "".join(out)


def server_table(query: QueryFn, charset: str) -> CharsetTable:
    """What the server converts `charset`'s bytes to in utf8mb4: every byte alone and, for a multi-byte set, every
    sequence of two (or, for EUC-JP's, three) bytes that is one character. A few hundred milliseconds for a
    multi-byte set, in queries of 2,048 conversions; asked once per run, for the sets the tables use."""
    rows = charset.isidentifier() and query(
        f"SELECT MAXLEN AS n FROM information_schema.CHARACTER_SETS WHERE CHARACTER_SET_NAME = '{charset}'"
    )
    if not rows:
        raise SourceError(f"the server has no character set {charset!r}")
    single = "".join(_converted(query, charset, [bytes([b]) for b in range(256)], whole=True))
    multi: dict[bytes, str] = {}
    if int(rows[0]["n"]) > 1:
        sequences = [bytes([lead, trail]) for lead in range(0x80, 0x100) for trail in range(256)]
        lead3 = THREE_BYTE_LEAD.get(charset)
        if lead3 is not None:
            sequences += [bytes([lead3, a, b]) for a in range(0xA1, 0xFF) for b in range(0xA1, 0xFF)]
        converted = _converted(query, charset, sequences)
        multi = {seq: text for seq, text in zip(sequences, converted, strict=True) if text}
    return CharsetTable(charset, single, multi)


def _converted(query: QueryFn, charset: str, sequences: list[bytes], whole: bool = False) -> list[str]:
    """Each byte sequence as the server converts it from `charset` to utf8mb4: the character it is, or '' where it
    is not one character (with `whole`, '?' there)."""
    out: list[str] = []
    for start in range(0, len(sequences), 2048):
        chunk = sequences[start : start + 2048]
        items = ", ".join(
            f"HEX(CONVERT(CAST(X'{seq.hex()}' AS CHAR CHARACTER SET {charset}) USING utf8mb4)) AS c{i}"
            for i, seq in enumerate(chunk)
        )
        [row] = query(f"SELECT {items}")
        for i in range(len(chunk)):
            text = bytes.fromhex(str(row[f"c{i}"] or "")).decode("utf-8", "surrogatepass")
            out.append(text if len(text) == 1 else "?" if whole else "")
    return out


def charset_of(collation_or_charset: str | None) -> str:
    """A column's character set from what information_schema says (its charset, else its collation's prefix)."""
    return (collation_or_charset or BINARY).split("_")[0].lower()


def needs_table(charset: str) -> bool:
    """Whether decoding this character set needs the server's table (every one but Unicode and binary)."""
    return charset not in UNICODE and charset != BINARY


# ---- Python codecs over the tables, for a reader that decodes by codec name (python-mysql-replication) ---------

_PREFIX = "cdc_migrate_mysql_"
_TABLES: dict[str, CharsetTable] = {}
_LOCK = threading.Lock()


def _search(name: str) -> codecs.CodecInfo | None:
    table = _TABLES.get(name)
    if table is None:
        return None

    def decode_bytes(data: Any, errors: str = "strict") -> tuple[str, int]:
        return decode(table, bytes(data)), len(data)

    def refuse(text: str, errors: str = "strict") -> tuple[bytes, int]:
        raise UnicodeError(f"{name} only decodes")

    return codecs.CodecInfo(refuse, decode_bytes, name=name)


codecs.register(_search)


def codec_name(charset: str, table: CharsetTable | None) -> str:
    """The codec name that decodes `charset` as the server does: Python's own for the Unicode sets, else one
    registered for the server's table (given)."""
    if charset in UNICODE:
        return UNICODE[charset]
    if table is None:
        raise ValueError(f"the character set {charset} needs the server's table")
    name = f"{_PREFIX}{charset}_{abs(hash((table.single, tuple(sorted(table.multi.items()))))):x}"
    with _LOCK:
        _TABLES.setdefault(name, table)
    codecs.lookup(name)  # registered: python's codec cache keeps it
    return name
