from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cdc_migrate.cli.app import build_parser, main
from cdc_migrate.cli.flags import flags_layer
from tests.claimed import loaded_table


def flags(*argv: str) -> dict[str, object]:
    return flags_layer(build_parser().parse_args(["run", *argv]))


def test_flags_become_the_highest_option_layer() -> None:
    got = flags(
        "--source",
        "mysql://u@h:1",
        "--tables",
        "a.*,b.c",
        "--tables",
        "d.e",
        "--exclude",
        "a.tmp",
        "--split-column",
        "a.x=k",
        "--target",
        "a.x=ns.y",
        "--catalog",
        "local",
        "--warehouse",
        "w",
        "--conf",
        "spark.a=1",
        "--manifest",
        "m.json",
        "--no-binlog-position",
        "--max-partitions",
        "4",
    )

    assert got == {
        "source": {"url": "mysql://u@h:1"},
        "tables": {
            "include": ["a.*", "b.c", "d.e"],
            "exclude": ["a.tmp"],
            "max_partitions": "4",
            "overrides": {"a.x": {"split_column": "k", "target": "ns.y"}},
        },
        "catalog": {"kind": "local", "warehouse": "w"},
        "spark": {"conf": {"spark.a": "1"}},
        "run": {"manifest": "m.json", "record_binlog_position": False},
    }


def test_no_flags_set_nothing() -> None:
    assert flags() == {}


def test_a_configuration_error_is_one_line_and_exit_code_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[catalog]\nwharehouse = 'x'\n")

    code = main(["plan", "--config", str(config)])

    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1
    assert err.startswith("cdc-migrate: error: unknown key 'wharehouse' in [catalog]; valid keys there:")


def test_verbose_adds_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[catalog]\nwharehouse = 'x'\n")

    main(["--verbose", "plan", "--config", str(config)])

    assert "Traceback" in capsys.readouterr().err


def test_malformed_pair_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--source", "mysql://u@h", "--tables", "a.b", "--split-column", "a.b"]) == 2
    assert "--split-column 'a.b' is not KEY=VALUE" in capsys.readouterr().err


def test_settings_prints_the_glue_conf_value(capsys: pytest.CaptureFixture[str]) -> None:
    arn = "arn:aws:s3tables:ap-northeast-2:111122223333:bucket/analytics"

    assert main(["settings", "--catalog", "s3tables", "--warehouse", arn, "--format", "glue"]) == 0

    out = capsys.readouterr().out.splitlines()
    assert out[0] == "--conf"
    assert out[1].startswith("spark.sql.catalog.s3tablesbucket=org.apache.iceberg.spark.SparkCatalog --conf ")
    assert f"spark.sql.catalog.s3tablesbucket.warehouse={arn}" in out[1]


def _manifest(tmp_path: Path) -> str:
    from dataclasses import replace

    from cdc_migrate.handoff.manifest import Manifest, TableResult, write_manifest

    path = tmp_path / "m.json"
    from cdc_migrate.source.binlog import BinlogPosition

    snapshot = loaded_table(tmp_path, "d.t")
    at = BinlogPosition("b.1", 4)
    table = TableResult("d.t", "d.t", "loaded", rows=1, primary_key=("id",), exact_at=at, snapshot_id=snapshot)
    manifest = Manifest.from_dict(
        {
            "started_at": "t",
            "source": {"host": "h", "port": 3306, "user": "u"},
            "catalog": {"kind": "local", "warehouse": str(tmp_path)},
            "binlog": {"file": "b.1", "position": 4, "gtid_set": ""},
            "snapshot": {"kind": "live", "exact": True},
        }
    )
    write_manifest(path, replace(manifest, tables=(table,)))
    return str(path)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", "--source", "mysql://u@h", "--tables", "d.*", "--master", "bogus"],
            "spark.master = 'bogus' is not a Spark master; use local[*]",
        ),
        (
            [
                "run",
                "--source",
                "mysql://u@h",
                "--tables",
                "d.*",
                "--warehouse",
                "/proc/wh",
                "--manifest",
                "{tmp}/n.json",
            ],
            "cannot write the local warehouse /proc/wh",
        ),
        (["report", "--manifest", "{bad}"], "not a cdc_migrate manifest (ValueError: a table entry is not an object)"),
        (["report", "--manifest", "{good}", "--out", "/proc/no/such/r.md"], "cannot write /proc/no/such/r.md"),
        (["connectors", "--manifest", "{good}", "--out", "/proc/x"], "cannot write /proc/x/debezium-source.json"),
        (["sink-offsets", "--manifest", "{good}", "--topics", "{tmp}/none.tsv"], "cannot read the topic dump"),
    ],
    ids=[
        "bogus-master",
        "unwritable-warehouse",
        "malformed-manifest",
        "report-out",
        "connectors-out",
        "topics-missing",
    ],
)
def test_bad_input_is_one_line_naming_the_thing_and_the_fix(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"started_at": "x", "tables": [1]}')
    fill = {"bad": str(bad), "good": _manifest(tmp_path), "tmp": str(tmp_path)}

    code = main([a.format(**fill) for a in argv])

    err = capsys.readouterr().err.strip()
    assert code != 0 and len(err.splitlines()) == 1, err
    assert err.startswith("cdc-migrate: error: ") and message in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--no-binlog-position", "--start-position", "b.1:4"], "--no-binlog-position contradicts --start-position"),
        (["--source-secret", "prod/etl"], "--source and --source-secret both give the login"),
        (["--catalog", "local", "--catalog-uri", "http://x"], "catalog.uri = 'http://x' is only read for"),
        (["--no-binlog-position", "--snapshot", "replica"], "contradicts snapshot.kind = 'replica'"),
    ],
    ids=["position-and-none", "source-and-secret", "uri-without-rest", "replica-without-position"],
)
def test_conflicting_flags_are_refused_not_ignored(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["plan", "--source", "mysql://u@h", "--tables", "d.*", *argv])

    err = capsys.readouterr().err
    assert code == 2 and message in err


