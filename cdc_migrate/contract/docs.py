"""The type contract as documentation: a Markdown table generated from its rules (the README embeds it)."""

from __future__ import annotations

import re

from cdc_migrate.contract.mapping import map_column
from cdc_migrate.contract.rules import RULES
from cdc_migrate.naming import TableName
from cdc_migrate.source.schema import Column


def sample_column(column_type: str, nullable: bool = True) -> Column:
    """A Column as information_schema would describe `column_type` (for documentation and tests)."""
    m = re.match(r"^(\w+)(?:\((\d+)(?:,(\d+))?\))?", column_type.lower())
    if m is None:
        raise ValueError(f"not a column type: {column_type!r}")
    data_type, first, second = m.group(1), m.group(2), m.group(3)
    precision = int(first) if first and data_type in ("decimal", "numeric", "float", "bit") else None
    scale = int(second) if second else (0 if data_type in ("decimal", "numeric") else None)
    dt_precision = int(first) if first and data_type in ("datetime", "timestamp", "time") else None
    return Column("c", data_type, column_type, nullable, precision, scale, dt_precision)


def contract_markdown() -> str:
    """The mapping as a Markdown table, generated from RULES (the README embeds it; a test compares)."""
    lines = [
        "| MySQL | Debezium sends (connect mode) | Iceberg column | where CDC (and so the load) differs from MySQL "
        "| other choices (`type` override) |",
        "|---|---|---|---|---|",
    ]
    for rule in RULES:
        types = [(s, map_column(TableName("db", "t"), sample_column(s)).type.iceberg) for s in rule.samples]
        iceberg = "; ".join(f"{t} for {s.upper()}" if len(types) > 1 else t for s, t in types)
        choices = ", ".join(f"`{k}`" for k in sorted(rule.choices))
        if rule.name == "decimal":
            choices += ", `decimal(P,S)` (P <= 38; one is required when p > 38)"
        refused = "; ".join(f"`{k}` refused: {why}" for k, why in rule.refused.items())
        choices = "; ".join(p for p in (choices, refused) if p)
        lines.append(f"| {rule.mysql} | {rule.debezium} | {iceberg} | {rule.cdc or '-'} | {choices or '-'} |")
    lines.append("| any other type | - | (error) | - | `string` |")
    return "\n".join(lines)
