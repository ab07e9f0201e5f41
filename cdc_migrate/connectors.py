"""The CDC pipeline that continues from a load: Debezium source and Iceberg sink configs, and the Kafka
Connect offsets request that starts the source at the load's binlog position (pure, from a manifest)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from typing import Any

from cdc_migrate.config import S3TABLES_KINDS, CatalogOptions
from cdc_migrate.manifest import Manifest, TableResult
from cdc_migrate.sparkconf import S3_FILE_IO, aws_rest_properties

logger = logging.getLogger(__name__)

TABULAR_SINK = "io.tabular.iceberg.connect.IcebergSinkConnector"
DEBEZIUM_TRANSFORM = "io.tabular.iceberg.connect.transforms.DebeziumTransform"
SOURCE_CLASSES = {
    "mysql": "io.debezium.connector.mysql.MySqlConnector",
    "aurora-mysql": "io.debezium.connector.mysql.MySqlConnector",
    "mariadb": "io.debezium.connector.mariadb.MariaDbConnector",  # Debezium 2.7+
}
PASSWORD_PLACEHOLDER = "${file:/opt/kafka/external-configuration/cdc-migrate/source.properties:password}"
BOOTSTRAP_PLACEHOLDER = "<KAFKA_BOOTSTRAP_SERVERS>"


@dataclass(frozen=True)
class ConnectorOptions:
    """Names the CDC side chooses; defaults follow the seed document."""

    name: str = "cdc-migrate"
    topic_prefix: str = "cdc"
    server_id: int = 10_000_000
    bootstrap_servers: str = BOOTSTRAP_PLACEHOLDER


def continued_tables(manifest: Manifest) -> tuple[list[TableResult], list[TableResult]]:
    """The loaded tables CDC can continue (they have a primary key to upsert by), and those it cannot."""
    loaded = [t for t in manifest.tables if t.status == "loaded"]
    with_key = [t for t in loaded if t.primary_key]
    without = [t for t in loaded if not t.primary_key]
    for t in without:
        logger.warning("%s has no primary key: left out of the CDC connectors (the sink upserts by key)", t.source)
    return with_key, without


def _escape(table: str) -> str:
    """A Debezium include-list entry is a regular expression: match this table only."""
    return re.escape(table)


def debezium_source(manifest: Manifest, options: ConnectorOptions) -> dict[str, Any]:
    """The Debezium MySQL (or MariaDB) source connector, with the seed's settings."""
    tables, _ = continued_tables(manifest)
    source = manifest.source
    config = {
        "connector.class": SOURCE_CLASSES.get(str(source.get("flavor")), SOURCE_CLASSES["mysql"]),
        "tasks.max": "1",
        "database.hostname": str(source.get("host")),
        "database.port": str(source.get("port")),
        "database.user": str(source.get("user")),
        "database.password": PASSWORD_PLACEHOLDER,
        "database.server.id": str(options.server_id),
        "topic.prefix": options.topic_prefix,
        "schema.history.internal.kafka.bootstrap.servers": options.bootstrap_servers,
        "schema.history.internal.kafka.topic": f"{options.topic_prefix}.schema-changes",
        "table.include.list": ",".join(_escape(t.source) for t in tables),
        "snapshot.mode": "no_data",
        "snapshot.locking.mode": "none",
        "time.precision.mode": "connect",
        "decimal.handling.mode": "precise",
        "bigint.unsigned.handling.mode": "precise" if _uses_precise_bigint(tables) else "long",
    }
    return {"name": f"{options.name}-source", "config": config}


def _uses_precise_bigint(tables: list[TableResult]) -> bool:
    return any(
        choice == "bigint_unsigned:decimal(20,0)" for t in tables for choice in (t.column_choices or {}).values()
    )


