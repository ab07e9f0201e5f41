"""How text in a column's own character set becomes Unicode the way CDC makes it (pure): Debezium decodes every
column with the Java charset MySQL Connector/J maps the column's character set to (its CharsetMappingWrapper over
Connector/J's CharsetMapping), and Java replaces what it cannot decode with U+FFFD. The server's own conversion to
utf8mb4 differs: latin1's 0x81, 0x8D, 0x8F, 0x90 and 0x9D are U+0081.. to the server and U+FFFD to Java, cp1250's
undefined bytes are '?' to one and U+FFFD to the other, euckr's cp949 extension (0x8141 is 갂) is a character to
the server and U+FFFD and a letter to Java (seen with the real Debezium 3.6.3). Since the sink writes what Debezium
sends, every text column whose charset Java does not decode as UTF-8 is read as its bytes and decoded with that
Java charset, by the load and by the merge of the binlog alike (contract/conversions.py).
"""

from __future__ import annotations

# MySQL character set -> the Java charset Connector/J 8.0.33 maps it to (CharsetMapping's static table, dumped from
# the jar with getStaticJavaEncodingForMysqlCharset; a test checks it against the Connector/J on the classpath).
JAVA_ENCODING = {
    "armscii8": "WINDOWS-1252",
    "ascii": "US-ASCII",
    "big5": "BIG5",
    "binary": "ISO-8859-1",
    "cp1250": "WINDOWS-1250",
    "cp1251": "WINDOWS-1251",
    "cp1256": "WINDOWS-1256",
    "cp1257": "WINDOWS-1257",
    "cp850": "IBM850",
    "cp852": "IBM852",
    "cp866": "IBM866",
    "cp932": "WINDOWS-31J",
    "dec8": "WINDOWS-1252",
    "eucjpms": "X-EUCJP-OPEN",
    "euckr": "EUC-KR",
    "gb18030": "GB18030",
    "gb2312": "GB2312",
    "gbk": "GBK",
    "geostd8": "WINDOWS-1252",
    "greek": "ISO-8859-7",
    "hebrew": "ISO-8859-8",
    "hp8": "WINDOWS-1252",
    "keybcs2": "IBM852",
    "koi8r": "KOI8-R",
    "koi8u": "KOI8-R",
    "latin1": "WINDOWS-1252",
    "latin2": "ISO-8859-2",
    "latin5": "ISO-8859-9",
    "latin7": "ISO-8859-13",
    "macce": "X-MACCENTRALEUROPE",
    "macroman": "X-MACROMAN",
    "sjis": "SHIFT_JIS",
    "swe7": "WINDOWS-1252",
    "tis620": "TIS-620",
    "ucs2": "UTF-16",
    "ujis": "EUC-JP",
    "utf16": "UTF-16",
    "utf16le": "UTF-16LE",
    "utf32": "UTF-32",
    "utf8": "UTF-8",
    "utf8mb3": "UTF-8",
    "utf8mb4": "UTF-8",
}

# The bytes each one-byte Java charset above cannot decode (U+FFFD; Java 17's charsets): a validation counts them
# as '?' on MySQL's side, which is what U+FFFD encodes back to (US-ASCII's, every byte above 0x7F, are not listed:
# a strict server stores none in an ascii column).
UNDECODABLE_BYTES = {
    "WINDOWS-1252": bytes([0x81, 0x8D, 0x8F, 0x90, 0x9D]),
    "WINDOWS-1250": bytes([0x81, 0x83, 0x88, 0x90, 0x98]),
    "WINDOWS-1251": bytes([0x98]),
    "WINDOWS-1257": bytes([0x81, 0x83, 0x88, 0x8A, 0x8C, 0x90, 0x98, 0x9A, 0x9C, 0x9F, 0xA1, 0xA5]),
    "ISO-8859-7": bytes([0xAE, 0xD2, 0xFF]),
    "ISO-8859-8": bytes([0xA1, 0xBF, *range(0xC0, 0xDF), 0xFB, 0xFC, 0xFF]),
    "TIS-620": bytes([*range(0x80, 0xA0), 0xDB, 0xDC, 0xDD, 0xDE, 0xFC, 0xFD, 0xFE, 0xFF]),
}
# The Java charsets above that decode one byte at a time (a table of 256 characters says it all).
SINGLE_BYTE_JAVA = frozenset(
    {
        *("WINDOWS-1250", "WINDOWS-1251", "WINDOWS-1252", "WINDOWS-1256", "WINDOWS-1257", "KOI8-R", "US-ASCII"),
        *("ISO-8859-1", "ISO-8859-2", "ISO-8859-7", "ISO-8859-8", "ISO-8859-9", "ISO-8859-13", "IBM850", "IBM852"),
        *("IBM866", "TIS-620", "X-MACROMAN", "X-MACCENTRALEUROPE"),
    }
)
# Encoding a decoded value back to its bytes (for a validation): without the byte-order mark Java's UTF-16 and UTF-32
# encoders write first.
REENCODING = {"UTF-16": "UTF-16BE", "UTF-32": "UTF-32BE"}
# The Python codec that keeps a value's bytes as they are (one character per byte), which the change log gives text
# it must not decode (python-mysql-replication decodes by codec name; PyMySQL knows no charset of this name).
BYTES_AS_TEXT = "iso8859_1"


def charset_of(character_set: str | None) -> str:
    """A column's character set as information_schema names it, lower case (binary where it has none)."""
    return (character_set or "binary").split("_")[0].lower()


def java_encoding(character_set: str | None) -> str:
    """The Java charset Debezium decodes a column of this character set with (UTF-8 where Connector/J knows none)."""
    return JAVA_ENCODING.get(charset_of(character_set), "UTF-8")


def decoded_by_java(character_set: str | None) -> bool:
    """Whether a text column of this character set is read as its bytes and decoded with its Java charset (every
    set but UTF-8's, whose text the server and Java agree on)."""
    return character_set is not None and java_encoding(character_set) != "UTF-8"
