"""How much of the cluster and the source a load uses when the configuration does not say (pure).

The rule (README, Configuration): with S task slots (Spark's default parallelism) and a server allowing C
connections,
- `tables.max_partitions` = max(200, 4 x S): never below the seed's cap, and enough partitions to keep every
  slot busy on a big table (320 slots: 1,280);
- `run.parallel_tables` = max(4, S / 8): more tables at once on a bigger cluster, where small tables would
  otherwise leave slots idle;
- `source.max_connections` = min(max(S, parallel tables), C / 2): no more reads at once than slots (a read
  holds a slot), at least one per table loading, and never more than half of what the server allows.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from cdc_migrate.config.model import Options
from cdc_migrate.planning.partitions import SEED_MAX_PARTITIONS


@dataclass(frozen=True)
class Capacity:
    """The task slots, and the limits a load uses with them."""

    slots: int
    max_partitions: int
    parallel_tables: int
    max_connections: int

    def describe(self) -> str:
        return (
            f"{self.slots} task slot{'s' if self.slots != 1 else ''}: at most {self.max_partitions} partitions per "
            f"table, {self.parallel_tables} tables at a time, {self.max_connections} source connections"
        )


def rule_max_partitions(slots: int) -> int:
    """The rule's cap on a table's partitions for `slots` task slots: max(200, 4 x slots)."""
    return max(SEED_MAX_PARTITIONS, 4 * max(1, slots))


def capacity(options: Options, slots: int, server_connections: int | None = None) -> Capacity:
    """The limits for `slots` task slots on a server allowing `server_connections`; what is configured wins."""
    slots = max(1, slots)
    parallel = options.run.parallel_tables or max(4, slots // 8)
    partitions = options.tables.max_partitions or rule_max_partitions(slots)
    connections = options.source.max_connections
    if connections is None:
        connections = max(slots, parallel)
        if server_connections:
            connections = min(connections, max(1, server_connections // 2))
    return Capacity(slots, partitions, parallel, connections)


def with_capacity(options: Options, cap: Capacity) -> Options:
    """The options with the limits of `cap` in place of those left to the rule."""
    return replace(
        options,
        tables=replace(options.tables, max_partitions=cap.max_partitions),
        run=replace(options.run, parallel_tables=cap.parallel_tables),
        source=replace(options.source, max_connections=cap.max_connections),
    )


def local_slots(master: str) -> int | None:
    """The task slots of a local master (`local`, `local[N]`, `local[*]`), None for a cluster's."""
    m = re.fullmatch(r"local(?:\[(\*|\d+)(?:,\s*\d+)?\])?", master.strip())
    if m is None:
        return None
    given = m.group(1)
    return (os.cpu_count() or 1) if given == "*" else int(given or 1)
