"""Shared test set-up: isolate every test from the machine's own cdc_migrate environment."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

AWS_REGION = "ap-northeast-2"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CDC_MIGRATE_") and not name.startswith("CDC_MIGRATE_TEST_"):
            monkeypatch.delenv(name)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every AWS call served by moto in this process (fake credentials; a bucket `artifacts-bucket`)."""
    import boto3
    from moto import mock_aws

    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", AWS_REGION)
    monkeypatch.setenv("MOTO_ALLOW_NONEXISTENT_REGION", "true")  # moto's s3tables lists few regions
    with mock_aws():
        boto3.client("s3", region_name=AWS_REGION).create_bucket(
            Bucket="artifacts-bucket", CreateBucketConfiguration={"LocationConstraint": AWS_REGION}
        )
        yield
