"""AWS errors become the library's at the edge, naming what was being done, the operation and the fix; a
denied call names the IAM action to allow (each service's real client, its answers from a botocore Stubber)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from cdc_migrate import AwsError, AwsNotFound
from cdc_migrate.aws.glue import start, status
from cdc_migrate.aws.rds import clone_recovery_position
from cdc_migrate.aws.s3 import read_s3_text, write_s3_text
from cdc_migrate.aws.secrets import resolve_secret
from cdc_migrate.config.model import Options
from cdc_migrate.config.sections import SourceOptions

REGION = "ap-northeast-2"
OPTIONS = Options.from_mapping({"glue": {"job_name": "load", "region": REGION}})


def stubbed(service: str, operation: str, code: str, message: str = "no") -> Any:
    client = boto3.client(service, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(client)
    stub.add_client_error(operation, service_error_code=code, service_message=message)
    stub.activate()
    return client


@pytest.mark.parametrize(
    ("call", "action"),
    [
        (
            lambda: resolve_secret(
                SourceOptions(secret="prod/etl"), stubbed("secretsmanager", "get_secret_value", "AccessDeniedException")
            ),
            "secretsmanager:GetSecretValue",
        ),
        (lambda: write_s3_text("s3://b/m.json", "{}", stubbed("s3", "put_object", "AccessDenied")), "s3:PutObject"),
        (lambda: read_s3_text("s3://b/m.json", stubbed("s3", "get_object", "AccessDenied")), "s3:GetObject"),
        (lambda: start(OPTIONS, {}, stubbed("glue", "start_job_run", "AccessDeniedException")), "glue:StartJobRun"),
        (lambda: status(OPTIONS, "jr_1", stubbed("glue", "get_job_run", "AccessDeniedException")), "glue:GetJobRun"),
        (
            lambda: clone_recovery_position("clone-1", REGION, stubbed("rds", "describe_events", "AccessDenied")),
            "rds:DescribeEvents",
        ),
    ],
    ids=["secret", "s3-put", "s3-get", "glue-start", "glue-status", "rds-events"],
)
def test_a_denied_call_names_the_iam_action_to_allow(call: Any, action: str) -> None:
    with pytest.raises(AwsError, match=rf"AWS denied it .*; allow {action} in the IAM policy"):
        call()


def test_a_missing_resource_is_its_own_error_and_a_missing_manifest_simply_absent() -> None:
    with pytest.raises(AwsNotFound, match=r"reading source.secret 'gone': it does not exist"):
        resolve_secret(
            SourceOptions(secret="gone"), stubbed("secretsmanager", "get_secret_value", "ResourceNotFoundException")
        )
    assert read_s3_text("s3://b/m.json", stubbed("s3", "get_object", "NoSuchKey")) is None


def test_the_cli_has_no_special_case_for_aws(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    import cdc_migrate.aws.glue as glue

    config = tmp_path / "j.toml"
    config.write_text(f'[glue]\njob_name = "load"\nregion = "{REGION}"\n')
    monkeypatch.setattr(
        glue, "_client", lambda service, options: stubbed("glue", "start_job_run", "AccessDeniedException")
    )
    from cdc_migrate.cli.app import main

    assert main(["glue", "start", "--config", str(config)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("cdc-migrate: error: starting Glue job 'load': AWS denied it") and len(err.splitlines()) == 1
