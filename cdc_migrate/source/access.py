"""What the source user may read, from its grants (pure): a selection with a wildcard is complete only where the
user may read every table (MySQL hides the others from it), and a table is loaded whole only where the user
may read every column.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from cdc_migrate.naming import TableName
from cdc_migrate.sqltext import quote_ident, quote_table

_GRANT = re.compile(
    r"^GRANT\s+(?P<privs>.+?)\s+ON\s+(?:(?:TABLE|FUNCTION|PROCEDURE|PACKAGE(?: BODY)?)\s+)?"
    r"(?P<object>\S+)\s+TO\s+",
    re.IGNORECASE,
)
_ROLE_GRANT = re.compile(r"^GRANT\s+(?P<roles>.+?)\s+TO\s+", re.IGNORECASE)
_READS = ("SELECT", "ALL", "ALL PRIVILEGES")


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "`'\"":
        return name[1:-1].replace(name[0] * 2, name[0])
    return name


def _split_object(obj: str) -> tuple[str, str]:
    """`db`.`table`, `db`.*, *.* -> (db, table), quotes removed (a dot inside backquotes stays)."""
    parts, current, quoted = [], "", False
    for ch in obj:
        if ch == "`":
            quoted = not quoted
        if ch == "." and not quoted:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    if len(parts) == 1:
        return "*", _unquote(parts[0])
    return _unquote(parts[0]), _unquote(parts[1])


def _db_matches(pattern: str, db: str) -> bool:
    """A grant's database name matches as LIKE does: `%` and `_` are wildcards unless escaped with `\\`."""
    if pattern == "*":
        return True
    regex = ""
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            regex += re.escape(pattern[i + 1])
            i += 2
            continue
        regex += ".*" if ch == "%" else "." if ch == "_" else re.escape(ch)
        i += 1
    return re.fullmatch(regex, db) is not None


@dataclass(frozen=True)
class Grants:
    """The SELECT grants a user holds: global, per database (LIKE patterns), per table, per column."""

    user: str
    everything: bool = False
    databases: tuple[str, ...] = ()
    tables: frozenset[tuple[str, str]] = frozenset()
    columns: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    roles: tuple[str, ...] = ()
    replication: bool = False  # REPLICATION SLAVE (MariaDB 10.5+: REPLICATION SLAVE or BINLOG REPLAY) on *.*

    def reads_database(self, db: str) -> bool:
        """Every table of `db`, present and future."""
        return self.everything or any(_db_matches(p, db) for p in self.databases)

    def reads_table(self, table: TableName) -> bool:
        """Every column of the table."""
        return self.reads_database(table.namespace) or (table.namespace, table.name) in self.tables

    def column_grant(self, table: TableName) -> frozenset[str] | None:
        """The columns a column-level grant names for the table (None: none)."""
        return self.columns.get((table.namespace, table.name))


def _privileges(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """'SELECT (a, b), INSERT' -> [('SELECT', ('a', 'b')), ('INSERT', ())]."""
    items, depth, current = [], 0, ""
    for ch in text:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    items.append(current)
    out = []
    for item in items:
        name, _, rest = item.strip().partition("(")
        cols = tuple(_unquote(c.strip()) for c in rest.rstrip(") ").split(",")) if rest else ()
        out.append((name.strip().upper(), cols))
    return out


def parse_grants(user: str, lines: Iterable[str]) -> Grants:
    """Grants from SHOW GRANTS lines (MySQL and MariaDB forms; role lines give the roles to expand)."""
    everything, replication, dbs, roles = False, False, [], []
    tables: set[tuple[str, str]] = set()
    columns: dict[tuple[str, str], set[str]] = {}
    for line in lines:
        m = _GRANT.match(line.strip())
        if not m:
            r = _ROLE_GRANT.match(line.strip())
            if r:
                roles += [_unquote(x.strip().split("@")[0].strip()) for x in r.group("roles").split(",") if x.strip()]
            continue
        db, table = _split_object(m.group("object"))
        for name, cols in _privileges(m.group("privs")):
            if (db, table) == ("*", "*") and name in (
                "ALL",
                "ALL PRIVILEGES",
                "REPLICATION SLAVE",
                "REPLICATION REPLICA",
            ):
                replication = True
            if name not in _READS:
                continue
            if cols:
                columns.setdefault((db, table), set()).update(cols)
            elif db == "*" and table == "*":
                everything = True
            elif table == "*":
                dbs.append(db)
            else:
                tables.add((db, table))
    return Grants(
        user,
        everything,
        tuple(dbs),
        frozenset(tables),
        {k: frozenset(v) for k, v in columns.items()},
        tuple(roles),
        replication,
    )


def merge(grants: Sequence[Grants]) -> Grants:
    """A user's grants together with those of its roles."""
    first = grants[0]
    columns: dict[tuple[str, str], frozenset[str]] = {}
    for g in grants:
        for k, v in g.columns.items():
            columns[k] = columns.get(k, frozenset()) | v
    return Grants(
        first.user,
        any(g.everything for g in grants),
        tuple(d for g in grants for d in g.databases),
        frozenset(t for g in grants for t in g.tables),
        columns,
        tuple(r for g in grants for r in g.roles),
        any(g.replication for g in grants),
    )


def grant_statement(grants: Grants, what: str) -> str:
    return f"GRANT SELECT ON {what} TO {grants.user}"


def selection_problems(grants: Grants, include: Sequence[str], databases: Iterable[str]) -> list[str]:
    """Patterns whose match may be incomplete because the user may not see every table (or database) they could
    match: MySQL lists only what a user may access, so a table it may not read is silently absent."""
    problems = []
    dbs = list(databases)
    for pattern in include:
        db_pat, table_pat = pattern.split(".", 1)
        wild_table = any(c in table_pat for c in "*?[")
        if any(c in db_pat for c in "*?[") and not grants.everything:
            problems.append(
                f"{grants.user} may not read every database, so databases it may not read are invisible to it and "
                f"{pattern!r} could silently miss them. {grant_statement(grants, '*.*')}, or name the databases"
            )
            continue
        if not wild_table:
            continue
        for db in (d for d in dbs if fnmatchcase(d, db_pat)):
            if not grants.reads_database(db):
                problems.append(
                    f"{grants.user} may read only some tables of {db} (no SELECT on {db}.*), so the tables it may "
                    f"not read are invisible to it and {pattern!r} could silently miss them. "
                    f"{grant_statement(grants, quote_ident(db) + '.*')}, or name the tables (--tables {db}.a,{db}.b)"
                )
    return problems


def table_problem(grants: Grants, table: TableName) -> str | None:
    """Why the user cannot read all of a table, from its grants (None: it can, or its grants do not say)."""
    if grants.reads_table(table):
        return None
    cols = grants.column_grant(table)
    if cols is not None:
        return (
            f"{grants.user} may read only the columns {', '.join(sorted(cols))} of {table} (a column-level grant), "
            f"so the load would miss the others. {grant_statement(grants, quote_table(table))}"
        )
    return None
