"""`make demo`: a throwaway MariaDB with a generated sample database, loaded into a local Iceberg warehouse."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from cdc_migrate.config.layers import resolve_options
from cdc_migrate.config.secret import Secret
from cdc_migrate.demo import sample
from cdc_migrate.load.progress import LogProgress
from cdc_migrate.load.report import run_summary, text_table
from cdc_migrate.load.runner import run
from cdc_migrate.target.pyiceberg import open_table
from cdc_migrate.testing.server import ThrowawayServer

logger = logging.getLogger(__name__)


def demo(config_path: str, output_dir: str) -> int:
    """Starts a throwaway server, seeds `shop`, runs the full load, reads a table back, stops the server.

    The server is stopped however this ends: success, failure, Ctrl-C or SIGTERM (cli.app.ended makes it an
    interruption).
    """
    out = Path(output_dir)
    logger.info("starting a throwaway MariaDB with binary logging ...")
    with ThrowawayServer() as server:
        counts = sample.create(server.connect())
        logger.info(
            "seeded %s on port %d: %s",
            sample.DATABASE,
            server.port,
            ", ".join(f"{t} {n:,}" for t, n in counts.items()),
        )
        flags = {
            "source": {"url": server.url, "password": Secret(server.password)},
            "catalog": {"kind": "local", "warehouse": str(out / "warehouse")},
            "run": {"manifest": str(out / "manifest.json")},
        }
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CDC_MIGRATE_SOURCE_")}
        options = resolve_options(config_path, environ, flags)
        manifest = run(options, progress=LogProgress())
        print(run_summary(manifest))
        print(f"\nmanifest: {Path(options.run.manifest).resolve()}")

        loaded = {t.target for t in manifest.tables if t.status == "loaded"}
        if "shop.orders" in loaded:
            table = open_table(options, "shop.orders")
            rows = table.scan(limit=5).to_arrow().to_pylist()
            print(
                f"\nshop.orders read back with PyIceberg (format version {table.metadata.format_version}, "
                f"first {len(rows)} rows):"
            )
            print(text_table(list(rows[0]), [[str(v) for v in r.values()] for r in rows]) if rows else "(empty)")
        logger.info("stopping the throwaway server")
    return 1 if manifest.failed or manifest.exact is False else 0


if __name__ == "__main__":
    sys.exit(demo("conf/demo.toml", "demo-output"))
