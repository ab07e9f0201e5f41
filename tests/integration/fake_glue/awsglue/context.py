from __future__ import annotations

from typing import Any


class GlueContext:
    """Glue's context wraps the SparkContext and offers its SparkSession."""

    def __init__(self, sc: Any) -> None:
        from pyspark.sql import SparkSession

        self.spark_session = SparkSession.builder.getOrCreate()
        self.sc = sc
