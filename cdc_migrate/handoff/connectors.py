"""The CDC pipeline that continues from a load: Debezium source and Iceberg sink configs, the Kafka Connect
offsets request that starts the source exactly where the loaded tables are exact, and, for a source connector
that already runs, the sink offsets that skip what the load already holds (pure, from a manifest)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from cdc_migrate.config.kinds import catalog_kind
from cdc_migrate.errors import HandoffError
from cdc_migrate.handoff.manifest import Manifest, SnapshotRecord, TableResult
from cdc_migrate.source.binlog import same_position

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


@dataclass(frozen=True)
class Continued:
    """The tables CDC continues from a load (loaded, with a primary key, exactly the source where CDC starts),
    and those left out with why."""

    tables: list[TableResult]
    left_out: list[tuple[TableResult, str]]


def left_out_reason(manifest: Manifest, table: TableResult) -> str | None:
    """Why CDC cannot continue a table from this load, or None where it can (pure)."""
    binlog, snapshot = manifest.binlog, manifest.snapshot
    if table.status == "failed":
        return "it failed to load; run again to load it"
    if table.status != "loaded":
        return f"it was {table.status}; run again to load it"
    if not table.primary_key:
        return "it has no primary key, which the sink updates and deletes by"
    if binlog is None:
        return "the load recorded no binlog position"
    if snapshot is not None and snapshot.kind != "live" and snapshot.exact is False:
        return f"the load is not exact ({snapshot.note})"
    if table.exact_at is None:
        return table.not_exact or f"it is exact at no position, not at {binlog} where CDC starts; run again"
    if not same_position(table.exact_at, binlog):
        return f"it is exact at {table.exact_at}, not at {binlog} where CDC starts; run again to bring it there"
    return None


def continued_tables(manifest: Manifest) -> Continued:
    """The tables CDC continues, and those it cannot, with why (pure)."""
    tables, left_out = [], []
    for table in manifest.tables:
        reason = left_out_reason(manifest, table)
        if reason is None:
            tables.append(table)
        else:
            left_out.append((table, reason))
    return Continued(tables, left_out)


def _continued(manifest: Manifest) -> list[TableResult]:
    """The tables a connector continues; none is an error (an empty include list is every table to Debezium)."""
    continued = continued_tables(manifest)
    if not continued.tables:
        reasons = "; ".join(f"{t.source}: {why}" for t, why in continued.left_out) or "it lists no table"
        raise HandoffError(
            f"no table of this load is exactly the source where CDC would start, so there is nothing to continue "
            f"({reasons}). Load them again (cdc-migrate run resumes), then write the connectors"
        )
    return continued.tables


def _escape(table: str) -> str:
    """A Debezium include-list entry is a regular expression: match this table only."""
    return re.escape(table)


def topic_name(prefix: str, table: str) -> str:
    """The Kafka topic Debezium writes a table's changes to: `<prefix>.<db>.<table>` with every character
    Kafka does not allow in a topic name (letters, digits, `.`, `_`, `-`) replaced by `_`, one per UTF-16
    unit, as Debezium's AbstractTopicNamingStrategy.sanitizedTopicName does (seen with Debezium 3.6.3:
    `db.my table-x ü` -> `cdc.db.my_table-x__`)."""
    name = f"{prefix}.{table}"
    out = []
    for ch in name:
        ok = ch.isascii() and (ch.isalnum() or ch in "._-")
        out.append(ch if ok else "_" * (2 if ord(ch) > 0xFFFF else 1))
    return "".join(out)


def bigint_unsigned_mode(tables: list[TableResult]) -> str:
    """`bigint.unsigned.handling.mode` for the connector: one setting for every BIGINT UNSIGNED column it
    continues, so the tables must agree (else a column loaded as long would get decimals, or the reverse)."""
    choices = {
        f"{t.source}.{column}": rule
        for t in tables
        for column, rule in (t.column_choices or {}).items()
        if rule.startswith("bigint_unsigned")
    }
    precise = sorted(c for c, rule in choices.items() if rule == "bigint_unsigned:decimal(20,0)")
    plain = sorted(c for c, rule in choices.items() if rule == "bigint_unsigned")
    if precise and plain:
        raise HandoffError(
            "bigint.unsigned.handling.mode is one setting for the whole Debezium connector, but BIGINT UNSIGNED "
            f"columns were loaded both as decimal(20,0) ({', '.join(precise)}) and as long ({', '.join(plain)}). "
            'Load them all the same way (columns.<column>.type = "decimal(20,0)" for every one, or for none), '
            "or continue the two groups with two connectors (--tables)"
        )
    return "precise" if precise else "long"


def debezium_source(manifest: Manifest, options: ConnectorOptions) -> dict[str, Any]:
    """The Debezium MySQL (or MariaDB) source connector, with the seed's settings.

    It reads the binlog the load's position is in (a replica's source, for a replica), with the time
    adjuster off so that years 0001-0099 arrive as stored, as the load wrote them.
    """
    tables = _continued(manifest)
    source = manifest.source
    config = {
        "connector.class": SOURCE_CLASSES.get(str(source.flavor), SOURCE_CLASSES["mysql"]),
        "tasks.max": "1",
        "database.hostname": str(source.cdc_host or source.host),
        "database.port": str(source.cdc_port or source.port),
        "database.user": str(source.user),
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
        "bigint.unsigned.handling.mode": bigint_unsigned_mode(tables),
        "enable.time.adjuster": "false",
    }
    return {"name": f"{options.name}-source", "config": config}


def _catalog_config(manifest: Manifest) -> dict[str, str]:
    """The sink's catalog: the one the load wrote to, as its kind reaches it from Kafka Connect."""
    options = manifest.catalog.options()
    kind = catalog_kind(options.kind)
    if kind.table_bucket:
        options = replace(options, region=options.region_name or "<REGION>")
    return {f"iceberg.catalog.{k}": v for k, v in kind.sink(options).items()}


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
    tables = _continued(manifest)
    config: dict[str, str] = {
        "connector.class": TABULAR_SINK,
        "tasks.max": "1",
        "topics": ",".join(topic_name(options.topic_prefix, t.source) for t in tables),
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
    """The body of `PATCH /connectors/{name}/offsets` that starts the source where the tables are exact."""
    binlog = manifest.binlog
    if not binlog:
        raise HandoffError("the manifest has no binlog position (the load ran with --no-binlog-position)")
    offset: dict[str, Any] = {"file": binlog.file, "pos": binlog.position}
    if binlog.gtid_set:
        offset["gtids"] = binlog.gtid_set
    return {"offsets": [{"partition": {"server": options.topic_prefix}, "offset": offset}]}


def handoff_steps(manifest: Manifest, options: ConnectorOptions, files: dict[str, str]) -> str:
    """How to start CDC from the load, step by step (Markdown), and exactly what is guaranteed."""
    continued = continued_tables(manifest)
    tables = continued.tables
    snapshot = manifest.snapshot or SnapshotRecord("live")
    binlog = manifest.binlog
    source_name, sink_name = f"{options.name}-source", f"{options.name}-sink"
    where = f"`{binlog}` (GTID set `{binlog.gtid_set if binlog and binlog.gtid_set else 'empty'}`)"
    lines = [
        "# Continuing the load with CDC",
        "",
        f"The load read {len(manifest.tables)} tables; CDC continues {len(tables)} of them from binlog {where}.",
        "",
        f"- Snapshot: {snapshot.kind}; {snapshot.note}.",
    ]
    for table, why in continued.left_out:
        lines.append(f"- Left out: {table.source}: {why}.")
    lines += _guarantee(sink_name) + _new_connector(options, files, source_name)
    lines += _running_connector(options, files, tables)
    return "\n".join(lines) + "\n"


def _guarantee(sink_name: str) -> list[str]:
    return [
        "",
        "## What is guaranteed",
        "",
        "Every continued table is exactly the source at that position: no row the load holds is changed by an "
        "event before it, and every change after it is in the binlog from there. The sink "
        f"({sink_name}: the tabular Iceberg sink 0.6.19 with `cdc-field=_cdc.op` and the DebeziumTransform) "
        "appends an insert without deleting its key and deletes by key only for updates and deletes, so CDC "
        "must start exactly there: one event earlier and a replayed insert duplicates a row, or a replayed "
        "delete-then-insert leaves the loaded copy beside the new one. Values are written as the load wrote "
        "them (the type contract in the README; where Debezium itself alters a value, the load does the same).",
        "",
    ]


def _new_connector(options: ConnectorOptions, files: dict[str, str], source_name: str) -> list[str]:
    return [
        "## A new source connector (recommended)",
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
    ]


def _running_connector(options: ConnectorOptions, files: dict[str, str], tables: list[TableResult]) -> list[str]:
    return [
        "## A source connector that already runs (the seed's workflow)",
        "",
        "If the tables were added to a running source connector's `table.include.list` before the load, their "
        "topics hold changes from before the load's position, which the load already holds: a sink that reads "
        "them from the beginning duplicates rows (the seed's claim that upserts converge does not hold for this "
        "sink). Start the sink in each topic at the first change after the position instead:",
        "",
        "1. Stop the sink (`PUT $CONNECT/connectors/<sink>/stop`), or create it stopped.",
        "2. Find, in each topic of the loaded tables, the first event after the position, and set the sink's "
        "offsets there (KIP-875):",
        "   ```sh",
        "   for t in " + " ".join(topic_name(options.topic_prefix, t.source) for t in tables) + "; do",
        "     kcat -C -b $BROKERS -t $t -e -f '%t\\t%p\\t%o\\t%s\\n'",
        "   done | cdc-migrate sink-offsets --manifest <this load's manifest> > sink-offsets.json",
        "   curl -sS -X PATCH -H 'Content-Type: application/json' --data @sink-offsets.json "
        "$CONNECT/connectors/<sink>/offsets",
        "   ```",
        "3. Add the topics to the sink's `topics` (and `iceberg.table.<table>.id-columns`) as in "
        f"{files['sink']}, then resume it (`PUT $CONNECT/connectors/<sink>/resume`).",
        "",
        "The topics must be read after the source connector has passed the load's position (its offset is "
        "beyond it), so that the first event after it is already there; a topic with none gets its end offset.",
        "",
        "The sink writes into the loaded tables (`auto-create-enabled=false`); it adds a `_cdc` column on the "
        "first CDC record.",
    ]
