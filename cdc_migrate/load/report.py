"""Text renderings of plans and runs for the terminal (pure)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cdc_migrate.handoff.manifest import TableResult

if TYPE_CHECKING:
    from cdc_migrate.handoff.manifest import Manifest
    from cdc_migrate.planning.planner import PlanOutcome


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
    headers = [
        "source",
        "target",
        "est. rows",
        "strategy",
        "partitions",
        "rows/partition",
        "split",
        "min",
        "max",
        "note",
    ]
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


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _validation(t: TableResult) -> str:
    v = t.validation
    if not v:
        return "-"
    inexact = " (inexact load)" if v.exact is False else ""
    changed = f" ({v.changed_since:,} changed since)" if v.changed_since else ""
    if v.status == "mismatch":
        count = "?" if v.mismatched_chunk_count is None else v.mismatched_chunk_count
        return f"MISMATCH in {count} of {v.chunks} chunks{inexact}{changed}"
    return f"{v.status}{inexact}{changed}"


def _rate(t: Any) -> str:
    if t.rows_per_second is not None:
        return f"{t.rows_per_second:,}"
    return f"{t.rows / t.seconds:,.0f}" if t.rows and t.seconds else "-"


def table_rows(manifest: Manifest) -> tuple[list[str], list[list[str]]]:
    """One row per source table: rows, partitions, seconds, rows/s, bytes written, validation."""
    headers = ["source", "target", "status", "rows", "partitions", "seconds", "rows/s", "written", "validation"]
    rows = [
        [
            t.source,
            t.target or "-",
            t.status,
            f"{t.rows:,}" if t.rows is not None else "-",
            _text(t.partitions),
            f"{t.seconds:.1f}" if t.seconds is not None else "-",
            _rate(t),
            _size(t.bytes),
            _validation(t),
        ]
        for t in manifest.tables
    ]
    return headers, rows


def _problems(manifest: Manifest) -> list[str]:
    lines = [f"  {t.source}: {t.error}" for t in manifest.tables if t.error]
    for t in manifest.tables:
        v = t.validation
        if v is None:
            continue
        for chunk in v.mismatched_chunks or ():
            diffs = "; ".join(chunk.first_differences) or "no single row differs (counts or hashes)"
            lines.append(
                f"  {t.source}: chunk {chunk.chunk} {chunk.range}: {chunk.source_rows:,} rows in MySQL, "
                f"{chunk.iceberg_rows:,} in Iceberg; {diffs}"
            )
        for statement in v.statements_since or ():
            lines.append(
                f"  {t.source}: truncated since the load ({statement}): CDC does not carry a TRUNCATE to the sink "
                "(Debezium skips it, the sink has no such operation), so the rows it removed stay; load the table again"
            )
        if v.status == "error":
            lines.append(f"  {t.source}: could not validate: {v.error}")
    return lines


def handoff_line(manifest: Manifest) -> str:
    """Where CDC starts, said only when it can: some table loaded, exactly at one recorded position."""
    b = manifest.binlog
    loaded = [t for t in manifest.tables if t.status == "loaded"]
    exact = manifest.exact
    if not loaded:
        return "no table loaded: CDC has nothing to continue"
    if not b:
        return "no binlog position recorded: CDC cannot start exactly after this load"
    position = str(b) if b.gtid_set else f"{b} (GTID set empty)"
    if manifest.failed:
        return (
            f"not ready for CDC: {len(manifest.failed)} table(s) failed; run again to load them (the loaded ones "
            "are kept and brought to the new position)"
        )
    if exact is False:
        note = manifest.snapshot.note if manifest.snapshot else ""
        return (
            f"NOT EXACT: the tables are not all the source at binlog {position}, so CDC from there would "
            f"duplicate or lose rows ({note})"
        )
    return f"CDC starts at binlog {position}"


def _footer(manifest: Manifest) -> str:
    loaded = sum(1 for t in manifest.tables if t.status == "loaded")
    text = f"{loaded}/{len(manifest.tables)} tables loaded; {handoff_line(manifest)}"
    if manifest.left_out:
        names = ", ".join(x.source for x in manifest.left_out[:20]) + (" ..." if len(manifest.left_out) > 20 else "")
        whys = "; ".join(sorted({x.why for x in manifest.left_out}))
        text += f"\nleft out {len(manifest.left_out)} the patterns match ({whys}): {names}"
    validated = [t.validation for t in manifest.tables if t.validation]
    if validated:
        bad = len(manifest.mismatched)
        text += f"\nvalidation: {len(validated) - bad}/{len(validated)} tables match the source"
        changed = sum(v.changed_since or 0 for v in validated)
        if changed:
            text += f" ({changed:,} keys changed since the load: CDC applies them)"
        if any(v.drift and v.changed_since is None for v in validated):
            text += " (the source changed since the load: differences may be changes CDC will apply, not load errors)"
        for note in sorted({str(v.note) for v in validated if v.exact is False}):
            text += f"\ninexact load: {note}"
        for note in sorted({str(v.note) for v in validated if v.note and v.exact is not False}):
            text += f"\nnote: {note}"
    return text


def run_summary(manifest: Manifest) -> str:
    """The end-of-run (and end-of-validation) table, the problems, and where CDC starts."""
    out = text_table(*table_rows(manifest))
    problems = _problems(manifest)
    if problems:
        out += "\n\nproblems:\n" + "\n".join(problems)
    return f"{out}\n\n{_footer(manifest)}"


BARS = " ▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int]) -> str:
    """Per-partition row counts as a row of bars, so that skew shows at a glance."""
    top = max(values, default=0)
    if top == 0:
        return BARS[0] * len(values)
    return "".join(BARS[max(1, round(v / top * 8)) if v else 0] for v in values)


def markdown_report(manifest: Manifest) -> str:
    headers, rows = table_rows(manifest)
    src = manifest.source
    lines = [
        "# cdc_migrate load report",
        "",
        f"Started {manifest.started_at}, finished {manifest.finished_at or '-'}; "
        f"source {src.host}:{src.port} ({src.flavor} {src.version}).",
        "",
        "| " + " | ".join(headers) + " |",
        "|" + "---|" * len(headers),
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    lines += ["", "## Rows per partition", ""]
    for t in manifest.tables:
        if t.partition_rows:
            counts = ", ".join(f"{n:,}" for n in t.partition_rows)
            lines.append(f"- `{t.source}` {sparkline(t.partition_rows)} ({counts})")
    problems = _problems(manifest)
    if problems:
        lines += ["", "## Problems", "", *[f"- {p.strip()}" for p in problems]]
    lines += ["", "```", _footer(manifest), "```"]
    return "\n".join(lines) + "\n"


def _svg_bars(values: Sequence[int], width: int = 240, height: int = 40) -> str:
    top = max(values, default=0) or 1
    bar = width / max(len(values), 1)
    rects = "".join(
        f'<rect x="{i * bar:.1f}" y="{height - v / top * height:.1f}" width="{max(bar - 1, 1):.1f}" '
        f'height="{v / top * height:.1f}"><title>partition {i}: {v:,} rows</title></rect>'
        for i, v in enumerate(values)
    )
    return f'<svg width="{width}" height="{height}" class="bars">{rects}</svg>'


def html_report(manifest: Manifest) -> str:
    headers, rows = table_rows(manifest)
    body = "".join(
        "<tr>"
        + "".join(f"<td>{html.escape(c)}</td>" for c in r)
        + f"<td>{_svg_bars(t.partition_rows) if t.partition_rows else ''}</td></tr>"
        for r, t in zip(rows, manifest.tables, strict=True)
    )
    head = "".join(f"<th>{html.escape(h)}</th>" for h in [*headers, "rows per partition"])
    problems = "".join(f"<li>{html.escape(p.strip())}</li>" for p in _problems(manifest))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>cdc_migrate load report</title>
<style>body{{font-family:sans-serif;margin:2em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}} td:first-child,td:nth-child(2){{text-align:left}}
.bars rect{{fill:#4a78c2}}</style></head><body>
<h1>cdc_migrate load report</h1>
<p>Started {html.escape(manifest.started_at)}, finished {html.escape(manifest.finished_at or "-")}.</p>
<table><tr>{head}</tr>{body}</table>
{f"<h2>Problems</h2><ul>{problems}</ul>" if problems else ""}
<pre>{html.escape(_footer(manifest))}</pre>
</body></html>
"""
