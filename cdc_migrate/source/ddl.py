"""What a statement in the binlog (a QUERY event) does to the tables it names: TRUNCATE empties a table; DROP,
RENAME, ALTER, CREATE OR REPLACE and index DDL change what a table is (pure).

Row changes reach the binlog as row events; these statements do not, so a load that merges row events alone
would miss them. Names are resolved under the event's default database, compared without regard to case (a
server with lower_case_table_names; a false match only fails a table that did not need it). Statements that
change neither rows nor definitions (ANALYZE, OPTIMIZE, GRANT, CREATE TABLE IF NOT EXISTS on a table that
exists, BEGIN/COMMIT) are not changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdc_migrate.naming import TableName

TRUNCATE = "truncate"
DROP = "drop"
RENAME = "rename"
ALTER = "alter"
REPLACE = "replace"  # CREATE OR REPLACE TABLE (MariaDB): dropped and created anew

_FIRST_WORDS = frozenset({"TRUNCATE", "DROP", "RENAME", "ALTER", "CREATE"})
_LEADING = re.compile(r"\s*(?:/\*.*?\*/\s*|--[ \t][^\n]*\n\s*|#[^\n]*\n\s*)*(?:/\*M?!\d*\s*)?([A-Za-z]+)", re.S)


@dataclass(frozen=True)
class SchemaChange:
    """One statement that is not a row change: its kind, the tables and databases it names, and its text."""

    kind: str
    tables: frozenset[tuple[str, str]]  # (database, table), lower-cased
    databases: frozenset[str] = frozenset()  # DROP DATABASE: every table in it
    statement: str = ""

    def touches(self, table: TableName) -> bool:
        """Whether this statement names `table` (or drops its database)."""
        db, name = table.namespace.lower(), table.name.lower()
        return (db, name) in self.tables or db in self.databases


@dataclass(frozen=True)
class _Token:
    kind: str  # word | ident | punct | string
    text: str

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


def schema_change(statement: str, default_database: str) -> SchemaChange | None:
    """What a QUERY event's statement does to tables, or None where it changes no table's rows or definition.

    Args:
        statement: the statement as the binlog carries it.
        default_database: the event's default database (`USE`), for unqualified names ("" for none).
    """
    first = _LEADING.match(statement)
    if first is None or first.group(1).upper() not in _FIRST_WORDS:  # BEGIN, COMMIT, GRANT, ANALYZE, ... fast
        return None
    tokens = _tokens(statement)
    parsed = _parse(tokens, default_database)
    if parsed is None:
        return None
    kind, tables, databases = parsed
    if not tables and not databases:
        return None
    text = " ".join(statement.split())
    return SchemaChange(kind, frozenset(tables), frozenset(databases), text[:300] + ("..." if len(text) > 300 else ""))


def _parse(tokens: list[_Token], db: str) -> tuple[str, list[tuple[str, str]], list[str]] | None:
    words = _Cursor(tokens)
    verb = words.next_word()
    if verb == "TRUNCATE":
        words.skip("TABLE")
        return TRUNCATE, _some(words.name(db)), []
    if verb == "RENAME":
        if not words.skip("TABLE", "TABLES"):
            return None  # RENAME USER
        names = []
        while (old := words.name(db)) is not None:
            words.skip("TO")
            names += _some(old) + _some(words.name(db))
            if not words.punct(","):
                break
        return RENAME, names, []
    if verb == "DROP":
        return _drop(words, db)
    if verb == "ALTER":
        words.skip("ONLINE")
        words.skip("IGNORE")
        if not words.skip("TABLE"):
            return None  # ALTER DATABASE, ALTER USER, ALTER VIEW, ...
        return ALTER, _some(words.name(db)) + _alter_targets(words, db), []
    if verb == "CREATE":
        return _create(words, db)
    return None


def _drop(words: _Cursor, db: str) -> tuple[str, list[tuple[str, str]], list[str]] | None:
    words.skip("ONLINE", "OFFLINE")
    if words.skip("TEMPORARY"):
        return None  # a session's own table: not one the load read
    if words.skip("DATABASE", "SCHEMA"):
        words.skip("IF")
        words.skip("EXISTS")
        part = words.part()
        return (DROP, [], [part.lower()]) if part else None
    if words.skip("INDEX"):
        words.part()
        words.skip("ON")
        return ALTER, _some(words.name(db)), []
    if not words.skip("TABLE", "TABLES"):
        return None  # DROP VIEW, DROP TRIGGER, DROP USER, ...
    words.skip("IF")
    words.skip("EXISTS")
    names = []
    while (name := words.name(db)) is not None:
        names.append(name)
        if not words.punct(","):
            break
    return DROP, names, []


def _create(words: _Cursor, db: str) -> tuple[str, list[tuple[str, str]], list[str]] | None:
    replace = words.skip("OR") and words.skip("REPLACE")
    words.skip("ONLINE", "OFFLINE")
    words.skip("UNIQUE", "FULLTEXT", "SPATIAL")
    if words.skip("INDEX"):
        words.part()
        while not words.done() and not words.skip("ON"):
            words.advance()
        return ALTER, _some(words.name(db)), []
    if words.skip("TEMPORARY") or not words.skip("TABLE") or not replace:
        # CREATE TABLE [IF NOT EXISTS] of a table the load read is a no-op (it exists) or comes after a DROP or
        # RENAME of it, which is the change; views, triggers and other objects change no table.
        return None
    return REPLACE, _some(words.name(db)), []


def _alter_targets(words: _Cursor, db: str) -> list[tuple[str, str]]:
    """Other tables an ALTER TABLE names: RENAME [TO|AS] new, EXCHANGE PARTITION ... WITH TABLE other."""
    found = []
    while not words.done():
        if words.skip("RENAME"):
            if words.skip("COLUMN", "INDEX", "KEY"):
                continue
            words.skip("TO", "AS")
            found += _some(words.name(db))
        elif words.skip("WITH") and words.skip("TABLE"):
            found += _some(words.name(db))
        else:
            words.advance()
    return found


def _some(name: tuple[str, str] | None) -> list[tuple[str, str]]:
    return [name] if name is not None else []


class _Cursor:
    """Reading tokens left to right."""

    def __init__(self, tokens: list[_Token]) -> None:
        self._tokens = tokens
        self._at = 0

    def done(self) -> bool:
        return self._at >= len(self._tokens)

    def advance(self) -> None:
        self._at += 1

    def _peek(self) -> _Token | None:
        return self._tokens[self._at] if self._at < len(self._tokens) else None

    def next_word(self) -> str:
        token = self._peek()
        self.advance()
        return token.text.upper() if token is not None and token.kind == "word" else ""

    def skip(self, *words: str) -> bool:
        """Moves past the next token if it is one of these keywords."""
        token = self._peek()
        if token is not None and token.is_word(*words):
            self.advance()
            return True
        return False

    def punct(self, text: str) -> bool:
        token = self._peek()
        if token is not None and token.kind == "punct" and token.text == text:
            self.advance()
            return True
        return False

    def part(self) -> str | None:
        """One identifier, quoted or not."""
        token = self._peek()
        if token is None or token.kind not in ("word", "ident"):
            return None
        self.advance()
        return token.text

    def name(self, db: str) -> tuple[str, str] | None:
        """A table name, `db.t` or `t` under the default database, lower-cased (None without a default)."""
        first = self.part()
        if first is None:
            return None
        if self.punct("."):
            second = self.part()
            return (first.lower(), second.lower()) if second is not None else None
        return (db.lower(), first.lower()) if db else None


def _tokens(text: str) -> list[_Token]:
    """Words, `quoted` identifiers, strings and punctuation; comments left out, except MySQL's executable
    comments (/*! ... */, MariaDB's /*M! ... */), whose text is code."""
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif text.startswith("/*", i):
            executable = re.match(r"/\*M?!\d*", text[i:])
            if executable:
                i += len(executable.group(0))
            else:
                end = text.find("*/", i + 2)
                i = n if end < 0 else end + 2
        elif text.startswith("*/", i):
            i += 2  # the end of an executable comment
        elif text.startswith("-- ", i) or c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif c in "`'\"":
            j, buf = i + 1, []
            while j < n:
                if text[j] == c and text[j + 1 : j + 2] == c:
                    buf.append(c)
                    j += 2
                elif text[j] == c:
                    break
                elif text[j] == "\\" and c != "`" and j + 1 < n:
                    buf.append(text[j + 1])
                    j += 2
                else:
                    buf.append(text[j])
                    j += 1
            out.append(_Token("ident" if c == "`" else "string", "".join(buf)))
            i = j + 1
        elif c.isalnum() or c in "_$" or ord(c) > 127:
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_$" or ord(text[j]) > 127):
                j += 1
            out.append(_Token("word", text[i:j]))
            i = j
        else:
            out.append(_Token("punct", c))
            i += 1
    return out
