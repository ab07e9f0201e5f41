"""The benchmark databases, built on the throwaway MariaDB with its SEQUENCE engine (deterministic rows, kept out
of the binlog)."""

from __future__ import annotations

from cdc_migrate.testing.server import ThrowawayServer

DB = "benchdb"  # part 1 and 5: a large table, a skewed one, a composite-key one, 50 small ones
MANY = "manydb"  # part 2: many small tables of mixed types
SCALE = "scaledb"  # parts 3 and 4: a 20M-row skewed table and a 20M-row composite-key table
SMALL_TABLES = 50

BIG_COLUMNS = """
    id BIGINT NOT NULL PRIMARY KEY,
    customer_id INT NOT NULL,
    sku VARCHAR(32) NOT NULL,
    status ENUM('new','paid','shipped','cancelled') NOT NULL,
    qty SMALLINT NOT NULL,
    price DECIMAL(10,2) NOT NULL,
    discount FLOAT NULL,
    weight DOUBLE NULL,
    created_at DATETIME(3) NOT NULL,
    updated_at TIMESTAMP(6) NULL DEFAULT NULL,
    note VARCHAR(100) NULL,
    is_gift TINYINT(1) NOT NULL
"""


def keys_of(table: str) -> str:
    """The column the seed recipe and ConnectorX partition a table on (its key's first column)."""
    return "tenant_id" if table.startswith("composite") else "id"


def big_rows(first: int, count: int) -> str:
    """An INSERT ... SELECT of `count` deterministic rows with ids first..first+count-1 (MariaDB's SEQUENCE)."""
    s = f"(seq + {first - 1})"
    return f"""SELECT {s}, ({s} * 7919) % 100000, CONCAT('SKU-', LPAD(({s} * 31) % 50000, 6, '0')),
        ELT(1 + {s} % 4, 'new', 'paid', 'shipped', 'cancelled'), 1 + {s} % 9, (({s} * 13) % 100000) / 100,
        IF({s} % 5 = 0, NULL, ({s} % 100) / 100), ({s} % 1000) * 0.137,
        TIMESTAMP'2020-01-01 00:00:00' + INTERVAL ({s} * 17) SECOND + INTERVAL ({s} % 1000) * 1000 MICROSECOND,
        IF({s} % 3 = 0, NULL, TIMESTAMP'2021-01-01 00:00:00' + INTERVAL ({s} * 7) SECOND),
        IF({s} % 2 = 0, NULL, CONCAT('note ', {s} % 977)), {s} % 2
        FROM seq_1_to_{count}"""


def _insert_big(table: str, first: int, last: int) -> list[str]:
    chunk = 500_000
    return [f"INSERT INTO {table} {big_rows(s, min(chunk, last - s + 1))}" for s in range(first, last + 1, chunk)]


def _skewed(table: str, dense: int) -> list[str]:
    return [
        f"CREATE TABLE {table} (id BIGINT NOT NULL PRIMARY KEY, account INT NOT NULL, amount DECIMAL(12,2) NOT NULL, "
        "at DATETIME NOT NULL)",
        f"INSERT INTO {table} SELECT seq, seq % 5000, (seq * 37 % 100000) / 100, "
        f"TIMESTAMP'2022-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_{dense}",
        # a sparse tail: a thousand ids spread up to 10^12
        f"INSERT INTO {table} SELECT 1000000000 * seq, seq, 1, TIMESTAMP'2023-01-01 00:00:00' FROM seq_1_to_1000",
    ]


def _composite(table: str, rows: int) -> list[str]:
    return [
        f"CREATE TABLE {table} (tenant_id INT NOT NULL, order_no INT NOT NULL, total DECIMAL(12,2) NOT NULL, "
        "state VARCHAR(16) NOT NULL, PRIMARY KEY (tenant_id, order_no))",
        f"INSERT INTO {table} SELECT seq % 100, seq DIV 100, (seq % 99999) / 100, "
        f"ELT(1 + seq % 3, 'open', 'closed', 'void') FROM seq_1_to_{rows}",
    ]


def build_main(
    server: ThrowawayServer, big: int, skewed: int = 5_000_000, composite: int = 2_000_000
) -> dict[str, int]:
    """Part 1's database; returns rows per table."""
    stmts = ["SET SESSION sql_log_bin = 0", f"DROP DATABASE IF EXISTS {DB}", f"CREATE DATABASE {DB}", f"USE {DB}"]
    stmts += [f"CREATE TABLE big ({BIG_COLUMNS})", *_insert_big("big", 1, big)]
    stmts += _skewed("skewed", skewed) + _composite("composite", composite)
    for i in range(SMALL_TABLES):
        stmts += [
            f"CREATE TABLE small_{i:02d} (id INT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL, v DOUBLE)",
            f"INSERT INTO small_{i:02d} SELECT seq, CONCAT('row ', seq, ' of ', {i}), seq / 7 FROM seq_1_to_2000",
        ]
    stmts.append(f"ANALYZE TABLE big, skewed, composite, {', '.join(f'small_{i:02d}' for i in range(SMALL_TABLES))}")
    server.execute(*stmts)
    counts = {"big": big, "skewed": skewed + 1000, "composite": composite}
    return counts | {f"small_{i:02d}": 2000 for i in range(SMALL_TABLES)}


