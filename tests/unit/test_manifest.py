from __future__ import annotations

import json
from pathlib import Path

import pytest

from cdc_migrate.config.secret import Secret
from cdc_migrate.config.sections import CatalogOptions, SourceOptions
from cdc_migrate.handoff.manifest import (
    SCHEMA_PATH,
    CatalogRecord,
    Manifest,
    SourceRecord,
    TableResult,
    catalog_record,
    manifest_schema,
    read_manifest,
    write_manifest,
)
from cdc_migrate.source.binlog import BinlogPosition, ServerInfo
from tests.manifest_schema import schema_problems

SERVER = ServerInfo("mariadb", "10.11.19-MariaDB", 1, None, True, None)


def manifest() -> Manifest:
    return Manifest(
        started_at="2026-11-24T00:00:00.000Z",
        finished_at="2026-11-24T00:01:00.000Z",
        source=SourceRecord.of(SourceOptions(host="h", port=3306, user="u", password=Secret("pw-xyz")), SERVER),
        catalog=catalog_record(CatalogOptions(kind="rest", uri="https://c", properties={"token": "tok-xyz"})),
        binlog=BinlogPosition("binlog.000002", 42, "0-1-7", "2026-11-24T00:00:00.000Z"),
        tables=(
            TableResult(
                "shop.a",
                "shop.a",
                "loaded",
                rows=3,
                partitions=1,
                split_column="id",
                min=1,
                max=3,
                snapshot_id=99,
                seconds=1.5,
            ),
            TableResult("shop.b", None, "failed", error="no primary key"),
        ),
    )


def test_the_documented_fields_are_all_there(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    write_manifest(path, manifest())
    data = json.loads(path.read_text())

    assert data["version"] == 1
    assert {"started_at", "finished_at", "source", "binlog", "catalog", "tables"} <= data.keys()
    assert {"host", "port", "flavor", "version"} <= data["source"].keys()
    assert data["binlog"] == {
        "file": "binlog.000002",
        "position": 42,
        "gtid_set": "0-1-7",
        "taken_at": "2026-11-24T00:00:00.000Z",
    }
    assert set(data["tables"][0]) >= {
        "source",
        "target",
        "status",
        "rows",
        "partitions",
        "split_column",
        "min",
        "max",
        "snapshot_id",
        "seconds",
        "error",
    }


def test_no_secret_reaches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    write_manifest(path, manifest())

    text = path.read_text()
    assert "pw-xyz" not in text
    assert "tok-xyz" not in text


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    write_manifest(path, manifest())

    assert read_manifest(path) == manifest()


def test_a_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    write_manifest(path, manifest())
    before = path.read_text()

    with pytest.raises(TypeError):
        write_manifest(path, Manifest(started_at="x", source=SourceRecord(host=_Unserialisable())))  # type: ignore[arg-type]

    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


class _Unserialisable:
    def __str__(self) -> str:
        raise TypeError("cannot serialise")


OLD = Path(__file__).parent / "data" / "manifest-0.1.0.json"  # written by cdc_migrate before the typed records


def test_a_manifest_written_before_the_typed_records_reads_and_writes_back_the_same(tmp_path: Path) -> None:
    manifest = read_manifest(OLD)

    assert manifest.binlog == manifest.snapshot.high_watermark == manifest.tables[0].exact_at  # type: ignore[union-attr]
    assert manifest.source.jdbc_driver is not None and manifest.source.jdbc_driver.class_name.endswith("Driver")
    assert manifest.tables[0].validation and manifest.tables[0].validation.mismatched_chunks
    assert manifest.tables[0].validation.mismatched_chunks[0].first_differences == ("missing from Iceberg: 600",)
    assert manifest.preconditions[0].level == "warning" and manifest.runs[0].high_watermark == manifest.binlog
    write_manifest(tmp_path / "m.json", manifest)
    assert json.loads((tmp_path / "m.json").read_text()) == json.loads(OLD.read_text())


def test_a_manifest_from_before_the_handoff_sections_still_reads() -> None:
    data = {
        "version": 1,
        "started_at": "2026-11-01T00:00:00.000Z",
        "source": {"host": "h", "port": 3306, "user": "u", "flavor": "mysql", "version": "8.0.36"},
        "catalog": {"kind": "local", "name": "local", "warehouse": "/w"},
        "binlog": {"file": "binlog.000001", "position": 4, "gtid_set": "", "taken_at": "t"},
        "snapshot": {},
        "tables": [{"source": "a.b", "target": "a.b", "status": "loaded", "rows": 1, "primary_key": ["id"]}],
    }

    manifest = Manifest.from_dict(data)

    assert manifest.snapshot is None and manifest.runs == () and manifest.source.cdc_host is None
    assert manifest.binlog == BinlogPosition("binlog.000001", 4, "", "t")
    assert manifest.tables[0].primary_key == ("id",) and manifest.tables[0].exact_at is None


# ---- the JSON Schema other tools check a manifest against ----------------------------------------------


def test_the_schema_file_is_the_one_the_records_give() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(manifest_schema())
    assert json.loads(SCHEMA_PATH.read_text()) == manifest_schema(), (
        "cdc_migrate/handoff/manifest.schema.json is stale: regenerate it with\n"
        ".venv/bin/python -c 'from cdc_migrate.handoff.manifest import write_schema; write_schema()'"
    )


def test_a_manifest_of_0_1_0_and_one_of_today_are_valid_and_read(tmp_path: Path) -> None:
    write_manifest(tmp_path / "today.json", manifest())
    today = json.loads((tmp_path / "today.json").read_text())

    assert schema_problems(json.loads(OLD.read_text())) == [] and schema_problems(today) == []
    assert read_manifest(OLD).tables and read_manifest(tmp_path / "today.json") == manifest()


def test_the_schema_refuses_what_a_reader_could_not_use() -> None:
    data = manifest().to_dict()
    data["binlog"]["position"] = "42"
    data["tables"][0]["rows"] = 3.5
    del data["tables"][1]["status"]

    problems = schema_problems(data)

    assert len(problems) == 3, problems
    assert any(p.startswith("$.binlog") and "'42'" in p for p in problems)
    assert any(p.startswith("$.tables[0].rows") and "3.5" in p for p in problems)
    assert any(p.startswith("$.tables[1]") and "'status' is a required property" in p for p in problems)


def test_the_catalog_is_the_manifests_own_record_not_the_configuration() -> None:
    options = CatalogOptions(kind="rest", uri="https://c", namespace="ns", properties={"token": "tok-xyz"})
    record = catalog_record(options)

    assert type(record) is CatalogRecord and record.to_dict() == {
        "kind": "rest",
        "name": "rest",
        "warehouse": None,
        "uri": "https://c",
        "namespace": "ns",
        "region": None,
    }
    assert record.settings() == {"kind": "rest", "name": "rest", "uri": "https://c", "namespace": "ns"}
    assert record.options() == CatalogOptions(kind="rest", name="rest", uri="https://c", namespace="ns")
