"""Text renderings of plans and runs for the terminal (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cdc_migrate.manifest import Manifest
    from cdc_migrate.runner import PlanOutcome


def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain fixed-width text table."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def plan_rows(outcomes: Sequence[PlanOutcome]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the `cdc-migrate plan` table."""
    headers = ["source", "target", "est. rows", "strategy", "partitions", "rows/partition", "split", "min", "max",
               "note"]  # fmt: skip
    rows = []
    for o in outcomes:
        p = o.plan
        if p is None:
            rows.append([str(o.source), _text(o.target), "-", "-", "-", "-", "-", "-", "-", f"ERROR: {o.error}"])
        else:
            rows.append(
                [
                    str(o.source),
                    str(p.target),
                    f"{p.source.estimated_rows:,}",
                    p.strategy,
                    str(p.partitions),
                    f"~{p.estimated_rows_per_partition:,}",
                    _text(p.split_column),
                    _key_text(p.lower),
                    _key_text(p.upper),
                    p.note,
                ]
            )
    return headers, rows


def _key_text(key: tuple[Any, ...] | None) -> str:
    if key is None:
        return "-"
    return str(key[0]) if len(key) == 1 else "(" + ", ".join(map(str, key)) + ")"


def run_summary(manifest: Manifest) -> str:
    """The end-of-run table: one row per source table, then where CDC starts."""
    rows = [
        [
            t.source,
            t.target or "-",
            t.status,
            f"{t.rows:,}" if t.rows is not None else "-",
            _text(t.partitions),
            f"{t.seconds:.1f}" if t.seconds is not None else "-",
            f"{t.rows / t.seconds:,.0f}" if t.rows and t.seconds else "-",
        ]
        for t in manifest.tables
    ]
    out = text_table(["source", "target", "status", "rows", "partitions", "seconds", "rows/s"], rows)
    errors = "".join(f"\n  {t.source}: {t.error}" for t in manifest.tables if t.error)
    if errors:
        out += f"\n\nerrors:{errors}"
    b = manifest.binlog
    position = f"{b['file']}:{b['position']} (GTID set {b['gtid_set'] or 'empty'})" if b else "not recorded"
    loaded = sum(1 for t in manifest.tables if t.status == "loaded")
    return f"{out}\n\n{loaded}/{len(manifest.tables)} tables loaded; CDC starts at binlog {position}"
