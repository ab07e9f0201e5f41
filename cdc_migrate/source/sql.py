"""Small helpers for writing MySQL SQL text safely (pure)."""

from __future__ import annotations

from cdc_migrate.target.naming import TableName


def quote_ident(name: str) -> str:
    """Quotes a MySQL identifier with backticks, doubling any backtick inside it."""
    return "`" + name.replace("`", "``") + "`"


def quote_table(name: TableName) -> str:
    """`db`.`table`, quoted."""
    return f"{quote_ident(name.namespace)}.{quote_ident(name.name)}"
