"""The one place botocore's errors become the library's (aws_call), with the operation, the resource and the fix;
and boto3 clients. The AWS edges (secrets.py, s3.py, s3tables.py, rds.py, glue.py) call AWS through it; each of
their functions takes an optional boto3 client, so tests hand in one backed by moto or a botocore Stubber.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cdc_migrate.errors import AwsError, AwsNotFound, ConfigError


def client(service: str, region: str | None = None) -> Any:
    """A boto3 client (boto3 is on Glue and in the `aws` extra)."""
    try:
        import boto3
    except ImportError as e:  # pragma: no cover
        raise ConfigError(f"{service} needs boto3: pip install 'cdc_migrate[aws]'") from e
    return boto3.client(service, region_name=region)


# The IAM action of an API operation, where it is not `<service>:<operation>`.
_IAM_ACTIONS = {
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
}
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "SignatureDoesNotMatch",
    "403",
}
_NOT_FOUND = {
    "NoSuchKey",
    "NoSuchBucket",
    "404",
    "NotFound",
    "NotFoundException",
    "ResourceNotFoundException",
    "EntityNotFoundException",
    "DBInstanceNotFound",
    "DBClusterNotFoundFault",
}
_CALL = re.compile(r"\((\w+)\) when calling the (\w+) operation")


def is_aws_error(e: BaseException) -> bool:
    """An exception raised by boto3 or botocore."""
    return type(e).__module__.split(".")[0] in ("botocore", "boto3")


def _code_and_operation(e: BaseException) -> tuple[str, str | None]:
    response = getattr(e, "response", None) or {}
    code = str(response.get("Error", {}).get("Code") or "")
    operation = getattr(e, "operation_name", None)
    m = _CALL.search(str(e))  # boto3's S3 transfer errors carry the call only in their text
    if m and not code:
        code, operation = m.group(1), m.group(2)
    return code or type(e).__name__, operation


def translate(e: BaseException, service: str, what: str, fix: str = "") -> AwsError:
    """botocore's error as the library's: what was being done, the operation and the fix; a denied call names
    the IAM action to allow, a missing resource is AwsNotFound."""
    code, operation = _code_and_operation(e)
    action = _IAM_ACTIONS.get((service, operation or ""), f"{service}:{operation}") if operation else None
    call = f" ({service} {operation})" if operation else ""
    fix = f"; {fix}" if fix else ""
    name = type(e).__name__
    if name == "NoCredentialsError":
        return AwsError(f"{what}: no AWS credentials; configure them (aws configure, AWS_PROFILE, an instance role)")
    if name == "NoRegionError":
        return AwsError(f"{what}: no AWS region; set AWS_REGION, or glue.region / catalog.region in the config")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
        return AwsError(f"{what}: cannot reach AWS ({e}); check the network and the region")
    if code in _DENIED:
        who = action or service
        return AwsError(
            f"{what}: AWS denied it ({code}{call}); allow {who} in the IAM policy of the role or user "
            f"that runs this{fix}"
        )
    if code in _NOT_FOUND:
        return AwsNotFound(f"{what}: it does not exist ({code}{call}){fix}")
    message = str(getattr(e, "response", {}).get("Error", {}).get("Message") or e).strip().splitlines()[0]
    return AwsError(f"{what}: {code}{call}: {message}{fix}")


@contextmanager
def aws_call(service: str, what: str, fix: str = "") -> Iterator[None]:
    """Turns a boto3/botocore error raised inside into the library's AwsError (see translate)."""
    try:
        yield
    except Exception as e:
        if is_aws_error(e):
            raise translate(e, service, what, fix) from None
        raise
