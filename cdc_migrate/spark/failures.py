"""Why a Spark job failed, in one line: our own message raised inside Spark, else the innermost Java cause, with
what it means where the source dropped a connection or lost a table or a column the plan names."""

from __future__ import annotations

from cdc_migrate.contract.expressions import ERROR_PREFIX


def spark_error_reason(e: BaseException) -> str:
    """A one-line reason for a Spark / Py4J failure: our own message raised inside Spark when there is one,
    else the innermost Java cause."""
    java = getattr(e, "java_exception", None)
    if java is not None:
        try:
            causes = [java]
            while causes[-1].getCause() is not None and causes[-1].getCause() != causes[-1] and len(causes) < 20:
                causes.append(causes[-1].getCause())
            for cause in causes:
                message = str(cause.getMessage() or "")
                if ERROR_PREFIX in message:
                    return message[message.index(ERROR_PREFIX) + len(ERROR_PREFIX) :].splitlines()[0]
            for cause in causes:  # a Python task's exception: the traceback's last line is what it raised
                message = str(cause.getMessage() or "")
                if "PythonException" in str(cause.getClass().getName()) and message.strip():
                    return python_error(message)
            return str(causes[-1].toString()).splitlines()[0]
        except Exception:
            pass
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


# How MySQL Connector/J, MariaDB Connector/J and the server say a connection went away in the middle.
_LOST_CONNECTION = (
    "socket was closed by server",
    "Communications link failure",
    "Connection killed",
    "connection was killed",
    "Lost connection",
    "EOFException",
    "Connection reset",
    "SQLNonTransientConnectionException",
    "Server has gone away",
)


# How the servers say a table or a column the plan names is not there (ER_NO_SUCH_TABLE 1146, ER_BAD_FIELD_ERROR).
_GONE_TABLE = ("doesn't exist", "does not exist")
_GONE_COLUMN = ("Unknown column",)


# How the drivers say a connection could not be made at all (a server restarting, a failover under way); ConnectorX
# (its connection pool) says it timed out waiting for one, and a stream cut short as its codec's IO error.
_REFUSED = (
    "Connection refused",
    "ConnectException",
    "Could not connect",
    "Socket fail to connect",
    "No route to host",
    "timed out waiting for connection",
    "bytes remaining on stream",
    "CodecError",
    "IoError",
)


# A server that answered and said no (a user's or the server's connection limit, a login refused): trying again
# would be refused the same way.
_REFUSED_BY_SERVER = ("max_user_connections", "Too many connections", "Access denied")


def dropped(reason: str) -> bool:
    """Whether a failure is the source's connection going away or refusing (a restart, a failover: worth trying
    again after a wait), not the data, the query or the server's own refusal."""
    lowered = reason.lower()
    if any(sign.lower() in lowered for sign in _REFUSED_BY_SERVER):
        return False
    return any(sign.lower() in lowered for sign in (*_LOST_CONNECTION, *_REFUSED))


def python_error(traceback: str) -> str:
    """What a Python task raised, from its traceback as Spark reports it (its last line)."""
    lines = [line.strip() for line in traceback.strip().splitlines() if line.strip()]
    return lines[-1] if lines else traceback.strip()


def explained(reason: str, address: str = "the source") -> str:
    """A Spark failure's reason, with what it means where it is a connection the source dropped or refused, or a
    table or a column that went away after the table was planned."""
    if any(sign in reason for sign in _GONE_TABLE):
        return (
            f"the table is gone from the source, dropped or renamed after it was planned ({reason}); nothing was "
            "written. Take it out of tables.include, or run again to plan it under its new name"
        )
    if any(sign in reason for sign in _GONE_COLUMN):
        return (
            f"a planned column is gone from the source, altered after the table was planned ({reason}); nothing "
            "was written. Run again to plan the table as it now is"
        )
    if any(sign.lower() in reason.lower() for sign in _REFUSED):
        return (
            f"cannot reach MySQL at {address} ({reason}); nothing was written. Check that the server runs and "
            "that this machine (every executor's, on a cluster) may connect to it; run again to load the table"
        )
    if any(sign.lower() in reason.lower() for sign in _LOST_CONNECTION):
        return (
            f"the source dropped a connection while the table was read ({reason}); nothing was written. Run again "
            "to load it (the manifest resumes), and look at the server's log or wait_timeout/net_write_timeout "
            "if it happens again"
        )
    return reason
