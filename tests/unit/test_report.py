"""The end-of-run table and `cdc-migrate report` in text, Markdown and HTML (pure)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from cdc_migrate.cli.app import main
from cdc_migrate.handoff.manifest import (
    Manifest,
    SnapshotRecord,
    TableResult,
    Validation,
    read_manifest,
    write_manifest,
)
from cdc_migrate.load.report import html_report, markdown_report, run_summary, sparkline

MISMATCH = {
    "status": "mismatch",
    "drift": False,
    "chunks": 4,
    "chunking": "range",
    "mismatched_chunk_count": 1,
    "source_rows": 400,
    "iceberg_rows": 399,
    "mismatched_chunks": [
        {
            "chunk": 2,
            "range": "[201, 301)",
            "source_rows": 100,
            "iceberg_rows": 99,
            "first_differences": ["missing from Iceberg: 250"],
        }
    ],
}


def manifest(**validation: dict[str, object]) -> Manifest:
    head = Manifest.from_dict(
        {
            "started_at": "2026-11-24T00:00:00.000Z",
            "finished_at": "2026-11-24T00:01:00.000Z",
            "source": {"host": "db", "port": 3306, "flavor": "mysql", "version": "8.0.36"},
            "catalog": {"kind": "local"},
            "binlog": {"file": "binlog.000002", "position": 42, "gtid_set": ""},
        }
    )
    return replace(
        head,
        tables=(
            TableResult(
                "shop.orders",
                "shop.orders",
                "loaded",
                rows=400,
                partitions=4,
                seconds=2.0,
                bytes=3 * 1024 * 1024,
                partition_rows=(100, 100, 100, 100),
                validation=_validation(validation.get("orders")),
            ),
            TableResult(
                "shop.skewed",
                "shop.skewed",
                "loaded",
                rows=1010,
                partitions=3,
                seconds=1.0,
                bytes=900,
                partition_rows=(1000, 0, 10),
                validation=_validation(validation.get("skewed")),
            ),
            TableResult("shop.bad", None, "failed", error="TIME 30:00:00 is outside 00:00:00-23:59:59"),
        ),
    )


def _validation(v: dict[str, object] | None) -> Validation | None:
    return Validation.from_dict({"checked_at": "t", **v}) if v is not None else None


def test_the_run_table_has_rows_partitions_seconds_rate_bytes_and_validation() -> None:
    text = run_summary(manifest(orders=MISMATCH, skewed={"status": "match", "drift": False}))

    orders = next(line for line in text.splitlines() if line.startswith("shop.orders"))
    assert re.split(r"\s{2,}", orders) == [
        "shop.orders",
        "shop.orders",
        "loaded",
        "400",
        "4",
        "2.0",
        "200",
        "3.0 MiB",
        "MISMATCH in 1 of 4 chunks",
    ]
    assert re.split(r"\s{2,}", next(x for x in text.splitlines() if x.startswith("shop.skewed")))[-2:] == [
        "900 B",
        "match",
    ]
    assert "  shop.bad: TIME 30:00:00 is outside 00:00:00-23:59:59" in text
    assert "  shop.orders: chunk 2 [201, 301): 100 rows in MySQL, 99 in Iceberg; missing from Iceberg: 250" in text
    assert text.endswith(
        "2/3 tables loaded; not ready for CDC: 1 table(s) failed; run again to load them (the "
        "loaded ones are kept and brought to the new position)\n"
        "validation: 1/2 tables match the source"
    )


@pytest.mark.parametrize(
    ("tables", "snapshot", "says"),
    [
        ((), {"exact": True}, "no table loaded: CDC has nothing to continue"),
        ((TableResult("a.t", "a.t", "failed", error="x"),), {"exact": True}, "no table loaded"),
        ((TableResult("a.t", "a.t", "loaded", rows=1),), {"exact": True}, "CDC starts at binlog binlog.000002:42"),
        (
            (TableResult("a.t", "a.t", "loaded", rows=1),),
            {"exact": False, "note": "the replica moved"},
            "NOT EXACT: the tables are not all the source at binlog binlog.000002:42",
        ),
    ],
    ids=["nothing", "all-failed", "exact", "not-exact"],
)
def test_the_footer_announces_a_cdc_start_only_when_there_is_one(
    tables: tuple[TableResult, ...], snapshot: dict[str, object], says: str
) -> None:
    record = SnapshotRecord.from_dict({"kind": "live", **snapshot})
    m = Manifest(started_at="t", binlog=manifest().binlog, snapshot=record, tables=tables)

    assert says in run_summary(m)


def test_drift_is_said_in_the_footer() -> None:
    text = run_summary(manifest(orders=replace_drift(MISMATCH)))

    assert "the source changed since the load: differences may be changes CDC will apply" in text


def replace_drift(v: dict[str, object]) -> dict[str, object]:
    return {**v, "drift": True}


def test_sparkline_shows_skew() -> None:
    assert sparkline([100, 100, 100, 100]) == "████"
    assert sparkline([1000, 0, 10]) == "█ ▁"  # an empty partition is blank, a tiny one still visible
    assert sparkline([]) == "" and sparkline([0, 0]) == "  "


def test_markdown_report_has_the_table_the_skew_and_the_problems() -> None:
    md = markdown_report(manifest(orders=MISMATCH))

    assert "| source | target | status | rows | partitions | seconds | rows/s | written | validation |" in md
    assert "| shop.orders | shop.orders | loaded | 400 | 4 | 2.0 | 200 | 3.0 MiB | MISMATCH in 1 of 4 chunks |" in md
    assert "- `shop.skewed` █ ▁ (1,000, 0, 10)" in md
    assert "- shop.bad: TIME 30:00:00 is outside 00:00:00-23:59:59" in md


def test_html_report_escapes_and_draws_one_bar_per_partition() -> None:
    m = manifest()
    m = replace(m, tables=(*m.tables, TableResult("shop.<x>", "shop.x", "loaded", rows=1, partition_rows=(1,))))

    page = html_report(m)

    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert "<td>shop.&lt;x&gt;</td>" in page and "shop.<x>" not in page
    rect = r'<rect x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"><title>partition (\d+): ([\d,]+) rows'
    bars = re.findall(rect, page)
    skewed = [b for b in bars if b[3] in ("1,000", "0", "10")]
    assert [(float(h), n) for _, h, _, n in skewed] == [(40.0, "1,000"), (0.0, "0"), (0.4, "10")]
    assert len(bars) == 4 + 3 + 1


def test_the_report_command_prints_again_or_writes_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "manifest.json"
    write_manifest(path, manifest(orders=MISMATCH))

    assert main(["report", "--manifest", str(path)]) == 0
    assert capsys.readouterr().out == run_summary(read_manifest(path)) + "\n"
    assert main(["report", "--manifest", str(path), "--format", "html", "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text() == html_report(read_manifest(path))
    assert main(["report", "--manifest", str(path), "--format", "markdown", "--out", str(tmp_path / "r.md")]) == 0
    assert (tmp_path / "r.md").read_text().startswith("# cdc_migrate load report")