def _catalog_config(manifest: Manifest) -> dict[str, str]:
    catalog = manifest.catalog
    kind, warehouse = catalog.get("kind"), str(catalog.get("warehouse") or "")
    if kind in S3TABLES_KINDS:
        # The sink reaches the bucket over REST: the route the load used, or for the client catalog (a jar
        # the sink does not carry) the S3 Tables endpoint, as in the seed.
        options = CatalogOptions(kind=str(kind), warehouse=warehouse, region=catalog.get("region"))
        region = options.region_name or "<REGION>"
        props = aws_rest_properties(replace(options, region=region), "glue-rest" if kind == "glue-rest" else None)
        props.setdefault("io-impl", S3_FILE_IO)
        props["client.region"] = region
        return {f"iceberg.catalog.{k}": v for k, v in props.items()}
    if kind == "rest":
        out = {"iceberg.catalog.type": "rest", "iceberg.catalog.uri": str(catalog.get("uri"))}
        if warehouse:
            out["iceberg.catalog.warehouse"] = warehouse
        return out
    return {  # the local JdbcCatalog on SQLite, for trying the pipeline on one machine
        "iceberg.catalog.catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
        "iceberg.catalog.uri": f"jdbc:sqlite:{warehouse}/catalog.db",
        "iceberg.catalog.warehouse": f"file://{warehouse}",
        "iceberg.catalog.jdbc.schema-version": "V1",
    }


def _target_pattern(tables: list[TableResult]) -> str | None:
    """The DebeziumTransform pattern that names every target from its source, if one does."""
    for pattern in ("{db}.{table}", *sorted({f"{t.target.split('.')[0]}.{{table}}" for t in tables if t.target})):
        if all(t.target == pattern.format(db=t.source.split(".")[0], table=t.source.split(".")[1]) for t in tables):
            return pattern
    return None


def iceberg_sink(manifest: Manifest, options: ConnectorOptions) -> dict[str, Any]:
    """The Iceberg sink (tabular v0.6.19) in upsert mode, writing into the loaded tables.

    Each table's own primary key is its id columns; the targets are routed by the DebeziumTransform's
    pattern where one names them all, else one by one by their source table.
    """
    tables, _ = continued_tables(manifest)
    config: dict[str, str] = {
        "connector.class": TABULAR_SINK,
        "tasks.max": "1",
        "topics": ",".join(f"{options.topic_prefix}.{t.source}" for t in tables),
        **_catalog_config(manifest),
        "iceberg.tables.upsert-mode-enabled": "true",
        "iceberg.tables.auto-create-enabled": "false",
        "iceberg.tables.evolve-schema-enabled": "true",
        "iceberg.control.topic": f"{options.topic_prefix}.iceberg-control",
        "iceberg.control.commit.interval-ms": "600000",
        "iceberg.control.commit.timeout-ms": "180000",
        "transforms": "dbztransform",
        "transforms.dbztransform.type": DEBEZIUM_TRANSFORM,
        "iceberg.tables.cdc-field": "_cdc.op",
    }
    pattern = _target_pattern(tables)
    if pattern is not None:
        config |= {
            "iceberg.tables.dynamic-enabled": "true",
            "iceberg.tables.route-field": "_cdc.target",
            "transforms.dbztransform.cdc.target.pattern": pattern,
        }
    else:
        config |= {
            "iceberg.tables.dynamic-enabled": "false",
            "iceberg.tables": ",".join(str(t.target) for t in tables),
            "iceberg.tables.route-field": "_cdc.source",
        }
        for t in tables:
            config[f"iceberg.table.{t.target}.route-regex"] = f"^{re.escape(t.source)}$"
    keys = {tuple(t.primary_key) for t in tables}
    if len(keys) == 1:
        config["iceberg.tables.default-id-columns"] = ",".join(next(iter(keys)))
    for t in tables:
        config[f"iceberg.table.{t.target}.id-columns"] = ",".join(t.primary_key)
    return {"name": f"{options.name}-sink", "config": config}


