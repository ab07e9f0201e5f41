"""The JVM behind a Spark session, for the few calls PySpark has no Python API for."""

from __future__ import annotations

import threading
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


def string_array(spark: SparkSession, values: list[str]) -> Any:
    """A Java String[] of `values` (what a JVM method taking one needs through py4j)."""
    gateway = spark.sparkContext._gateway
    if gateway is None:
        raise SessionError("no Spark JVM is running: start the SparkSession before loading")
    array = gateway.new_array(jclass(spark, "java.lang.String"), len(values))
    for i, value in enumerate(values):
        array[i] = value
    return array


_found: dict[tuple[int, str, str], Any] = {}
_finding = threading.Lock()


def jclass(spark: SparkSession, name: str, member: str = "") -> Any:
    """A JVM class by its full name (call it to construct one), or one of its static methods, found once per
    gateway. py4j's way through a JVM view (view.org.apache...) asks the JVM about every package on the way, each a
    failed Class.forName: 40% of the driver JVM's busy time loading 300 small tables."""
    from py4j.java_gateway import JavaClass

    gateway = spark.sparkContext._gateway
    if gateway is None:
        raise SessionError("no Spark JVM is running: start the SparkSession before loading")
    key = (id(gateway), name, member)
    with _finding:
        found = _found.get(key)
        if found is None:
            found = JavaClass(name, gateway._gateway_client)
            found = getattr(found, member) if member else found
            _found[key] = found
    return found
