"""How results show themselves in a notebook (pure, a leaf): an HTML table that embeds in a page without restyling
it (its styles scoped to its own element), and values shortened for a repr."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

# Scoped to the table's own class: the page around it (a notebook) keeps its own styles.
_STYLE = (
    "<style>"
    ".cdc-migrate{border-collapse:collapse;font-size:12px;margin:4px 0}"
    ".cdc-migrate caption{text-align:left;font-weight:bold;padding:2px 0}"
    ".cdc-migrate th,.cdc-migrate td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top}"
    ".cdc-migrate th{background:#f3f3f3}"
    ".cdc-migrate td.bad{color:#b00020}.cdc-migrate td.good{color:#137333}"
    "</style>"
)
GOOD = ("loaded", "match", "exact", "resumed")
BAD = ("failed", "mismatch", "error", "not exact", "skipped", "withdrawn")


def shown(value: Any, width: int = 60) -> str:
    """A value as a short line: sequences joined, long text cut with an ellipsis."""
    if isinstance(value, tuple | list):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = ", ".join(f"{k}={v}" for k, v in value.items())
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    kind = "bad" if text in BAD else "good" if text in GOOD else ""
    return f"<td class='{kind}'>{html.escape(text)}</td>" if kind else f"<td>{html.escape(text)}</td>"


def html_table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[Any]], note: str = "") -> str:
    """A captioned table (statuses coloured), with a line of note under it."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(f"<tr>{''.join(_cell(v) for v in row)}</tr>" for row in rows)
    foot = f"<div style='font-size:12px'>{html.escape(note)}</div>" if note else ""
    return (
        f"{_STYLE}<table class='cdc-migrate'><caption>{html.escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{foot}"
    )


def counted(items: Sequence[Any], noun: str, limit: int = 3) -> str:
    """'3 tables: a, b, c' or '120 tables: a, b, c, ...' for a repr."""
    names = ", ".join(str(i) for i in items[:limit]) + (", …" if len(items) > limit else "")
    return f"{len(items)} {noun}{'' if len(items) == 1 else 's'}" + (f": {names}" if items else "")
