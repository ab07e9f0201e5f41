"""The AWS edges: the source password from Secrets Manager, files on S3, namespaces in a table bucket, and the
one place botocore's errors become the library's (aws_call), with the operation, the resource and the fix.

Every function takes an optional boto3 client, so tests hand in one backed by moto or a botocore Stubber.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from cdc_migrate.config.model import Options
from cdc_migrate.config.secret import Secret
from cdc_migrate.config.sections import CatalogOptions, SourceOptions
from cdc_migrate.errors import AwsError, AwsNotFound, ConfigError

logger = logging.getLogger("cdc_migrate.aws")

_S3_URI = re.compile(r"^s3a?://([^/]+)/(.+)$")
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$")


def client(service: str, region: str | None = None) -> Any:
    """A boto3 client (boto3 is on Glue and in the `aws` extra)."""
    try:
        import boto3
    except ImportError as e:  # pragma: no cover
        raise ConfigError(f"{service} needs boto3: pip install 'cdc_migrate[aws]'") from e
    return boto3.client(service, region_name=region)


_client = client

# The IAM action of an API operation, where it is not `<service>:<operation>`.
_IAM_ACTIONS = {
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "CreateMultipartUpload"): "s3:PutObject",
    ("s3", "UploadPart"): "s3:PutObject",
    ("s3", "CompleteMultipartUpload"): "s3:PutObject",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
           "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "SignatureDoesNotMatch", "403"}  # fmt: skip
_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "404", "NotFound", "NotFoundException", "ResourceNotFoundException",
              "EntityNotFoundException", "DBInstanceNotFound", "DBClusterNotFoundFault"}  # fmt: skip
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
        return AwsError(f"{what}: AWS denied it ({code}{call}); allow {who} in the IAM policy of the role or user "
                        f"that runs this{fix}")  # fmt: skip
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


# ---- the source password ------------------------------------------------------------------------------


def with_secret(options: Options, client: Any = None) -> Options:
    """Options with the source login filled in from `source.secret` (AWS Secrets Manager).

    The secret is JSON in the format RDS uses (`username`, `password`, `host`, `port`): its password is
    used unless one is already given (CDC_MIGRATE_SOURCE_PASSWORD wins); host, port and user fill only
    what the configuration leaves out. Without `source.secret`, the options come back unchanged.
    """
    source = options.source
    if not source.secret or source.password is not None:
        return options
    return replace(options, source=resolve_secret(source, client))


def resolve_secret(source: SourceOptions, client: Any = None) -> SourceOptions:
    name = source.secret or ""
    m = _SECRET_ARN.match(name)
    if client is None:
        client = _client("secretsmanager", m.group(1) if m else None)
    with aws_call("secretsmanager", f"reading source.secret {name!r}",
                  "check its name or ARN and the region; a secret encrypted with a customer key also needs "
                  "kms:Decrypt on that key"):  # fmt: skip
        answer = client.get_secret_value(SecretId=name)
    text = answer.get("SecretString")
    try:
        value = json.loads(text) if text else None
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or not isinstance(value.get("password"), str):
        raise ConfigError(
            f"source.secret {name!r} is not a JSON secret with a password; store it as RDS does: "
            '{"username": ..., "password": ..., "host": ..., "port": ...}'
        )
    port = value.get("port")
    return replace(
        source,
        password=Secret(value["password"]),
        host=source.host or value.get("host"),
        user=source.user or value.get("username"),
        port=source.port if source.port != SourceOptions.port or port is None else int(port),
    )


# ---- files on S3 --------------------------------------------------------------------------------------


def is_s3(path: object) -> bool:
    return isinstance(path, str) and path.startswith(("s3://", "s3a://"))


def split_s3(uri: str) -> tuple[str, str]:
    m = _S3_URI.match(uri)
    if not m:
        raise ConfigError(f"{uri!r} is not an S3 object URI; use s3://BUCKET/KEY")
    return m.group(1), m.group(2)


def read_s3_text(uri: str, client: Any = None) -> str | None:
    """The object's text, or None when it does not exist."""
    bucket, key = split_s3(uri)
    client = client or _client("s3")
    try:
        with aws_call("s3", f"reading {uri}"):
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except AwsNotFound:
        return None
    return str(body.decode("utf-8"))


def write_s3_text(uri: str, text: str, client: Any = None) -> None:
    """Writes the object in one PUT: readers see the previous version or this one, never a part."""
    bucket, key = split_s3(uri)
    client = client or _client("s3")
    with aws_call("s3", f"writing {uri}", "check the bucket"):
        client.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json")


# ---- namespaces in a table bucket ---------------------------------------------------------------------

_BUCKET_FIX = "check catalog.warehouse (the table bucket's ARN) and catalog.region"


def ensure_table_bucket_namespaces(catalog: CatalogOptions, namespaces: set[str], client: Any = None) -> list[str]:
    """Creates the namespaces missing from the S3 table bucket (s3tables CreateNamespace); returns them."""
    arn = catalog.table_bucket_arn
    if arn is None:
        raise ConfigError(f"catalog.warehouse = {catalog.warehouse!r} names no S3 table bucket")
    from cdc_migrate.target.naming import problem

    bad = [p for n in sorted(namespaces) if (p := problem(n, "namespace"))]
    if bad:
        raise ConfigError(f"{'; '.join(bad)}: choose another with catalog.namespace or a per-table target")
    client = client or _client("s3tables", catalog.region_name)
    created = []
    for namespace in sorted(namespaces):
        try:
            with aws_call("s3tables", f"looking up namespace {namespace!r} in {arn}", _BUCKET_FIX):
                client.get_namespace(tableBucketARN=arn, namespace=namespace)
            continue
        except AwsNotFound:
            pass
        try:
            with aws_call("s3tables", f"creating namespace {namespace!r} in {arn}", _BUCKET_FIX):
                client.create_namespace(tableBucketARN=arn, namespace=[namespace])
        except AwsError as e:
            if "(ConflictException" not in str(e):  # created meanwhile by someone else
                raise
        logger.info("created namespace %s in %s", namespace, arn)
        created.append(namespace)
    return created
