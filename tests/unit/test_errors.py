"""One error hierarchy, with a named error where a reader would look for one: a manifest's problem, an S3 URI's,
a handoff that cannot be made; each is still a ConfigError (bad input: exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

import cdc_migrate
from cdc_migrate.aws.s3 import split_s3
from cdc_migrate.errors import CdcMigrateError, ConfigError, HandoffError, ManifestError, S3UriError
from cdc_migrate.handoff.connectors import ConnectorOptions, offsets_request
from cdc_migrate.handoff.manifest import Manifest, read_manifest


def test_a_missing_or_broken_manifest_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="does not exist"):
        read_manifest(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ManifestError):
        read_manifest(tmp_path / "bad.json")


def test_an_s3_uri_that_is_not_one_is_an_s3_uri_error() -> None:
    with pytest.raises(S3UriError, match="s3://BUCKET/KEY"):
        split_s3("s3://bucket-only")


def test_a_manifest_without_a_position_cannot_hand_off() -> None:
    with pytest.raises(HandoffError, match="no binlog position"):
        offsets_request(Manifest(started_at="t"), ConnectorOptions())


def test_the_named_errors_are_config_errors_and_public() -> None:
    for error in (ManifestError, S3UriError, HandoffError):
        assert issubclass(error, ConfigError) and issubclass(error, CdcMigrateError)
        assert error.__name__ in cdc_migrate.__all__
