"""The library's exceptions: one base class, one subclass per area."""

from __future__ import annotations


class CdcMigrateError(Exception):
    """Base class of every error cdc_migrate raises on purpose.

    The message says what failed, on which object, the bad value and the fix.
    """


class ConfigError(CdcMigrateError, ValueError):
    """The configuration (file, environment or flags) is invalid."""


class OptionTypeError(ConfigError, TypeError):
    """An option given to a constructor as a value of the wrong type (Options(source={...}), a port as text)."""


class ManifestError(ConfigError):
    """A manifest named that is missing, unreadable, not a cdc_migrate manifest, or not writable."""


class HandoffError(ConfigError):
    """A load that cannot hand off to CDC as asked: no table exact where CDC would start, no binlog position,
    connector-wide settings its tables contradict."""


class S3UriError(ConfigError):
    """A value that should be an s3://BUCKET/KEY URI and is not."""


class SourceError(CdcMigrateError):
    """The MySQL source cannot be reached, logged in to, or read."""


class BinlogError(SourceError):
    """The binlog position cannot be recorded (e.g. binary logging is off)."""


class BinlogGone(BinlogError):
    """The binlog a live load must read was purged from the server: no table can be made exact from there."""


class DefinitionChanged(SourceError):
    """A statement other than a row change (DROP, RENAME, ALTER) changed a table while it was loaded, so the load
    is not the source's table: it must be loaded again."""


class PlanningError(CdcMigrateError, ValueError):
    """A table cannot be planned (no primary key, unsupported split column, bad name)."""


class SessionError(CdcMigrateError):
    """The SparkSession lacks something the load needs (a jar, a static setting)."""


class AwsError(CdcMigrateError):
    """An AWS call failed (Secrets Manager, S3, S3 Tables, Glue, RDS); the message names the operation, the
    resource and the fix (for a denied call, the IAM action to allow)."""


class AwsNotFound(AwsError):
    """The AWS resource a call named does not exist."""


class WriteError(CdcMigrateError):
    """Reading a table or writing it to the Iceberg catalog failed."""


class LockHeld(CdcMigrateError):
    """Another run holds the manifest or the warehouse this one would use (the message names it and how to clear
    a lock left behind)."""


class LoadFailed(CdcMigrateError, RuntimeError):
    """A run finished, but some table failed or differs from the source (the manifest says which)."""
