"""The CDC connector configs written from a manifest (the seed's settings, per-table keys, offsets)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from cdc_migrate.errors import ConfigError, HandoffError
from cdc_migrate.handoff.connectors import (
    PASSWORD_PLACEHOLDER,
    ConnectorOptions,
    continued_tables,
    debezium_source,
    handoff_steps,
    iceberg_sink,
    offsets_request,
    topic_name,
)
from cdc_migrate.handoff.manifest import Manifest, TableResult
from cdc_migrate.handoff.sink_offsets import parse_kcat, sink_offsets
from cdc_migrate.source.binlog import BinlogPosition

ARN = "arn:aws:s3tables:ap-northeast-2:111122223333:bucket/analytics"
OPTIONS = ConnectorOptions()


def manifest(*tables: TableResult, kind: str = "s3tables", flavor: str = "mysql") -> Manifest:
    return replace(
        Manifest.from_dict(
            {
                "started_at": "t",
                "source": {"host": "replica.internal", "port": 3306, "user": "etl", "flavor": flavor},
                "catalog": {"kind": kind, "name": "s3tablesbucket", "warehouse": ARN if kind == "s3tables" else "/wh"},
                "binlog": {
                    "file": "mysql-bin.000042",
                    "position": 154,
                    "gtid_set": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-57",
                },
                "snapshot": {
                    "kind": "live",
                    "exact": True,
                    "note": "every table is exactly the source at the high watermark",
                },
            }
        ),
        tables=tables,
    )


AT = BinlogPosition("mysql-bin.000042", 154, "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-57")


def loaded(source: str, target: str, key: tuple[str, ...], **extra: object) -> TableResult:
    fields: dict[str, object] = {"exact_at": AT, **extra}
    return TableResult(source, target, "loaded", rows=1, primary_key=key, **fields)  # type: ignore[arg-type]


ORDERS = loaded("shop.orders", "shop.orders", ("id",))
ITEMS = loaded("shop.order_items", "shop.order_items", ("order_id", "line_no"))
NOKEY = loaded("shop.page_views", "shop.page_views", ())
FAILED = TableResult("shop.broken", "shop.broken", "failed", error="x")


def test_the_source_has_the_seeds_settings_and_only_keyed_loaded_tables() -> None:
    config = debezium_source(manifest(ORDERS, ITEMS, NOKEY, FAILED), OPTIONS)["config"]

    assert {
        k: config[k]
        for k in (
            "connector.class",
            "snapshot.mode",
            "snapshot.locking.mode",
            "time.precision.mode",
            "topic.prefix",
            "tasks.max",
        )
    } == {
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "snapshot.mode": "no_data",
        "snapshot.locking.mode": "none",
        "time.precision.mode": "connect",
        "topic.prefix": "cdc",
        "tasks.max": "1",
    }
    assert config["table.include.list"] == r"shop\.orders,shop\.order_items"
    assert (config["database.hostname"], config["database.user"]) == ("replica.internal", "etl")
    assert config["database.password"] == PASSWORD_PLACEHOLDER
    assert config["bigint.unsigned.handling.mode"] == "long"
    assert config["enable.time.adjuster"] == "false"  # years 0001-0099 arrive as stored, as they were loaded


def test_a_replicas_load_is_continued_from_the_server_it_replicates() -> None:
    m = manifest(ORDERS)
    replica = replace(m, source=replace(m.source, cdc_host="primary.internal", cdc_port=3307))

    config = debezium_source(replica, OPTIONS)["config"]

    assert (config["database.hostname"], config["database.port"]) == ("primary.internal", "3307")


def test_bigint_unsigned_columns_loaded_two_ways_cannot_share_a_connector() -> None:
    big = loaded("shop.big", "shop.big", ("id",), column_choices={"v": "bigint_unsigned:decimal(20,0)"})
    other = loaded("shop.other", "shop.other", ("id",), column_choices={"w": "bigint_unsigned"})

    with pytest.raises(ConfigError, match=r"one setting for the whole Debezium connector.*shop.big.v.*shop.other.w"):
        debezium_source(manifest(big, other), OPTIONS)


def test_precise_bigint_handling_follows_a_decimal_20_0_choice() -> None:
    big = loaded("shop.big", "shop.big", ("id",), column_choices={"v": "bigint_unsigned:decimal(20,0)"})

    assert debezium_source(manifest(big), OPTIONS)["config"]["bigint.unsigned.handling.mode"] == "precise"


def test_mariadb_gets_debeziums_mariadb_connector() -> None:
    config = debezium_source(manifest(ORDERS, flavor="mariadb"), OPTIONS)["config"]

    assert config["connector.class"] == "io.debezium.connector.mariadb.MariaDbConnector"


def test_the_sink_upserts_each_table_by_its_own_primary_key() -> None:
    config = iceberg_sink(manifest(ORDERS, ITEMS, NOKEY), OPTIONS)["config"]

    assert config["connector.class"] == "io.tabular.iceberg.connect.IcebergSinkConnector"
    assert config["iceberg.table.shop.orders.id-columns"] == "id"
    assert config["iceberg.table.shop.order_items.id-columns"] == "order_id,line_no"
    assert "iceberg.tables.default-id-columns" not in config  # the keys differ: no single default is right
    assert config["topics"] == "cdc.shop.orders,cdc.shop.order_items"
    assert not any("page_views" in v or "page_views" in k for k, v in config.items())
    assert {
        k: config[k]
        for k in (
            "iceberg.tables.upsert-mode-enabled",
            "iceberg.tables.auto-create-enabled",
            "iceberg.tables.evolve-schema-enabled",
            "iceberg.tables.cdc-field",
            "transforms.dbztransform.type",
        )
    } == {
        "iceberg.tables.upsert-mode-enabled": "true",
        "iceberg.tables.auto-create-enabled": "false",
        "iceberg.tables.evolve-schema-enabled": "true",
        "iceberg.tables.cdc-field": "_cdc.op",
        "transforms.dbztransform.type": "io.tabular.iceberg.connect.transforms.DebeziumTransform",
    }


def test_the_sink_reaches_s3_tables_through_its_rest_endpoint_like_the_seed() -> None:
    config = iceberg_sink(manifest(ORDERS), OPTIONS)["config"]

    assert {k: v for k, v in config.items() if k.startswith("iceberg.catalog.")} == {
        "iceberg.catalog.type": "rest",
        "iceberg.catalog.uri": "https://s3tables.ap-northeast-2.amazonaws.com/iceberg",
        "iceberg.catalog.warehouse": ARN,
        "iceberg.catalog.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        "iceberg.catalog.client.region": "ap-northeast-2",
        "iceberg.catalog.rest.sigv4-enabled": "true",
        "iceberg.catalog.rest.signing-region": "ap-northeast-2",
        "iceberg.catalog.rest.signing-name": "s3tables",
    }
    assert config["iceberg.tables.default-id-columns"] == "id"


@pytest.mark.parametrize(
    ("tables", "pattern"),
    [((ORDERS, ITEMS), "{db}.{table}"), ((loaded("shop.orders", "lake.orders", ("id",)),), "lake.{table}")],
    ids=["same-names", "one-namespace"],
)
def test_targets_named_by_a_pattern_are_routed_dynamically(tables: tuple[TableResult, ...], pattern: str) -> None:
    config = iceberg_sink(manifest(*tables), OPTIONS)["config"]

    assert config["iceberg.tables.dynamic-enabled"] == "true"
    assert config["iceberg.tables.route-field"] == "_cdc.target"
    assert config["transforms.dbztransform.cdc.target.pattern"] == pattern


def test_renamed_targets_are_routed_one_by_one_by_their_source() -> None:
    renamed = loaded("Shop.Orders", "shop.orders", ("id",))

    config = iceberg_sink(manifest(renamed, ITEMS), OPTIONS)["config"]

    assert config["iceberg.tables.dynamic-enabled"] == "false"
    assert config["iceberg.tables"] == "shop.orders,shop.order_items"
    assert config["iceberg.tables.route-field"] == "_cdc.source"
    assert config["iceberg.table.shop.orders.route-regex"] == r"^Shop\.Orders$"


@pytest.mark.parametrize(
    ("table", "topic"),
    [("shop.orders", "cdc.shop.orders"), ("d.my table-x ü", "cdc.d.my_table-x__"), ("d.emoji😀", "cdc.d.emoji__")],
    ids=["plain", "space-dash-umlaut", "astral"],
)
def test_topic_names_are_sanitised_as_debezium_does(table: str, topic: str) -> None:
    assert topic_name("cdc", table) == topic


def test_the_offsets_request_starts_the_source_where_the_tables_are_exact() -> None:
    assert offsets_request(manifest(ORDERS), OPTIONS) == {
        "offsets": [
            {
                "partition": {"server": "cdc"},
                "offset": {
                    "file": "mysql-bin.000042",
                    "pos": 154,
                    "gtids": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-57",
                },
            }
        ]
    }


def test_the_steps_stop_patch_resume_and_warn_about_recovery_mode() -> None:
    steps = handoff_steps(manifest(ORDERS, NOKEY), OPTIONS, {"source": "s.json", "sink": "k.json", "offsets": "o.json"})

    needles = [
        "initial_state",
        "PATCH",
        "/offsets",
        "/resume",
        "snapshot.mode",
        "recovery",
        "only if no DDL ran",
        "Left out: shop.page_views: it has no primary key",
        "appends an insert",
        "cdc-migrate sink-offsets",
        "kcat",
    ]
    for needle in needles:
        assert needle in steps
    assert "converge" not in steps.replace("upserts converge does not hold", "")
    assert "etlpw" not in json.dumps(debezium_source(manifest(ORDERS), OPTIONS))


def test_only_tables_exact_where_cdc_starts_are_continued_and_the_others_are_named_with_why() -> None:
    behind = loaded("shop.behind", "shop.behind", ("id",), exact_at=BinlogPosition("mysql-bin.000041", 4))
    inexact = loaded("shop.inexact", "shop.inexact", ("id",), exact_at=None)
    skipped = TableResult("shop.cut", "shop.cut", "skipped")
    m = manifest(ORDERS, behind, inexact, NOKEY, FAILED, skipped)

    continued = continued_tables(m)
    config = debezium_source(m, OPTIONS)["config"]
    sink = iceberg_sink(m, OPTIONS)["config"]
    steps = handoff_steps(m, OPTIONS, {"source": "s.json", "sink": "k.json", "offsets": "o.json"})

    assert [t.source for t in continued.tables] == ["shop.orders"]
    assert config["table.include.list"] == r"shop\.orders" and sink["topics"] == "cdc.shop.orders"
    why = {t.source: reason for t, reason in continued.left_out}
    assert why["shop.behind"].startswith("it is exact at mysql-bin.000041:4, not at mysql-bin.000042:154")
    assert why["shop.inexact"].startswith("it is exact at no position")
    assert why["shop.broken"] == "it failed to load; run again to load it"
    assert why["shop.cut"] == "it was skipped; run again to load it"
    assert "Left out: shop.behind: it is exact at mysql-bin.000041:4" in steps


@pytest.mark.parametrize(
    "tables",
    [(), (FAILED,), (NOKEY,), (replace(ORDERS, exact_at=None),)],
    ids=["none", "failed", "no-key", "inexact"],
)
def test_a_load_with_no_exact_table_gets_no_connector(tables: tuple[TableResult, ...]) -> None:
    with pytest.raises(ConfigError, match="no table of this load is exactly the source where CDC would start"):
        debezium_source(manifest(*tables), OPTIONS)
    with pytest.raises(ConfigError, match="nothing to continue"):
        iceberg_sink(manifest(*tables), OPTIONS)


def test_a_replica_that_moved_during_the_load_continues_nothing() -> None:
    m = manifest(ORDERS)
    moved = replace(m, snapshot=replace(m.snapshot, kind="replica", exact=False, note="the replica applied changes"))

    assert continued_tables(moved).left_out == [(ORDERS, "the load is not exact (the replica applied changes)")]


def event(file: str, pos: int, row: int = 0) -> dict[str, object]:
    return {"schema": {}, "payload": {"op": "c", "source": {"file": file, "pos": pos, "row": row}}}


def test_sink_offsets_start_each_topic_at_the_first_change_after_the_position() -> None:
    records = [
        ("cdc.shop.orders", 0, 0, event("mysql-bin.000042", 100)),
        ("cdc.shop.orders", 0, 1, None),  # a tombstone
        ("cdc.shop.orders", 0, 2, event("mysql-bin.000042", 200)),
        ("cdc.shop.order_items", 0, 0, event("mysql-bin.000041", 9000)),
        ("cdc.shop.order_items", 0, 1, event("mysql-bin.000043", 4)),
        ("cdc.shop.order_items", 1, 7, event("mysql-bin.000040", 5)),  # nothing after it yet: its end
    ]

    body = sink_offsets(manifest(ORDERS, ITEMS), records)

    assert body == {
        "offsets": [
            {"partition": {"kafka_topic": "cdc.shop.order_items", "kafka_partition": 0}, "offset": {"kafka_offset": 1}},
            {"partition": {"kafka_topic": "cdc.shop.order_items", "kafka_partition": 1}, "offset": {"kafka_offset": 8}},
            {"partition": {"kafka_topic": "cdc.shop.orders", "kafka_partition": 0}, "offset": {"kafka_offset": 2}},
        ]
    }


def test_sink_offsets_refuse_the_topic_of_a_table_not_exact_where_cdc_starts() -> None:
    inexact = replace(ITEMS, exact_at=None, not_exact="its claim no longer holds: main moved")
    records = [("cdc.shop.orders", 0, 0, event("mysql-bin.000042", 100))]
    assert sink_offsets(manifest(ORDERS, inexact), records)["offsets"]  # its own topics only: fine

    with pytest.raises(HandoffError, match=r"shop\.order_items \(its claim no longer holds: main moved\)"):
        sink_offsets(manifest(ORDERS, inexact), [*records, ("cdc.shop.order_items", 0, 0, None)])


def test_a_topic_dump_that_is_not_kcats_format_is_refused_with_the_command() -> None:
    assert list(parse_kcat(['cdc.t\t0\t5\t{"payload": {}}\n', "cdc.t\t0\t6\t\n"])) == [
        ("cdc.t", 0, 5, {"payload": {}}),
        ("cdc.t", 0, 6, None),
    ]
    with pytest.raises(ConfigError, match=r"line 1 of the topic dump .*kcat -C -e -f"):
        list(parse_kcat(["not a record"]))
