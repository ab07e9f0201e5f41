"""Columns named as Iceberg's metadata columns are found at plan time, all at once, before anything is written, with
the rename that works; loaded under that rename, a live load merges changes into them and the sink (reproduced in
tests/integration/sink.py) still finds them by their source names; a column the sink itself adds is refused."""

from __future__ import annotations

from typing import Any

from cdc_migrate.handoff.connectors import ConnectorOptions, iceberg_sink
from cdc_migrate.handoff.manifest import TableResult
from cdc_migrate.load.progress import NullProgress
from cdc_migrate.load.runner import plan, run
from cdc_migrate.planning.partitions import TablePlan

from .conftest import OptionsFactory
from .sink import SinkTable

RESERVED = ("_file", "_pos", "_spec_id", "_partition", "_deleted", "_change_type")


class UpdatesInTheWindow(NullProgress):
    def __init__(self, server: Any, statement: str) -> None:
        self.server, self.statement = server, statement

    def table_started(self, index: int, total: int, plan: TablePlan) -> None:
        self.server.execute(self.statement)

    def table_finished(self, index: int, total: int, result: TableResult) -> None:
        pass


def test_reserved_names_are_refused_at_plan_time_and_load_under_the_rename_the_message_gives(
    server: Any, spark: Any, database: str, make_options: OptionsFactory, iceberg: Any, warehouse: Any
) -> None:
    db = f"`{database}`"
    server.execute(
        f"CREATE TABLE {db}.meta (`_pos` INT PRIMARY KEY, `_file` VARCHAR(20), `_spec_id` INT, `_partition` INT, "
        "`_deleted` TINYINT(1), `_change_type` VARCHAR(10), v INT)",
        f"INSERT INTO {db}.meta SELECT seq, CONCAT('f', seq), seq, seq, 0, 'x', 0 FROM {db}.seq_1_to_1000",
    )
    options = make_options([f"{database}.*"])

    [planned] = plan(options)
    first = run(options, spark=spark)

    message = planned.error or ""
    assert all(name in message for name in RESERVED) and '_pos = {name = "pos_"}' in message
    assert [(t.status, t.error) for t in first.tables] == [("failed", message)]
    assert not (warehouse / database / "meta").exists()  # nothing written

    renames = {name: {"name": f"{name.strip('_')}_"} for name in RESERVED}
    renamed = make_options([f"{database}.*"], tables={"overrides": {f"{database}.meta": {"columns": renames}}})
    changes = UpdatesInTheWindow(server, f"UPDATE {db}.meta SET `_file` = 'changed', v = v + 1 WHERE `_pos` <= 100")

    manifest = run(renamed, spark=spark, progress=changes)

    [meta] = manifest.tables
    assert (meta.status, meta.changes, meta.primary_key) == ("loaded", 100, ("pos_",)) and manifest.snapshot.exact
    rows = iceberg(f"{database}.meta").scan().to_arrow().sort_by("pos_").to_pylist()
    assert rows[0]["file_"] == "changed" and rows[0]["v"] == 1 and rows[500]["file_"] == "f501"
    sink = SinkTable.loaded(iceberg(f"{database}.meta"))  # the sink finds each by its source name
    assert [sink._column(name).name for name in RESERVED] == [f"{n.strip('_')}_" for n in RESERVED]
    config = iceberg_sink(manifest, ConnectorOptions())["config"]
    assert config[f"iceberg.table.{database}.meta.id-columns"] == "pos_"


def test_a_column_the_sink_adds_is_refused(server: Any, database: str, make_options: OptionsFactory) -> None:
    server.execute(f"CREATE TABLE `{database}`.t (id INT PRIMARY KEY, `_cdc` VARCHAR(10))")

    [planned] = plan(make_options([f"{database}.*"]))

    assert "the field the Iceberg sink's DebeziumTransform adds to every change record" in (planned.error or "")
