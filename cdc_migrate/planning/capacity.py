"""How much of the cluster and the source a load uses when the configuration does not say (pure).

The rule (README, Configuration): with S task slots (Spark's default parallelism) and a server allowing C
connections,
- `tables.max_partitions` = max(200, 4 x S): never below the seed's cap, and enough partitions to keep every
  slot busy on a big table (320 slots: 1,280);
- `run.parallel_tables` = max(4, S / 8): more tables at once on a bigger cluster, where small tables would
  otherwise leave slots idle;
- `source.max_connections` = min(max(S, parallel tables), C / 2): no more reads at once than slots (a read
  holds a slot), at least one per table loading, and never more than half of what the server allows; and never
  more than the user may open (max_user_connections) less those it has open and those the load needs besides.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace

from cdc_migrate.config.model import Options
from cdc_migrate.errors import SourceError
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


@dataclass(frozen=True)
class UserLimit:
    """How many connections the source user may open (max_user_connections; 0 is none), how many it has open,
    and how many the load needs besides its reads (the binlog reader's two and a position's, for a live load)."""

    user: str
    limit: int
    in_use: int
    overhead: int

    @property
    def free(self) -> int | None:
        """Connections left for the reads (None: no limit)."""
        return self.limit - self.in_use - self.overhead if self.limit else None


def besides_reads(options: Options) -> int:
    """Connections a load holds besides its reads' budget: a live one follows the binlog with two (one reader at a
    time, python-mysql-replication's stream and its control connection). A table's schema query and positions
    come out of the table's own share (before its reads start, after they end)."""
    return 2 if options.snapshot.kind == "live" and options.run.record_binlog_position else 0


def capacity(
    options: Options, slots: int, server_connections: int | None = None, user: UserLimit | None = None
) -> Capacity:
    """The limits for `slots` task slots on a server allowing `server_connections` and a user allowed what `user`
    says; what is configured wins, unless the user may not open that many connections."""
    slots = max(1, slots)
    parallel = options.run.parallel_tables or max(4, slots // 8)
    partitions = options.tables.max_partitions or rule_max_partitions(slots)
    connections = options.source.max_connections
    if connections is None:
        connections = max(slots, parallel)
        if server_connections:
            connections = min(connections, max(1, server_connections // 2))
        if user is not None and user.free is not None:
            connections = min(connections, max(1, user.free))
    if user is not None and user.free is not None and connections > user.free:
        raise SourceError(_too_few(user, connections, options.source.max_connections is not None))
    return Capacity(slots, partitions, parallel, connections)


def _too_few(user: UserLimit, wanted: int, configured: bool) -> str:
    """Why the user's connection limit does not leave the load `wanted` reads, and what to set: the sum it names is
    the limit it suggests (and a limit that reads four partitions at once, where that is more)."""
    needed = user.in_use + user.overhead + wanted
    parts = [f"{wanted} to read"]
    if user.overhead:
        parts.append(f"{user.overhead} for a live load's binlog reader")
    if user.in_use:
        parts.append(f"{user.in_use} open already")
    fix = f"ALTER USER {user.user} WITH MAX_USER_CONNECTIONS {needed}"
    if wanted < 4:
        fix += f" ({needed - wanted + 4} to read four partitions at once)"
    lower = " or lower source.max_connections" if configured else ""
    return (
        f"{user.user} may open {user.limit} connections (max_user_connections); the load needs {needed} "
        f"({', '.join(parts)}): {fix}{lower}"
    )


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