def grow_big(server: ThrowawayServer, rows: int, to: int) -> None:
    """Adds rows to part 1's large table, ids rows+1..to."""
    server.execute("SET SESSION sql_log_bin = 0", f"USE {DB}", *_insert_big("big", rows + 1, to), "ANALYZE TABLE big")


def build_many(server: ThrowawayServer, tables: int) -> dict[str, int]:
    """Part 2's database: `tables` tables of 1,000-20,000 rows and mixed types (integers, text, decimals, dates,
    times, flags, nulls)."""
    stmts = ["SET SESSION sql_log_bin = 0", f"DROP DATABASE IF EXISTS {MANY}", f"CREATE DATABASE {MANY}", f"USE {MANY}"]
    counts = {}
    for i in range(tables):
        rows = 1_000 + (i * 7919) % 19_001
        counts[f"t{i:03d}"] = rows
        stmts += [
            f"CREATE TABLE t{i:03d} (id INT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL, v DOUBLE, d DATE, "
            "ts DATETIME(3), amt DECIMAL(12,2), flag TINYINT(1), t TIME, u BIGINT UNSIGNED)",
            f"INSERT INTO t{i:03d} SELECT seq, CONCAT('row ', seq), IF(seq % 7 = 0, NULL, seq / 7), "
            "DATE'2020-01-01' + INTERVAL seq % 1000 DAY, TIMESTAMP'2021-01-01 00:00:00' + INTERVAL seq SECOND, "
            f"seq % 10000 / 100, seq % 2, SEC_TO_TIME(seq % 86400), seq * 1000 FROM seq_1_to_{rows}",
        ]
    stmts.append(f"ANALYZE TABLE {', '.join(f'{MANY}.t{i:03d}' for i in range(tables))}")
    server.execute(*stmts)
    return counts


def build_scale(server: ThrowawayServer, rows: int) -> dict[str, int]:
    """Part 3's database: a skewed table (ids 1..rows plus 1,000 up to 10^12) and a composite-key one."""
    stmts = [
        "SET SESSION sql_log_bin = 0",
        f"DROP DATABASE IF EXISTS {SCALE}",
        f"CREATE DATABASE {SCALE}",
        f"USE {SCALE}",
    ]
    stmts += _skewed("skewed", rows) + _composite("composite", rows) + ["ANALYZE TABLE skewed, composite"]
    server.execute(*stmts)
    return {"skewed": rows + 1000, "composite": rows}


# Part 5's narrow table (the issue's: a BIGINT key, INT, VARCHAR(40), DECIMAL(12,2), DATETIME(6), CHAR(4), DOUBLE).
NARROW_COLUMNS = (
    "id BIGINT NOT NULL PRIMARY KEY, a INT NOT NULL, s VARCHAR(40), d DECIMAL(12,2) NOT NULL, ts DATETIME(6), "
    "c CHAR(4), x DOUBLE"
)


def build_narrow(server: ThrowawayServer, rows: int, table: str = "narrow") -> dict[str, int]:
    """Part 5's narrow table in part 1's database, `rows` deterministic rows."""
    stmts = [
        "SET SESSION sql_log_bin = 0",
        f"USE {DB}",
        f"DROP TABLE IF EXISTS {table}",
        f"CREATE TABLE {table} ({NARROW_COLUMNS})",
    ]
    for first in range(1, rows + 1, 500_000):
        last = min(rows, first + 499_999)
        stmts.append(
            f"INSERT INTO {table} SELECT seq, seq % 100000, CONCAT('name-', seq * 7919 % 1000003), "
            "(seq % 100000) / 100, "
            "TIMESTAMP'2020-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL (seq % 1000000) MICROSECOND, "
            f"LPAD(seq % 10000, 4, '0'), seq / 7 FROM seq_{first}_to_{last}"
        )
    server.execute(*stmts, f"ANALYZE TABLE {table}")
    return {table: rows}


def build_hot(server: ThrowawayServer, rows: int, table: str = "hot") -> dict[str, int]:
    """Part 6's table: part 1's large table's columns, `rows` rows (written to while it loads)."""
    server.execute(
        "SET SESSION sql_log_bin = 0",
        f"USE {DB}",
        f"DROP TABLE IF EXISTS {table}",
        f"CREATE TABLE {table} ({BIG_COLUMNS})",
    )
    server.execute(f"USE {DB}", "SET SESSION sql_log_bin = 0", *_insert_big(table, 1, rows), f"ANALYZE TABLE {table}")
    return {table: rows}
