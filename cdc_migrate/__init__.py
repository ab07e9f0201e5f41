"""cdc_migrate: full load of MySQL into Apache Iceberg (S3 Tables) with PySpark, ready for CDC to continue.

Notebook use, with an existing SparkSession::

    import cdc_migrate
    options = cdc_migrate.resolve_options("conf/local.toml", os.environ, {})
    for outcome in cdc_migrate.plan(options): print(outcome)
    manifest = cdc_migrate.run(options, spark=spark)
    cdc_migrate.open_table(options, "shop.orders").scan().to_arrow()
"""

from __future__ import annotations

from cdc_migrate._version import __version__
from cdc_migrate.config.layers import resolve_options
from cdc_migrate.config.model import Options
from cdc_migrate.config.secret import Secret
from cdc_migrate.errors import (
    AwsError,
    AwsNotFound,
    BinlogError,
    CdcMigrateError,
    ConfigError,
    PlanningError,
    SessionError,
    SourceError,
    WriteError,
)
from cdc_migrate.handoff.manifest import Manifest, TableResult, read_manifest, write_manifest
from cdc_migrate.load.progress import LogProgress, NullProgress, Progress
from cdc_migrate.load.runner import run
from cdc_migrate.planning.partitions import TablePlan, partition_count
from cdc_migrate.planning.planner import PlanOutcome, plan
from cdc_migrate.source.binlog import BinlogPosition, ServerInfo
from cdc_migrate.spark.session import build_session, prepare_session, settings_for
from cdc_migrate.spark.settings import catalog_settings, glue_conf_value, spark_settings
from cdc_migrate.target.pyiceberg import open_catalog, open_table, pyiceberg_properties

__all__ = [
    "AwsError",
    "AwsNotFound",
    "BinlogError",
    "BinlogPosition",
    "CdcMigrateError",
    "ConfigError",
    "LogProgress",
    "Manifest",
    "NullProgress",
    "Options",
    "PlanOutcome",
    "PlanningError",
    "Progress",
    "Secret",
    "ServerInfo",
    "SessionError",
    "SourceError",
    "TablePlan",
    "TableResult",
    "WriteError",
    "__version__",
    "build_session",
    "catalog_settings",
    "glue_conf_value",
    "open_catalog",
    "open_table",
    "partition_count",
    "plan",
    "prepare_session",
    "pyiceberg_properties",
    "read_manifest",
    "resolve_options",
    "run",
    "settings_for",
    "spark_settings",
    "write_manifest",
]
