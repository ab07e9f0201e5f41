"""The AWS edge for Aurora clones: the binlog position RDS reports for a clone's crash recovery."""

from __future__ import annotations

from typing import Any

from cdc_migrate.errors import BinlogError
from cdc_migrate.source.binlog import recovery_position

MAX_EVENT_MINUTES = 14 * 24 * 60  # what describe_events keeps


def clone_recovery_position(source_id: str, region: str | None = None, client: Any = None) -> tuple[str, int]:
    """The newest "Binlog position from crash recovery is <file> <pos>" event of an Aurora clone.

    Args:
        source_id: the clone's DB instance or DB cluster identifier.
        region: its AWS region (else boto3's default).
        client: an RDS client (tests pass one with a botocore Stubber).
    """
    from cdc_migrate.aws.calls import aws_call
    from cdc_migrate.aws.calls import client as aws_client

    client = client or aws_client("rds", region)
    found: list[tuple[Any, str, int]] = []
    for source_type in ("db-instance", "db-cluster"):
        paginator = client.get_paginator("describe_events")
        pages = paginator.paginate(SourceIdentifier=source_id, SourceType=source_type, Duration=MAX_EVENT_MINUTES)
        with aws_call(
            "rds",
            f"reading the RDS events of {source_id} (snapshot.rds_source)",
            "or give the position: snapshot.binlog_file and snapshot.binlog_position",
        ):
            for page in pages:
                for event in page.get("Events", []):
                    recovered = recovery_position(event.get("Message", ""))
                    if recovered:
                        found.append((event.get("Date"), *recovered))
    if not found:
        raise BinlogError(
            f"no RDS event 'Binlog position from crash recovery is <file> <pos>' for {source_id} in the last 14 "
            "days; give the position yourself: snapshot.binlog_file and snapshot.binlog_position"
        )
    _, file, offset = max(found, key=lambda f: f[0])
    return file, offset
