"""Files on S3: the manifest and the Glue job's artifacts."""

from __future__ import annotations

import re
from typing import Any

from cdc_migrate.aws.calls import aws_call
from cdc_migrate.aws.calls import client as aws_client
from cdc_migrate.errors import AwsNotFound, S3UriError

_S3_URI = re.compile(r"^s3a?://([^/]+)/(.+)$")


def is_s3(path: object) -> bool:
    return isinstance(path, str) and path.startswith(("s3://", "s3a://"))


def split_s3(uri: str) -> tuple[str, str]:
    m = _S3_URI.match(uri)
    if not m:
        raise S3UriError(f"{uri!r} is not an S3 object URI; use s3://BUCKET/KEY")
    return m.group(1), m.group(2)


def read_s3_text(uri: str, client: Any = None) -> str | None:
    """The object's text, or None when it does not exist."""
    bucket, key = split_s3(uri)
    client = client or aws_client("s3")
    try:
        with aws_call("s3", f"reading {uri}"):
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except AwsNotFound:
        return None
    return str(body.decode("utf-8"))


def write_s3_text(uri: str, text: str, client: Any = None) -> None:
    """Writes the object in one PUT: readers see the previous version or this one, never a part."""
    bucket, key = split_s3(uri)
    client = client or aws_client("s3")
    with aws_call("s3", f"writing {uri}", "check the bucket"):
        client.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json")


def create_s3_text(uri: str, text: str, client: Any = None) -> bool:
    """Writes the object only where none exists (a conditional PUT, `If-None-Match: *`, which S3 decides
    atomically); False where one exists."""
    bucket, key = split_s3(uri)
    client = client or aws_client("s3")
    with aws_call("s3", f"writing {uri}", "check the bucket"):
        try:
            client.put_object(
                Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json", IfNoneMatch="*"
            )
        except Exception as e:
            code = str(getattr(e, "response", {}).get("Error", {}).get("Code") or "")
            if code in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                return False
            raise
    return True


def delete_s3_object(uri: str, client: Any = None) -> None:
    """Deletes the object (nothing where it does not exist)."""
    bucket, key = split_s3(uri)
    client = client or aws_client("s3")
    with aws_call("s3", f"deleting {uri}", "allow s3:DeleteObject on it"):
        client.delete_object(Bucket=bucket, Key=key)
