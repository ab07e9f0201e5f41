"""The manifest's JSON checked against its JSON Schema as other tools check it (jsonschema, a test dependency)."""

from __future__ import annotations

import json

from cdc_migrate.handoff.manifest import SCHEMA_PATH


def schema_problems(data: object) -> list[str]:
    """Where a manifest's JSON breaks cdc_migrate/handoff/manifest.schema.json, one line each."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text()))
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(data)]