@pytest.mark.parametrize(
    ("command", "absent", "present"),
    [
        ("plan", ["--force", "--validate", "--parallel-tables", "--master", "--manifest"], ["--tables", "--snapshot"]),
        ("settings", ["--force", "--tables", "--source", "--snapshot"], ["--catalog", "--conf"]),
        ("validate", ["--force", "--snapshot", "--split-column"], ["--tables", "--manifest", "--warehouse"]),
        ("run", [], ["--force", "--validate", "--tables", "--snapshot", "--conf"]),
    ],
)
def test_each_commands_help_lists_only_the_flags_it_reads(
    command: str, absent: list[str], present: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])

    text = capsys.readouterr().out
    assert [f for f in absent if f"{f} " in text or f"{f}\n" in text] == []
    assert all(f in text for f in present)


def _manifest_file(path: Path, *tables: dict[str, object]) -> Path:
    """A manifest whose loaded tables claim tables made in a warehouse beside it."""
    import json

    at = {"file": "mysql-bin.000002", "position": 400, "gtid_set": "0-1-5"}
    warehouse = path.parent / "wh"
    claimed = [
        {**t, "exact_at": at, "snapshot_id": loaded_table(warehouse, str(t["target"]))}
        if t["status"] == "loaded"
        else t
        for t in tables
    ]
    path.write_text(
        json.dumps(
            {
                "started_at": "2026-12-02T00:00:00Z",
                "source": {"host": "db", "port": 3306, "user": "etl", "flavor": "mysql"},
                "catalog": {"kind": "local", "name": "local", "warehouse": str(warehouse)},
                "binlog": at,
                "snapshot": {"kind": "live", "exact": True, "note": "n"},
                "tables": claimed,
            }
        )
    )
    return path


def test_connectors_refuse_a_load_with_no_exact_table_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = _manifest_file(
        tmp_path / "m.json",
        {"source": "shop.a", "target": "shop.a", "status": "failed", "error": "x", "primary_key": ["id"]},
        {"source": "shop.b", "target": "shop.b", "status": "skipped", "primary_key": ["id"]},
    )

    code = main(["connectors", "--manifest", str(manifest), "--out", str(tmp_path / "cdc")])

    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert "no table of this load is exactly the source" in err and "shop.a: it failed to load" in err
    assert not (tmp_path / "cdc").exists()


def test_connectors_name_the_tables_they_continue_and_those_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    manifest = _manifest_file(
        tmp_path / "m.json",
        {"source": "shop.a", "target": "shop.a", "status": "loaded", "primary_key": ["id"]},
        {"source": "shop.b", "target": "shop.b", "status": "failed", "error": "x", "primary_key": ["id"]},
    )

    code = main(["connectors", "--manifest", str(manifest), "--out", str(tmp_path / "cdc")])

    out = capsys.readouterr().out
    source = json.loads((tmp_path / "cdc" / "debezium-source.json").read_text())["config"]
    assert code == 0 and source["table.include.list"] == r"shop\.a"
    assert "CDC continues 1 table(s): shop.a" in out and "left out shop.b: it failed to load" in out


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (lambda p: p.write_bytes("[source]\nhost = 'caf\xe9'\n".encode("latin-1")), "is not UTF-8 text (byte 20"),
        (lambda p: p.mkdir(), "is a directory; give --config a TOML file"),
        (lambda p: (p.write_text("[run]\n"), p.chmod(0)), "cannot be read (permission denied)"),
    ],
    ids=["latin-1", "a-directory", "unreadable"],
)
def test_a_config_file_that_cannot_be_read_is_named_with_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, make: Any, said: str
) -> None:
    config = tmp_path / "c.toml"
    make(config)
    if said.startswith("cannot be read") and os.access(config, os.R_OK):  # root reads it: the system's refusal
        monkeypatch.setattr(Path, "read_text", lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "denied")))

    code = main(["plan", "--config", str(config)])

    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1, err
    assert err.startswith(f"cdc-migrate: error: config file {config} {said}") and "--config" in err
