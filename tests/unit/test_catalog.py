from __future__ import annotations

import os
from pathlib import Path

from cdc_migrate.config.sections import CatalogOptions
from cdc_migrate.target.pyiceberg import pyiceberg_properties


def test_local_catalog_opens_the_same_sqlite_file_spark_writes(tmp_path: Path) -> None:
    props = pyiceberg_properties(CatalogOptions(kind="local", warehouse=str(tmp_path / "wh")))

    assert props == {
        "type": "sql",
        "uri": f"sqlite:///{os.path.join(tmp_path, 'wh', 'catalog.db')}",
        "warehouse": f"file://{tmp_path / 'wh'}",
    }


def test_s3tables_opens_through_the_signed_rest_endpoint_of_its_region() -> None:
    arn = "arn:aws:s3tables:eu-west-1:111122223333:bucket/lake"

    props = pyiceberg_properties(CatalogOptions(kind="s3tables", warehouse=arn))

    assert props == {
        "type": "rest",
        "uri": "https://s3tables.eu-west-1.amazonaws.com/iceberg",
        "warehouse": arn,
        "rest.sigv4-enabled": "true",
        "rest.signing-name": "s3tables",
        "rest.signing-region": "eu-west-1",
        "s3.region": "eu-west-1",
    }


def test_glue_rest_opens_the_bucket_through_the_glue_endpoint_as_account_s3tablescatalog_bucket() -> None:
    arn = "arn:aws:s3tables:eu-west-1:111122223333:bucket/lake"

    props = pyiceberg_properties(CatalogOptions(kind="glue-rest", warehouse=arn))

    assert props == {
        "type": "rest",
        "uri": "https://glue.eu-west-1.amazonaws.com/iceberg",
        "warehouse": "111122223333:s3tablescatalog/lake",
        "rest.sigv4-enabled": "true",
        "rest.signing-name": "glue",
        "rest.signing-region": "eu-west-1",
        "s3.region": "eu-west-1",
    }


def test_rest_passes_its_properties() -> None:
    props = pyiceberg_properties(CatalogOptions(kind="rest", uri="https://c", properties={"token": "t"}))

    assert props == {"type": "rest", "uri": "https://c", "token": "t"}
