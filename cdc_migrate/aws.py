"""The AWS edges: the source password from Secrets Manager, files on S3, namespaces in a table bucket.

Every function takes an optional boto3 client, so tests hand in one backed by moto or a botocore Stubber.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from typing import Any

from cdc_migrate.config import CatalogOptions, Options, Secret, SourceOptions
from cdc_migrate.errors import AwsError, ConfigError

logger = logging.getLogger("cdc_migrate.aws")

_S3_URI = re.compile(r"^s3a?://([^/]+)/(.+)$")
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$")


def _client(service: str, region: str | None = None) -> Any:
    try:
        import boto3
    except ImportError as e:  # pragma: no cover - boto3 is on Glue and in the `aws` extra
        raise ConfigError(f"{service} needs boto3: pip install 'cdc_migrate[aws]'") from e
    return boto3.client(service, region_name=region)


def _error_code(e: Exception) -> str:
    return str(getattr(e, "response", {}).get("Error", {}).get("Code", type(e).__name__))


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
    try:
        answer = client.get_secret_value(SecretId=name)
    except Exception as e:
        code = _error_code(e)
        hint = {
            "ResourceNotFoundException": "check source.secret (its name or ARN) and the region",
            "AccessDeniedException": "allow secretsmanager:GetSecretValue on it (and kms:Decrypt on its key)",
        }.get(code, "check the secret and the AWS credentials")
        raise AwsError(f"source.secret {name!r}: Secrets Manager refused ({code}); {hint}") from None
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
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except Exception as e:
        if _error_code(e) in ("NoSuchKey", "404", "NotFound"):
            return None
        raise AwsError(f"cannot read {uri}: {_error_code(e)}; check the bucket and s3:GetObject") from None
    return str(body.decode("utf-8"))


def write_s3_text(uri: str, text: str, client: Any = None) -> None:
    """Writes the object in one PUT: readers see the previous version or this one, never a part."""
    bucket, key = split_s3(uri)
    client = client or _client("s3")
    try:
        client.put_object(Bucket=bucket, Key=key, Body=text.encode("utf-8"), ContentType="application/json")
    except Exception as e:
        raise AwsError(f"cannot write {uri}: {_error_code(e)}; check the bucket and s3:PutObject") from None


# ---- namespaces in a table bucket ---------------------------------------------------------------------


def ensure_table_bucket_namespaces(catalog: CatalogOptions, namespaces: set[str], client: Any = None) -> list[str]:
    """Creates the namespaces missing from the S3 table bucket (s3tables CreateNamespace); returns them."""
    arn = catalog.table_bucket_arn
    if arn is None:
        raise ConfigError(f"catalog.warehouse = {catalog.warehouse!r} names no S3 table bucket")
    from cdc_migrate.naming import problem

    bad = [p for n in sorted(namespaces) if (p := problem(n, "namespace"))]
    if bad:
        raise ConfigError(f"{'; '.join(bad)}: choose another with catalog.namespace or a per-table target")
    client = client or _client("s3tables", catalog.region_name)
    created = []
    for namespace in sorted(namespaces):
        try:
            client.get_namespace(tableBucketARN=arn, namespace=namespace)
            continue
        except Exception as e:
            if _error_code(e) not in ("NotFoundException", "404"):
                raise AwsError(
                    f"cannot look up namespace {namespace!r} in {arn}: {_error_code(e)}; allow "
                    "s3tables:GetNamespace and s3tables:CreateNamespace on the table bucket"
                ) from None
        try:
            client.create_namespace(tableBucketARN=arn, namespace=[namespace])
        except Exception as e:
            if _error_code(e) != "ConflictException":  # created meanwhile by someone else
                raise AwsError(
                    f"cannot create namespace {namespace!r} in {arn}: {_error_code(e)}; allow "
                    "s3tables:CreateNamespace on the table bucket"
                ) from None
        logger.info("created namespace %s in %s", namespace, arn)
        created.append(namespace)
    return created
