"""cdc_migrate: full load of MySQL into Apache Iceberg (S3 Tables) with PySpark, ready for CDC to continue.

In a notebook::

    import cdc_migrate
    options = cdc_migrate.options(source="mysql://root@127.0.0.1:3306", tables="shop.*", warehouse="wh")
    cdc_migrate.plan(options)                      # a table per selected table, no Spark needed
    manifest = cdc_migrate.run(options)            # progress in the cell; the manifest shows as a table
    cdc_migrate.validate(options)                  # every loaded table against the source
    cdc_migrate.open_table(options, "shop.orders").scan().to_arrow()
"""

from __future__ import annotations

from cdc_migrate._version import __version__
from cdc_migrate.api import options, plan, run, validate
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
    OptionTypeError,
    PlanningError,
    S3UriError,
    SessionError,
    SourceError,
    WriteError,
)
from cdc_migrate.handoff.manifest import Manifest, TableResult, read_manifest, write_manifest
from cdc_migrate.load.progress import LogProgress, NullProgress, Progress
from cdc_migrate.planning.partitions import TablePlan
from cdc_migrate.planning.partitions import partition_count as partition_count  # importable, not in __all__
from cdc_migrate.planning.planner import Plan, PlanOutcome
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
    "options",
    "Options",
    "Secret",
    "resolve_options",
    # a load: plan it, run it, validate it, follow it
    "plan",
    "run",
    "validate",
    "Plan",
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
    "OptionTypeError",
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
