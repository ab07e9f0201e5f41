"""How a load's records show themselves to a Python caller (pure): a manifest, a table's result and a validation
as a line each (not the dataclass's repr: a manifest's ran to 6,000 characters), as an HTML table in a notebook,
and as rows for a data frame. The records' own methods (handoff/manifest.py) call these."""

from __future__ import annotations

from typing import Any

from cdc_migrate.views import counted, html_table, shown

# One row per table: the columns of to_arrow() / to_pandas() and of the HTML view.
COLUMNS = ("source", "target", "status", "reader", "rows", "seconds", "exact_at", "snapshot_id", "validation", "error")


def validation_text(v: Any) -> str | None:
    if v is None:
        return None
    if v.status == "mismatch":
        return f"mismatch in {v.mismatched_chunk_count or '?'} of {v.chunks} chunks"
    return str(v.status) + (f" ({v.changed_since:,} changed since)" if v.changed_since else "")


def table_row(t: Any) -> dict[str, Any]:
    """A table's result as a row of COLUMNS (plain values)."""
    return {
        "source": t.source,
        "target": t.target,
        "status": t.status,
        "reader": t.reader,
        "rows": t.rows,
        "seconds": t.seconds,
        "exact_at": str(t.exact_at) if t.exact_at else None,
        "snapshot_id": t.snapshot_id,
        "validation": validation_text(t.validation),
        "error": t.error or t.not_exact,
    }


def table_repr(t: Any) -> str:
    parts = [t.status]
    if t.rows is not None:
        parts.append(f"{t.rows:,} rows")
    if t.seconds is not None:
        parts.append(f"{t.seconds:.1f}s")
    if t.reader:
        parts.append(t.reader)
    parts.append(f"exact at {t.exact_at}" if t.exact_at else "no claim")
    if t.validation:
        parts.append(f"validation {validation_text(t.validation)}")
    if t.error or t.not_exact:
        parts.append(shown(t.error or t.not_exact, 100))
    return f"TableResult({t.source} -> {t.target or '-'}: {', '.join(parts)})"


def manifest_repr(m: Any) -> str:
    by_status: dict[str, int] = {}
    for t in m.tables:
        by_status[t.status] = by_status.get(t.status, 0) + 1
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())) or "no tables"
    where = f"CDC starts at {m.binlog}" if m.binlog and m.exact else "not exact" if m.exact is False else "no position"
    failed = [t.source for t in m.tables if t.status == "failed"]
    tail = f"; failed: {counted(failed, 'table')}" if failed else ""
    return f"Manifest({len(m.tables)} tables: {statuses}; {where}{tail})"


def manifest_html(m: Any) -> str:
    rows = [[row[c] if row[c] is not None else "" for c in COLUMNS] for row in map(table_row, m.tables)]
    return html_table(f"cdc_migrate load, started {m.started_at}", COLUMNS, rows, note=manifest_repr(m))


def validation_repr(v: Any) -> str:
    counts = f", {v.source_rows:,} rows in MySQL, {v.iceberg_rows:,} in Iceberg" if v.source_rows is not None else ""
    return f"Validation({validation_text(v)}{counts}" + (f"; {shown(v.error, 100)}" if v.error else "") + ")"


def arrow_rows(m: Any) -> Any:
    """The tables' results as a pyarrow Table (pyarrow imported only here)."""
    import pyarrow as pa

    rows = [table_row(t) for t in m.tables]
    return pa.Table.from_pylist(rows) if rows else pa.table({c: pa.array([], pa.string()) for c in COLUMNS})
