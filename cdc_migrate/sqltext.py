"""Writing SQL text safely, for MySQL and Spark alike: both quote identifiers with backquotes (pure)."""

from __future__ import annotations

from collections.abc import Sequence

from cdc_migrate.naming import TableName


def quote_ident(name: str) -> str:
    """Quotes an identifier with backquotes, doubling any backquote inside it (MySQL and Spark SQL)."""
    return "`" + name.replace("`", "``") + "`"


def quote_path(*parts: str) -> str:
    """`a`.`b`.`c`: a dotted name, each part quoted."""
    return ".".join(quote_ident(p) for p in parts)


def quote_table(name: TableName) -> str:
    """`db`.`table`, quoted."""
    return quote_path(name.namespace, name.name)


def lexicographic(columns: Sequence[str], values: Sequence[str], op: str) -> str:
    """`(c1, c2, ...) op (v1, v2, ...)` written so MySQL and MariaDB use the key's index for it.

    Row constructors are not range-optimised by MariaDB; the expanded form with a leading
    `c1 >= v1` (or `c1 <= v1`) conjunct is.
    """
    strict = op.rstrip("=")
    last = f"{columns[-1]} {op} {values[-1]}"
    for c, v in zip(reversed(columns[:-1]), reversed(values[:-1]), strict=True):
        last = f"({c} {strict} {v} OR ({c} = {v} AND {last}))"
    if len(columns) == 1:
        return last
    lead = ">=" if op.startswith(">") else "<="
    return f"{columns[0]} {lead} {values[0]} AND {last}"


def key_range(
    columns: Sequence[str],
    lower: Sequence[str] | None,
    upper: Sequence[str] | None,
    lower_op: str = ">=",
    upper_op: str = "<",
) -> str:
    """The rows of a key range, `lower <= key < upper` by default (a side without a bound is open), as a
    predicate over the key's columns and literals (already quoted for the SQL it goes into)."""
    parts = []
    if lower is not None:
        parts.append(f"({lexicographic(columns, lower, lower_op)})")
    if upper is not None:
        parts.append(f"({lexicographic(columns, upper, upper_op)})")
    return " AND ".join(parts) or "1 = 1"
