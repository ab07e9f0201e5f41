"""The source login from AWS Secrets Manager, in the format RDS stores it."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from cdc_migrate.aws.calls import aws_call
from cdc_migrate.aws.calls import client as aws_client
from cdc_migrate.config.model import Options
from cdc_migrate.config.secret import Secret
from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.errors import ConfigError

_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$")


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
        client = aws_client("secretsmanager", m.group(1) if m else None)
    with aws_call(
        "secretsmanager",
        f"reading source.secret {name!r}",
        "check its name or ARN and the region; a secret encrypted with a customer key also needs "
        "kms:Decrypt on that key",
    ):
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
