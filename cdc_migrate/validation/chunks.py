"""How a table is cut for a validation's checksums: the load's key ranges where MySQL and Iceberg order the key
alike, else hash buckets of the key (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdc_migrate.contract.literals import spark_literals, sql_literals
from cdc_migrate.contract.rules import order_preserving
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.source.schema import Key
from cdc_migrate.sqltext import key_range, lexicographic, quote_ident
from cdc_migrate.validation.checksum import RowEncoding


@dataclass(frozen=True)
class Chunks:
    """How a table is cut for checksums: key ranges where MySQL and Iceberg order keys alike, else hash
    buckets of the key (for collations and truncated temporal keys)."""

    mode: str  # "range" | "hash" | "whole"
    count: int
    mysql_where: tuple[str, ...]  # range: one predicate per chunk
    mysql_bucket: str  # hash: the bucket expression
    spark_chunk: str  # the chunk number of a row, as a Spark expression
    labels: tuple[str, ...]  # a human description of each chunk

    def mysql_filter(self, chunk: int) -> str:
        """The rows of one chunk, as a MySQL predicate."""
        if self.mode == "whole":
            return "1 = 1"
        return self.mysql_where[chunk] if self.mode == "range" else f"{self.mysql_bucket} = {chunk}"


def chunks_for(plan: TablePlan, enc: RowEncoding) -> Chunks:
    """The chunks of a table, from a plan of its key (pure)."""
    if not plan.key or plan.partitions <= 1:
        return Chunks("whole", 1, ("1 = 1",), "", "0", ("the whole table",))
    columns = plan.key_columns
    if not all(order_preserving(c) for c in columns):
        n = plan.partitions
        spark_bucket = f"pmod(crc32(CAST({enc.spark_key} AS BINARY)), {n})"
        buckets = tuple(f"hash bucket {i} of {n}" for i in range(n))
        return Chunks("hash", n, (), f"CRC32({enc.mysql_key}) % {n}", spark_bucket, buckets)
    mysql_names = [quote_ident(k) for k in plan.key]
    spark_names = [quote_ident(plan.mapping.column(k).name) for k in plan.key]
    bounds = list(plan.boundaries)

    def mysql_lits(key: Key) -> list[str]:
        return sql_literals(key, columns)

    def spark_lits(key: Key) -> list[str]:
        return spark_literals(key)

    nulls = " OR ".join(f"{n} IS NULL" for n in mysql_names)
    where: list[str] = []
    cases: list[str] = []
    labels: list[str] = []
    for i in range(len(bounds) + 1):
        lower = mysql_lits(bounds[i - 1]) if i > 0 else None
        clause = key_range(mysql_names, lower, mysql_lits(bounds[i]) if i < len(bounds) else None)
        where.append(f"({clause}) OR {nulls}" if i == 0 else clause)
        if i < len(bounds):
            cases.append(f"WHEN {lexicographic(spark_names, spark_lits(bounds[i]), '<')} THEN {i}")
        low = "MIN" if i == 0 else _key_text(bounds[i - 1])
        high = "MAX" if i == len(bounds) else _key_text(bounds[i])
        labels.append(f"[{low}, {high}{']' if i == len(bounds) else ')'}")
    # NULL keys are in the first chunk on both sides (a comparison with NULL is not true, so say it first).
    spark_nulls = " OR ".join(f"{n} IS NULL" for n in spark_names)
    spark_chunk = f"CASE WHEN {spark_nulls} THEN 0 {' '.join(cases)} ELSE {len(bounds)} END"
    return Chunks("range", len(bounds) + 1, tuple(where), "", spark_chunk, tuple(labels))


def _key_text(key: tuple[Any, ...]) -> str:
    return str(key[0]) if len(key) == 1 else "(" + ", ".join(map(str, key)) + ")"
