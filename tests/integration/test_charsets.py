"""Text in every character set real databases use becomes what the real Debezium sends for it, through the load and
through the binlog (a live load's changes merged in) alike: all 256 bytes of latin1 (0x81 and 0x9D among them,
which stopped a live load), every two-byte character of euckr (with cp949's extension, which Java's EUC-KR does
not hold), sjis, cp932, gbk, big5 and ujis, cp1250's undefined bytes, koi8r, utf16 outside the BMP, ucs2, and
binary. Debezium decodes a column with the Java charset MySQL Connector/J maps its character set to (not as the
server converts it: latin1's 0x81 is U+FFFD to Java, U+0081 to the server); the load does the same with both JDBC
drivers, and a validation compares them with the source."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.handoff.manifest import TableResult
from cdc_migrate.load.progress import NullProgress
from cdc_migrate.load.runner import plan, run
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.source.charsets import JAVA_ENCODING
from cdc_migrate.validation.validator import validate

from .conftest import OptionsFactory

DOUBLE_BYTE = ("euckr", "sjis", "cp932", "gbk", "big5", "ujis")
SINGLE_BYTE = ("latin1", "cp1250", "koi8r")
SAMPLES = {"utf16": "ascii, 한글, 😀 and 𝄞 outside the BMP", "ucs2": "ascii, 한글, ☃"}


@pytest.fixture(params=["mysql", "mariadb"], ids=["connector-j-8.0.33", "mariadb-connector-j"])
def jdbc_driver(request: pytest.FixtureRequest) -> str:
    """Both drivers decode alike: the read takes the column's bytes, Spark decodes them with the Java charset."""
    return str(request.param)


class InTheWindow(NullProgress):
    """Changes half the rows of `texts` once its read has started: their images come from the binlog."""

    def __init__(self, server: Any, statements: list[str]) -> None:
        self.server, self.statements = server, statements

    def table_started(self, index: int, total: int, plan: TablePlan) -> None:
        if plan.source.name.name == "texts":
            self.server.execute(*self.statements)

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        pass


def _two_byte_sequences(server: Any, charset: str) -> bytes:
    """Every two-byte sequence the server stores in `charset` (it reads it as one character), concatenated."""
    leads = range(0x81, 0xFF)
    out = []
    for lead in leads:
        items = ", ".join(
            f"CHAR_LENGTH(CAST(X'{lead:02x}{trail:02x}' AS CHAR CHARACTER SET {charset})) AS c{trail}"
            for trail in range(0x40, 0xFF)
        )
        [row] = server.execute(f"SELECT {items}")
        out += [bytes([lead, trail]) for trail in range(0x40, 0xFF) if row[f"c{trail}"] == 1]
    return b"".join(out)


def java_decoded(spark: Any, raw: bytes | None, charset: str) -> str | None:
    """`raw` as Java decodes it with the charset Connector/J maps `charset` to (as Debezium does)."""
    if raw is None:
        return None
    return str(spark._jvm.java.lang.String(bytearray(raw), JAVA_ENCODING[charset]))


