"""The JVM behind a Spark session, for the few calls PySpark has no Python API for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cdc_migrate.errors import SessionError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def jvm(spark: SparkSession | None = None) -> Any:
    """The JVM view of `spark`'s context, or of the running SparkContext; a SessionError when there is none."""
    from pyspark import SparkContext

    view = spark.sparkContext._jvm if spark is not None else SparkContext._jvm
    if view is None:
        raise SessionError("no Spark JVM is running: start the SparkSession before loading")
    return view
