"""The sink offsets (KIP-875) for the seed's workflow, where the source connector already ran with the loaded
tables in its include list: in each topic partition, the first change after the position the tables are exact at
(pure, from a manifest and the topics as kcat prints them)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from cdc_migrate.errors import ConfigError, HandoffError
from cdc_migrate.handoff.connectors import continued_tables, topic_name
from cdc_migrate.handoff.manifest import Manifest


def _after(source: dict[str, Any], file: str, pos: int) -> bool:
    """Whether a Debezium event's source block lies after a position SHOW MASTER STATUS reported (which is
    always between transactions, so every row event of a later transaction has a greater position)."""
    return (str(source["file"]), int(source["pos"])) > (file, pos)


def sink_offsets(manifest: Manifest, records: Iterable[tuple[str, int, int, dict[str, Any] | None]]) -> dict[str, Any]:
    """The body of `PATCH /connectors/{sink}/offsets` (KIP-875) that starts the sink, in each topic partition
    of the loaded tables, at the first change after the position the tables are exact at.

    For the seed's workflow, where the source connector already ran with the tables in its include list
    before the load: their topics then hold changes the load already holds, which the sink (inserts append)
    would duplicate. `records` are what the topics hold: (topic, partition, offset, value as JSON; None for a
    tombstone), e.g. from `kcat -C -e -f '%t\t%p\t%o\t%s\n'`.
    """
    binlog = manifest.binlog
    if not binlog:
        raise HandoffError("the manifest has no binlog position (the load ran with --no-binlog-position)")
    file, pos = binlog.file, binlog.position
    left_out = {topic_name("", t.source): (t, why) for t, why in continued_tables(manifest).left_out}
    records = list(records)
    topics = {topic for topic, *_ in records}
    stray = sorted({f"{t.source} ({why})" for s, (t, why) in left_out.items() for x in topics if x.endswith(s)})
    if stray:
        raise HandoffError(
            f"the dump holds topics of tables that are not exactly the source at {binlog}: {'; '.join(stray)}. The "
            "sink cannot start those from this load: leave their topics out, and load the tables again"
        )
    first: dict[tuple[str, int], int] = {}
    ends: dict[tuple[str, int], int] = {}
    for topic, partition, offset, value in records:
        where = (topic, partition)
        ends[where] = max(ends.get(where, -1), offset)
        if value is None or where in first:
            continue
        payload = value.get("payload", value)
        source = payload.get("source") if isinstance(payload, dict) else None
        if source and "file" in source and _after(source, file, pos):
            first[where] = offset
    return {
        "offsets": [
            {
                "partition": {"kafka_topic": topic, "kafka_partition": partition},
                "offset": {"kafka_offset": first.get((topic, partition), end + 1)},
            }
            for (topic, partition), end in sorted(ends.items())
        ]
    }


def parse_kcat(lines: Iterable[str]) -> Iterator[tuple[str, int, int, dict[str, Any] | None]]:
    """Records printed by kcat -f '%t\t%p\t%o\t%s\n' (a tombstone's value is empty)."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.rstrip("\n").split("\t", 3)
        if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
            raise ConfigError(
                f"line {n} of the topic dump is not topic<TAB>partition<TAB>offset<TAB>value; print the topics with "
                "kcat -C -e -f '%t\\t%p\\t%o\\t%s\\n' -t <topic>"
            )
        value = parts[3].strip()
        try:
            yield parts[0], int(parts[1]), int(parts[2]), json.loads(value) if value else None
        except json.JSONDecodeError as e:
            raise ConfigError(f"line {n} of the topic dump: the value is not JSON ({e}); use the JsonConverter") from e
