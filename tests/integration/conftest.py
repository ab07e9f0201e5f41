"""One database server and one SparkSession for the whole run; a fresh database per test.

The server is a throwaway MariaDB with binary logging, or the MySQL given by
CDC_MIGRATE_TEST_MYSQL_URL=mysql://USER:PASSWORD@HOST:PORT.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from cdc_migrate.config.layers import merge
from cdc_migrate.config.model import Options
from cdc_migrate.config.secret import Secret
from cdc_migrate.config.sections import CatalogOptions
from cdc_migrate.spark.session import build_session
from cdc_migrate.target.pyiceberg import open_table
from cdc_migrate.testing.server import ExternalServer, ThrowawayServer

EXTERNAL_URL = "CDC_MIGRATE_TEST_MYSQL_URL"

# PySpark turns timestamps into Python datetimes in the process's zone: make it UTC like everything else.
os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture(scope="session")
def server() -> Iterator[ExternalServer | ThrowawayServer]:
    url = os.environ.get(EXTERNAL_URL)
    if url:
        yield ExternalServer(url)
        return
    # A server zone other than UTC: loads must not depend on it.
    with ThrowawayServer(extra_args=["--default-time-zone=+09:00"]) as throwaway:
        yield throwaway


@pytest.fixture(scope="session")
def dbz_server() -> Iterator[ThrowawayServer]:
    """A throwaway server the real Debezium's MySQL connector accepts (see tests/integration/debezium.py), in a
    zone other than UTC; shared by every test that runs Debezium."""
    if os.environ.get(EXTERNAL_URL):
        pytest.skip("needs a throwaway server that Debezium's MySQL connector accepts")
    from .debezium import MARIADB_AS_MYSQL

    with ThrowawayServer(server_id=21, extra_args=[MARIADB_AS_MYSQL, "--default-time-zone=+09:00"]) as throwaway:
        yield throwaway


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse")


def connector_j_jar() -> str:
    """MySQL Connector/J 8.0.33, the driver on Glue 5.x, as PyPI's wbjdbc ships it."""
    spec = importlib.util.find_spec("wbjdbc")
    assert spec and spec.submodule_search_locations, "pip install wbjdbc==2.4.0 (the dev extra)"
    return str(Path(spec.submodule_search_locations[0]) / "resources/maven/mysql/mysql-connector-j-8.0.33.jar")


@pytest.fixture(scope="session")
def spark(warehouse: Path) -> Iterator[Any]:
    # Both drivers on the classpath (Connector/J first, as on Glue), and a JVM in a zone other than UTC, as on
    # Glue, which does not set -Duser.timezone: loads must not depend on it.
    options = Options.from_mapping(
        {
            "source": {"jdbc_driver_jar": connector_j_jar()},
            "catalog": {"kind": "local", "warehouse": str(warehouse)},
            "spark": {
                "master": "local[2]",
                "conf": {
                    "spark.sql.shuffle.partitions": "2",
                    "spark.ui.enabled": "false",
                    "spark.ui.showConsoleProgress": "false",
                    "spark.driver.extraJavaOptions": "-Duser.timezone=Asia/Seoul",
                    "spark.executor.extraJavaOptions": "-Duser.timezone=Asia/Seoul",
                },
            },
        }
    )
    session = build_session(options)
    yield session
    session.stop()


@pytest.fixture
def database(server: Any) -> Iterator[str]:
    """A new, empty database; dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    server.execute(f"CREATE DATABASE `{name}` DEFAULT CHARSET utf8mb4")
    yield name
    server.execute(f"DROP DATABASE IF EXISTS `{name}`")


OptionsFactory = Callable[..., Options]


@pytest.fixture
def jdbc_driver() -> str:
    """The JDBC driver loads use (modules that check both parametrise this fixture)."""
    return "auto"


@pytest.fixture
def reader() -> str:
    """The reader loads use (auto: the Arrow path where it serves a table; modules that check both parametrise it)."""
    return "auto"


@pytest.fixture
def make_options(server: Any, warehouse: Path, tmp_path: Path, jdbc_driver: str, reader: str) -> OptionsFactory:
    """Options for the test server and the session's warehouse; keyword sections are merged in."""

    def make(include: list[str], **sections: dict[str, Any]) -> Options:
        base = {
            "source": {
                "host": server.host,
                "port": server.port,
                "user": server.user,
                "password": Secret(server.password),
                "jdbc_driver": jdbc_driver,
                "reader": reader,
            },
            "tables": {"include": include},
            "catalog": {"kind": "local", "warehouse": str(warehouse)},
            "run": {"manifest": str(tmp_path / "manifest.json")},
        }
        return Options.from_mapping(merge(base, sections))

    return make


@pytest.fixture
def iceberg(warehouse: Path) -> Callable[[str], Any]:
    """Opens `namespace.table` of the test warehouse with PyIceberg."""
    catalog = CatalogOptions(kind="local", warehouse=str(warehouse))
    return lambda name: open_table(catalog, name)


CDC_MIGRATE = str(Path(sys.executable).parent / "cdc-migrate")


def clean_env(password: str | None = None) -> dict[str, str]:
    """This process's environment without any CDC_MIGRATE_ setting; with `password` as the source password."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDC_MIGRATE_")}
    if password is not None:
        env["CDC_MIGRATE_SOURCE_PASSWORD"] = password
    return env


def run_argv(server: Any, database: str, warehouse: Path, *flags: str) -> list[str]:
    """`cdc-migrate run` of every table of `database` into `warehouse` (the Spark UI off), then `flags`."""
    source = f"mysql://{server.user}@{server.host}:{server.port}"
    where = ["--source", source, "--tables", f"{database}.*", "--warehouse", str(warehouse)]
    return [CDC_MIGRATE, "run", *where, "--conf", "spark.ui.enabled=false", *flags]


@pytest.fixture
def glue_entry(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The entrypoint with AWS's real awsglue library, only GlueContext and Job stood in for (they need Glue's JVM
    classes: tests/integration/glue_standins.py)."""
    import awsglue.context
    import awsglue.job

    from cdc_migrate.cli import glue_job

    from . import glue_standins

    monkeypatch.setattr(awsglue.context, "GlueContext", glue_standins.GlueContext)
    monkeypatch.setattr(awsglue.job, "Job", glue_standins.Job)
    glue_standins.CALLS.clear()
    yield glue_job