def test_every_character_set_loads_and_merges_as_debezium_decodes_it(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any
) -> None:
    db = f"`{database}`"
    charsets = {**{f"s_{c}": c for c in SINGLE_BYTE}, **{f"m_{c}": c for c in DOUBLE_BYTE}}
    charsets |= {"u_utf16": "utf16", "u_ucs2": "ucs2", "c_latin1": "latin1", "t_latin1": "latin1"}
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
            f"UPDATE {db}.texts SET m_{c} = X'{_two_byte_sequences(server, c).hex()}' WHERE id IN ({i}, {i + 100})"
            for i, c in enumerate(DOUBLE_BYTE)
        ),
        f"UPDATE {db}.texts SET u_utf16 = '{SAMPLES['utf16']}', u_ucs2 = '{SAMPLES['ucs2']}' WHERE id < 10",
        f"UPDATE {db}.texts SET m_euckr = CONCAT(m_euckr, X'8141') WHERE id = 0",  # cp949's 갂: Java cannot decode it
    )
    # In the load's window, half the rows change (their images come from the binlog), new rows with the latin1 bytes
    # that stopped a live load arrive, and every latin1 value of those rows gets them too.
    window = [
        f"UPDATE {db}.texts SET n = n + 1 WHERE id % 2 = 0",
        f"INSERT INTO {db}.texts (id, s_latin1, t_latin1) VALUES (2000, X'81', X'9d'), (2001, X'9d81', X'81')",
        f"UPDATE {db}.texts SET s_latin1 = CONCAT(s_latin1, X'818d8f909d') WHERE id < 256 AND id % 2 = 0",
    ]
    options = make_options([f"{database}.*"], run={"parallel_tables": 1})
    [texts_plan] = [o.plan for o in plan(options) if o.plan and o.plan.source.name.name == "texts"]

    manifest = run(options, spark=spark, progress=InTheWindow(server, window))

    texts = next(t for t in manifest.tables if t.source.endswith(".texts"))
    assert texts_plan.reader == "jdbc" and "is euckr text" in texts_plan.reader_note  # latin1 alone would be Arrow
    assert texts.status == "loaded" and texts.changes == 131 and manifest.snapshot.exact is True, texts.error
    raw = ", ".join(f"CAST({c} AS BINARY) AS {c}" for c in charsets)
    source = server.execute(f"SELECT id, n, b, {raw} FROM {db}.texts ORDER BY id")
    loaded = iceberg(f"{database}.texts").scan().to_arrow().sort_by("id").to_pylist()
    assert len(loaded) == len(source) == 259
    for want, got in zip(source, loaded, strict=True):
        assert (got["id"], got["n"], got["b"]) == (want["id"], want["n"], want["b"])
        for column, charset in charsets.items():
            expected = java_decoded(spark, want[column], charset)
            assert got[column] == expected, f"{column} of row {want['id']}: {got[column]!r} != {expected!r}"
    assert loaded[0x80]["s_latin1"] == "€\ufffd\ufffd\ufffd\ufffd\ufffd" and loaded[-1]["s_latin1"] == "\ufffd\ufffd"
    assert loaded[0]["m_euckr"].endswith("\ufffdA") and "😀" in loaded[0]["u_utf16"]
    assert "U+FFFD where MySQL shows a character" in (texts.cdc_values or {}).get("s_latin1", "")

    # A validation compares the bytes: it names exactly the rows holding text the Java charset cannot decode (cp949's
    # characters in euckr, say), which neither the load nor CDC can keep; every other row matches.
    values = [(want["id"], want[c], charsets[c]) for want in source for c in charsets if want[c] is not None]
    lossy = sorted(str(key) for key in _lossy(spark, values))  # as the validation orders the keys it names
    checked = validate(options, options.run.manifest or "", spark=spark, chunk_rows=1_000_000)
    result = next(t.validation for t in checked.tables if t.source.endswith(".texts"))
    named = [d.split(": ")[1] for c in result.mismatched_chunks or () for d in c.first_differences]
    assert lossy and named == lossy[: len(named)], (named, lossy)
    assert next(t.validation.status for t in checked.tables if t.source.endswith(".other")) == "match"


def _lossy(spark: Any, values: list[tuple[int, bytes, str]]) -> set[int]:
    """The keys of the values Java cannot decode and encode back as they were (a byte it has no character for
    counts as '?', what its replacement character encodes to, where the charset is one byte a character)."""
    from cdc_migrate.source.charsets import REENCODING, UNDECODABLE_BYTES

    rows = []
    for key, raw, charset in values:
        encoding = JAVA_ENCODING[charset]
        undecodable = UNDECODABLE_BYTES.get(encoding, b"")
        expected = bytes(0x3F if b in undecodable else b for b in raw)
        rows.append((key, bytearray(raw), encoding, REENCODING.get(encoding, encoding), bytearray(expected)))
    frame = spark.createDataFrame(rows, "k INT, raw BINARY, enc STRING, back STRING, expected BINARY")
    differ = frame.where("encode(decode(raw, enc), back) <> expected").select("k").collect()
    return {r.k for r in differ}


