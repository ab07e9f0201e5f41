"""Text in every character set real databases use, through the load and through the binlog (a live load's changes
merged in), compared value by value with what the server itself returns in utf8mb4: all 256 bytes of latin1 (0x81
and 0x9D among them, which stopped a live load), every two-byte character of the double-byte sets (euckr with
cp949's extension, sjis, cp932, gbk, big5, ujis with its three-byte characters), cp1250's undefined bytes,
koi8r, utf16 outside the BMP, ucs2, and binary."""

from __future__ import annotations

from typing import Any

from cdc_migrate.handoff.manifest import TableResult
from cdc_migrate.load.progress import NullProgress
from cdc_migrate.load.runner import run
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.source.charsets import charset_of, decode, server_table
from cdc_migrate.source.mysql import MySQLSource
from cdc_migrate.validate.validator import validate

from .conftest import OptionsFactory

DOUBLE_BYTE = ("euckr", "sjis", "cp932", "gbk", "big5", "ujis")
SINGLE_BYTE = ("latin1", "cp1250", "koi8r")
SAMPLES = {
    "utf16": "ascii, 한글, 😀 and 𝄞 outside the BMP",
    "ucs2": "ascii, 한글, ☃",
    "koi8r": "Съешь же ещё этих мягких французских булок",
    "cp1250": "Zażółć gęślą jaźń",
}


class InTheWindow(NullProgress):
    """Changes every row of `texts` once its read has started: the merge brings them in from the binlog."""

    def __init__(self, server: Any, db: str, statements: list[str]) -> None:
        self.server, self.db, self.statements = server, db, statements

    def table_started(self, index: int, total: int, plan: TablePlan) -> None:
        if plan.source.name.name == "texts":
            self.server.execute(*self.statements)

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        pass


def _every_character(server: Any, charset: str) -> bytes:
    """Every sequence the server reads as one character of a double-byte set, concatenated (as stored)."""
    with MySQLSource.connect(_source(server)) as source:
        table = server_table(source.query, charset)
    return b"".join(sorted(table.multi))


def _source(server: Any) -> Any:
    from cdc_migrate.config.secret import Secret
    from cdc_migrate.config.sections import SourceOptions

    return SourceOptions(host=server.host, port=server.port, user=server.user, password=Secret(server.password))


def test_every_character_set_loads_and_merges_as_the_server_converts_it(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any
) -> None:
    db = f"`{database}`"
    columns = [f"s_{c} VARCHAR(300) CHARACTER SET {c}" for c in SINGLE_BYTE]
    columns += [f"m_{c} MEDIUMTEXT CHARACTER SET {c}" for c in DOUBLE_BYTE]
    columns += ["u_utf16 VARCHAR(100) CHARACTER SET utf16", "u_ucs2 VARCHAR(100) CHARACTER SET ucs2"]
    columns += ["c_latin1 CHAR(4) CHARACTER SET latin1", "t_latin1 TEXT CHARACTER SET latin1", "b VARBINARY(300)"]
    server.execute(f"CREATE TABLE {db}.texts (id INT PRIMARY KEY, n INT NOT NULL DEFAULT 0, {', '.join(columns)})")
    server.execute(f"CREATE TABLE {db}.other (id INT PRIMARY KEY)", f"INSERT INTO {db}.other VALUES (1)")
    every = bytes(range(256))
    rows = [f"({b}, X'{b:02x}', X'{b:02x}', X'{b:02x}', X'{b:02x}', X'{b:02x}', X'{b:02x}')" for b in range(256)]
    server.execute(
        f"INSERT INTO {db}.texts (id, s_latin1, s_cp1250, s_koi8r, c_latin1, t_latin1, b) VALUES {', '.join(rows)}",
        f"INSERT INTO {db}.texts (id, s_latin1, t_latin1, b) VALUES (1000, X'{every.hex()}', X'{every.hex()}', "
        f"X'{every.hex()}')",
        *(
            f"UPDATE {db}.texts SET m_{c} = X'{_every_character(server, c).hex()}' WHERE id = {i}"
            for i, c in enumerate(DOUBLE_BYTE)
        ),
        f"UPDATE {db}.texts SET u_utf16 = '{SAMPLES['utf16']}', u_ucs2 = '{SAMPLES['ucs2']}', "
        f"s_koi8r = CONCAT(s_koi8r, '{SAMPLES['koi8r']}'), s_cp1250 = CONCAT(s_cp1250, '{SAMPLES['cp1250']}') "
        "WHERE id < 10",
        f"UPDATE {db}.texts SET m_euckr = CONCAT(m_euckr, X'8141') WHERE id = 1",  # cp949's 갂 in euckr
    )
    # In the load's window: every row changes (its image then comes from the binlog), and the two bytes of latin1
    # that stopped a live load arrive in new rows and in place of every latin1 value.
    window = [
        f"UPDATE {db}.texts SET n = n + 1",
        f"INSERT INTO {db}.texts (id, s_latin1, t_latin1) VALUES (2000, X'81', X'9d'), (2001, X'9d81', X'81')",
        f"UPDATE {db}.texts SET s_latin1 = CONCAT(s_latin1, X'818d8f909d') WHERE id < 256",
    ]
    options = make_options([f"{database}.*"], run={"parallel_tables": 1})

    manifest = run(options, spark=spark, progress=InTheWindow(server, database, window))

    texts = next(t for t in manifest.tables if t.source.endswith(".texts"))
    assert texts.status == "loaded" and texts.changes == 259 and manifest.snapshot.exact is True
    names = [c.split(" ")[0] for c in columns]
    expected = server.execute(f"SELECT id, n, {', '.join(names)} FROM {db}.texts ORDER BY id")
    loaded = iceberg(f"{database}.texts").scan().to_arrow().sort_by("id").to_pylist()
    assert len(loaded) == len(expected) == 259
    for want, got in zip(expected, loaded, strict=True):
        for name in ["n", *names]:
            value = (
                want[name].encode("utf-8", "surrogatepass").decode("utf-8", "replace")
                if isinstance(want[name], str)
                else want[name]
            )
            assert got[name] == value, f"{name} of row {want['id']}: {got[name]!r} != {value!r}"
    assert loaded[0x81]["s_latin1"] == "\x81\x81\x8d\x8f\x90\x9d" and loaded[-2]["t_latin1"] == "\x9d"
    assert "갂" in loaded[0]["m_euckr"] and "😀" in loaded[0]["u_utf16"]

    checked = validate(options, options.run.manifest or "", spark=spark)
    assert [t.validation.status for t in checked.tables if t.validation] == ["match", "match"]


def test_a_table_decodes_as_the_server_converts() -> None:
    from cdc_migrate.source.charsets import CharsetTable

    single = "".join(chr(b) if b < 0x80 else "?" for b in range(256))
    table = CharsetTable("two", single, {b"\x81\x41": "갂", b"\x8f\xa1\xa1": "丂"})

    assert decode(table, b"ab\x81\x41c") == "ab갂c"
    assert decode(table, b"\x81 \x8f\xa1\xa1\xff") == "? 丂?"  # a lead byte alone is '?', as the server shows it
    assert decode(table, b"plain") == "plain" and charset_of("latin1_swedish_ci") == "latin1"