def offsets_request(manifest: Manifest, options: ConnectorOptions) -> dict[str, Any]:
    """The body of `PATCH /connectors/{name}/offsets` that starts the source at the load's low watermark."""
    binlog = manifest.binlog
    if not binlog:
        raise ValueError("the manifest has no binlog position (the load ran with --no-binlog-position)")
    offset: dict[str, Any] = {"file": binlog["file"], "pos": int(binlog["position"])}
    if binlog.get("gtid_set"):
        offset["gtids"] = binlog["gtid_set"]
    return {"offsets": [{"partition": {"server": options.topic_prefix}, "offset": offset}]}


def handoff_steps(manifest: Manifest, options: ConnectorOptions, files: dict[str, str]) -> str:
    """How to start CDC from the load, step by step (Markdown)."""
    tables, without = continued_tables(manifest)
    snapshot = manifest.snapshot or {}
    binlog = manifest.binlog or {}
    source_name, sink_name = f"{options.name}-source", f"{options.name}-sink"
    exact = snapshot.get("exact")
    lines = [
        "# Continuing the load with CDC",
        "",
        f"The load read {len(manifest.tables)} tables; CDC continues {len(tables)} of them from binlog "
        f"`{binlog.get('file')}:{binlog.get('position')}` (GTID set `{binlog.get('gtid_set') or 'empty'}`), the "
        "low watermark taken before the first row was read.",
        "",
        f"- Snapshot: {snapshot.get('kind', 'live')}; {snapshot.get('note', '')}.",
    ]
    if exact is False:
        lines.append(
            "- Changes between the low and the high watermark were partly read by the load already: they are "
            "replayed, and the sink's upsert by primary key makes each row converge (at least once)."
        )
    if without:
        lines.append(f"- Left out (no primary key to upsert by): {', '.join(t.source for t in without)}.")
    lines += [
        "",
        "Kafka Connect 3.7+ (connectors created stopped, KIP-980; offsets set over REST, KIP-875), Debezium 2.5+ "
        "(2.7+ for MariaDB's own connector), the tabular Iceberg sink 0.6.19. Put the source password where "
        f"`{PASSWORD_PLACEHOLDER}` points (a Kafka config provider), and the brokers in place of "
        f"`{BOOTSTRAP_PLACEHOLDER}`.",
        "",
        "1. Create the source connector stopped, so that it starts nowhere on its own:",
        "   ```sh",
        f"   jq '. + {{initial_state: \"STOPPED\"}}' {files['source']} | curl -sS -X POST -H 'Content-Type: "
        "application/json' --data @- $CONNECT/connectors",
        "   ```",
        "2. Set its offset to the load's position:",
        "   ```sh",
        f"   curl -sS -X PATCH -H 'Content-Type: application/json' --data @{files['offsets']} "
        f"$CONNECT/connectors/{source_name}/offsets",
        "   ```",
        "3. Rebuild its schema history from the current schema (it has none yet): set `snapshot.mode` to "
        "`recovery` for the first start. This is correct only if no DDL ran on these tables after the "
        "position; if some did, load those tables again instead.",
        "   ```sh",
        f'   jq \'.config + {{"snapshot.mode": "recovery"}}\' {files["source"]} | curl -sS -X PUT -H '
        f"'Content-Type: application/json' --data @- $CONNECT/connectors/{source_name}/config",
        "   ```",
        "4. Resume the source, then create the sink:",
        "   ```sh",
        f"   curl -sS -X PUT $CONNECT/connectors/{source_name}/resume",
        f"   curl -sS -X POST -H 'Content-Type: application/json' --data @{files['sink']} $CONNECT/connectors",
        "   ```",
        "5. Once the source runs, set `snapshot.mode` back to `no_data` (step 3 without the override).",
        "",
        f"The sink writes into the loaded tables ({sink_name}: upsert by each table's primary key, "
        "`auto-create-enabled=false`); it adds a `_cdc` column on the first CDC record.",
    ]
    return "\n".join(lines) + "\n"
