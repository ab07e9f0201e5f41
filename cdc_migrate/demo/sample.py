"""A small deterministic sample database (`shop`) for the demo and the tests."""

from __future__ import annotations

import contextlib
import random
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pymysql

DATABASE = "shop"

SCHEMA = (
    """CREATE TABLE customers (
        id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        name VARCHAR(100) NOT NULL,
        email VARCHAR(255) NOT NULL UNIQUE,
        country CHAR(2) NOT NULL,
        tier ENUM('free','pro','enterprise') NOT NULL,
        created_at DATETIME(3) NOT NULL,
        note TEXT NULL
    ) DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE products (
        id INT NOT NULL PRIMARY KEY,
        sku VARCHAR(32) NOT NULL UNIQUE,
        title VARCHAR(200) NOT NULL,
        price DECIMAL(10,2) NOT NULL,
        weight_kg DOUBLE NULL
    ) DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE orders (
        id BIGINT NOT NULL PRIMARY KEY,
        customer_id INT UNSIGNED NOT NULL,
        status ENUM('new','paid','shipped','cancelled') NOT NULL,
        total DECIMAL(12,2) NOT NULL,
        placed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
        shipped_on DATE NULL
    ) DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE order_items (
        order_id BIGINT NOT NULL,
        line_no SMALLINT NOT NULL,
        product_id INT NOT NULL,
        quantity INT NOT NULL,
        unit_price DECIMAL(10,2) NOT NULL,
        PRIMARY KEY (order_id, line_no)
    ) DEFAULT CHARSET=utf8mb4""",
    """CREATE TABLE page_views (
        view_id BIGINT NOT NULL PRIMARY KEY,
        customer_id INT UNSIGNED NULL,
        url VARCHAR(500) NOT NULL,
        viewed_at DATETIME NOT NULL
    ) DEFAULT CHARSET=utf8mb4""",
)

COUNTRIES = ("KR", "JP", "US", "DE", "FR", "BR", "IN", "GB")
WORDS = (
    "blue",
    "tall",
    "quiet",
    "rapid",
    "paper",
    "stone",
    "cloud",
    "river",
    "amber",
    "north",
    "café",
    "東京",
)


def generate(
    seed: int = 7, customers: int = 2000, products: int = 500, orders: int = 8000, views: int = 5000
) -> dict[str, list[tuple[Any, ...]]]:
    """The sample rows per table, the same for the same arguments."""
    rnd = random.Random(seed)
    epoch = datetime(2023, 1, 1)
    data: dict[str, list[tuple[Any, ...]]] = {}
    data["customers"] = [
        (
            i,
            f"{rnd.choice(WORDS).title()} {rnd.choice(WORDS).title()}",
            f"user{i}@example.com",
            rnd.choice(COUNTRIES),
            rnd.choice(("free", "free", "pro", "enterprise")),
            epoch + timedelta(seconds=rnd.randrange(0, 60 * 86400), milliseconds=rnd.randrange(1000)),
            None if rnd.random() < 0.7 else f"note {rnd.choice(WORDS)}",
        )
        for i in range(1, customers + 1)
    ]
    data["products"] = [
        (
            i,
            f"SKU-{i:05d}",
            f"{rnd.choice(WORDS)} {rnd.choice(WORDS)}",
            Decimal(rnd.randrange(100, 100000)) / 100,
            None if rnd.random() < 0.1 else round(rnd.uniform(0.05, 30), 3),
        )
        for i in range(1, products + 1)
    ]
    data["orders"], data["order_items"] = [], []
    for i in range(1, orders + 1):
        order_id = 1_000_000 + i * 3  # gaps, as real ids have
        placed = epoch + timedelta(seconds=rnd.randrange(0, 300 * 86400), microseconds=rnd.randrange(1_000_000))
        status = rnd.choice(("new", "paid", "shipped", "shipped", "cancelled"))
        shipped = (placed + timedelta(days=rnd.randrange(1, 6))).date() if status == "shipped" else None
        total = Decimal(0)
        for line in range(1, rnd.randrange(1, 5) + 1):
            price = Decimal(rnd.randrange(100, 20000)) / 100
            qty = rnd.randrange(1, 4)
            total += price * qty
            data["order_items"].append((order_id, line, rnd.randrange(1, products + 1), qty, price))
        data["orders"].append((order_id, rnd.randrange(1, customers + 1), status, total, placed, shipped))
    data["page_views"] = [
        (
            i * 7,
            None if rnd.random() < 0.2 else rnd.randrange(1, customers + 1),
            f"/p/{rnd.randrange(1, products + 1)}?ref={rnd.choice(WORDS)}",
            epoch + timedelta(seconds=rnd.randrange(0, 300 * 86400)),
        )
        for i in range(1, views + 1)
    ]
    return data


def create(conn: pymysql.connections.Connection[Any], database: str = DATABASE, **sizes: int) -> dict[str, int]:
    """Creates (or re-creates) the sample database and fills it; returns the row count per table."""
    data = generate(**sizes)
    with contextlib.closing(conn.cursor()) as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
        cur.execute(f"CREATE DATABASE `{database}` DEFAULT CHARSET utf8mb4")
        cur.execute(f"USE `{database}`")
        for ddl in SCHEMA:
            cur.execute(ddl)
        for table, rows in data.items():
            marks = ", ".join(["%s"] * len(rows[0]))
            for start in range(0, len(rows), 1000):
                cur.executemany(f"INSERT INTO `{table}` VALUES ({marks})", rows[start : start + 1000])
    conn.commit()
    return {table: len(rows) for table, rows in data.items()}
