"""The seed recipe's plan of a table on the source: the rows in each of its stride ranges (for part 4)."""

from __future__ import annotations

from cdc_migrate.planning.partitions import SEED_MAX_PARTITIONS, Partitioning, stride_boundaries
from cdc_migrate.testing.server import ThrowawayServer


def seed_rows(server: ThrowawayServer, database: str, table: str, key: str) -> list[int]:
    """The seed's formula on MIN/MAX of `key` (1,000,000 rows per partition, 1..200 partitions), as Spark's JDBC
    reader cuts it (stride), and the rows in each range counted on the source."""
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT MIN({key}) AS lo, MAX({key}) AS hi FROM {database}.{table}")
        row = cur.fetchone()
        lo, hi = int(row["lo"]), int(row["hi"])
        n = Partitioning(1_000_000, 1, SEED_MAX_PARTITIONS).count(hi - lo)  # the seed's formula
        edges = [lo, *(b[0] for b in stride_boundaries(lo, hi, n))]
        cases = " ".join(f"WHEN {key} < {e} THEN {i}" for i, e in enumerate(edges[1:]))
        partition = f"CASE {cases} ELSE {n - 1} END" if cases else "0"
        cur.execute(f"SELECT {partition} AS p, COUNT(*) AS c FROM {database}.{table} GROUP BY p")
        counts = {int(r["p"]): int(r["c"]) for r in cur.fetchall()}
    return [counts.get(i, 0) for i in range(n)]
