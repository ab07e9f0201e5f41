"""Namespaces in an S3 table bucket (the s3tables API, which applies its own naming rules)."""

from __future__ import annotations

import logging
from typing import Any

from cdc_migrate.aws.calls import aws_call
from cdc_migrate.aws.calls import client as aws_client
from cdc_migrate.config.sections import CatalogOptions
from cdc_migrate.errors import AwsError, AwsNotFound, ConfigError

logger = logging.getLogger("cdc_migrate.aws")

_BUCKET_FIX = "check catalog.warehouse (the table bucket's ARN) and catalog.region"


def ensure_table_bucket_namespaces(catalog: CatalogOptions, namespaces: set[str], client: Any = None) -> list[str]:
    """Creates the namespaces missing from the S3 table bucket (s3tables CreateNamespace); returns them."""
    arn = catalog.table_bucket_arn
    if arn is None:
        raise ConfigError(f"catalog.warehouse = {catalog.warehouse!r} names no S3 table bucket")
    from cdc_migrate.naming import problem

    bad = [p for n in sorted(namespaces) if (p := problem(n, "namespace"))]
    if bad:
        raise ConfigError(f"{'; '.join(bad)}: choose another with catalog.namespace or a per-table target")
    client = client or aws_client("s3tables", catalog.region_name)
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