def test_debezium_sends_what_the_load_wrote_for_every_latin1_byte_and_korean_text(
    dbz_server: Any, make_options: OptionsFactory, spark: Any, iceberg: Any, tmp_path: Path
) -> None:
    """The real Debezium 3.6.3 against the load, value for value, on the bytes where Java and the server differ."""
    from cdc_migrate.cli.app import main

    from . import debezium

    db = f"cs_{uuid.uuid4().hex[:8]}"
    dbz_server.execute(
        f"CREATE DATABASE `{db}` DEFAULT CHARSET utf8mb4",
        f"CREATE TABLE `{db}`.t (id INT PRIMARY KEY, l1 VARCHAR(300) CHARACTER SET latin1, "
        "c2 VARCHAR(30) CHARACTER SET cp1250, k VARCHAR(30) CHARACTER SET euckr, s VARCHAR(30) CHARACTER SET sjis)",
        f"CREATE TABLE `{db}`.{debezium.MARKER_TABLE} (id INT AUTO_INCREMENT PRIMARY KEY)",
    )
    before = dbz_server.execute("SHOW MASTER STATUS")[0]
    dbz_server.execute(
        f"INSERT INTO `{db}`.t VALUES (1, X'{bytes(range(1, 256)).hex()}', X'41818388', X'8141B0A1C7D1', "
        "X'82A0835E5C'), (2, 'plain', 'plain', 'plain', 'plain')"
    )
    options = make_options([f"{db}.t"], source={"port": dbz_server.port})
    manifest = run(options, spark=spark)
    assert manifest.tables[0].status == "loaded", manifest.tables[0].error
    assert main(["connectors", "--manifest", str(options.run.manifest), "--out", str(tmp_path / "cdc")]) == 0
    events = debezium.sent_since(dbz_server, tmp_path / "cdc", db, before)

    sent = {e["payload"]["after"]["id"]: e["payload"]["after"] for e in events}
    loaded = {r["id"]: r for r in iceberg(f"{db}.t").scan().to_arrow().to_pylist()}
    assert sent == loaded
    assert loaded[1]["k"] == "\ufffdA가한" and "\ufffd" in loaded[1]["l1"]  # as Java decodes them
    dbz_server.execute(f"DROP DATABASE `{db}`")


ONE_BYTE = ("latin1", "latin2", "cp1250", "cp1251", "cp1257", "koi8r", "greek", "hebrew", "tis620", "cp866", "macce")


@pytest.mark.parametrize("reader", ["arrow", "jdbc"])
def test_one_byte_charsets_decode_byte_for_byte_as_java_does_on_both_paths(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any, reader: str
) -> None:
    db = f"`{database}`"
    columns = ", ".join(f"c_{c} VARCHAR(300) CHARACTER SET {c}" for c in ONE_BYTE)
    server.execute(f"CREATE TABLE {db}.ones (id INT PRIMARY KEY, {columns})")
    every = bytes(range(256))
    server.execute(
        "SET SESSION sql_mode = ''",  # every byte stored as it is, those the server has no character for too
        f"INSERT INTO {db}.ones VALUES (1, {', '.join(f'X{every.hex()!r}' for _ in ONE_BYTE)}), "
        f"(2, {', '.join(repr('plain ascii') for _ in ONE_BYTE)}), (3, {', '.join('NULL' for _ in ONE_BYTE)})",
    )

    manifest = run(make_options([f"{database}.ones"], source={"reader": reader}), spark=spark)

    [table] = manifest.tables
    assert (table.status, table.reader) == ("loaded", reader), table.error
    source = server.execute(
        f"SELECT id, {', '.join(f'CAST(c_{c} AS BINARY) AS c_{c}' for c in ONE_BYTE)} FROM {db}.ones"
    )
    loaded = {r["id"]: r for r in iceberg(f"{database}.ones").scan().to_arrow().to_pylist()}
    for want in source:
        for charset in ONE_BYTE:
            expected = java_decoded(spark, want[f"c_{charset}"], charset)
            assert loaded[want["id"]][f"c_{charset}"] == expected, f"{charset}, row {want['id']}"
