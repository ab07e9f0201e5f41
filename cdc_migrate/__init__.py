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
    DefinitionChanged,
    HandoffError,
    LoadFailed,
    LockHeld,
    ManifestError,
    PlanningError,
    S3UriError,
    SessionError,
    SourceError,
    WriteError,
)
from cdc_migrate.handoff.manifest import Manifest, TableResult, read_manifest, write_manifest
from cdc_migrate.load.progress import LogProgress, NullProgress, Progress
from cdc_migrate.load.runner import plan, run
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.planning.partitions import partition_count as partition_count  # importable, not in __all__
from cdc_migrate.planning.planner import PlanOutcome
from cdc_migrate.source.binlog import BinlogPosition, ServerInfo
from cdc_migrate.spark.session import build_session, prepare_session, settings_for
from cdc_migrate.spark.settings import catalog_settings as catalog_settings  # importable, not in __all__
from cdc_migrate.spark.settings import glue_conf_value as glue_conf_value  # importable, not in __all__
from cdc_migrate.spark.settings import spark_settings
from cdc_migrate.target.pyiceberg import open_catalog, open_table
from cdc_migrate.target.pyiceberg import pyiceberg_properties as pyiceberg_properties  # importable, not in __all__

# The public API, the one documented place (README, In a notebook). Anything else is internal and may move.
__all__ = [  # noqa: RUF022 (grouped by use, not sorted)
    # options
    "Options",
    "Secret",
    "resolve_options",
    # a load: plan it, run it (validate: cdc_migrate.validate.validator.validate), follow it
    "plan",
    "run",
    "PlanOutcome",
    "TablePlan",
    "Progress",
    "LogProgress",
    "NullProgress",
    # what it records
    "Manifest",
    "TableResult",
    "BinlogPosition",
    "ServerInfo",
    "read_manifest",
    "write_manifest",
    # the session and the tables
    "build_session",
    "prepare_session",
    "settings_for",
    "spark_settings",
    "open_catalog",
    "open_table",
    # errors: one hierarchy under CdcMigrateError
    "CdcMigrateError",
    "ConfigError",
    "ManifestError",
    "HandoffError",
    "S3UriError",
    "SourceError",
    "BinlogError",
    "DefinitionChanged",
    "PlanningError",
    "SessionError",
    "AwsError",
    "AwsNotFound",
    "WriteError",
    "LockHeld",
    "LoadFailed",
    "__version__",
]
