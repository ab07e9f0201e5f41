"""The README cannot drift from the code: every option and the Glue --conf example come from it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cdc_migrate.config.layers import resolve_options
from cdc_migrate.config.model import Options
from cdc_migrate.config.sections import TableOverride
from cdc_migrate.spark.session import settings_for
from cdc_migrate.spark.settings import glue_conf_value

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


@pytest.mark.parametrize(
    "key",
    [f"{section}.{f.name}" for section, cls in Options.SECTIONS.items() for f in dataclasses.fields(cls)]
    + [f.name for f in dataclasses.fields(TableOverride)],
)
def test_every_option_is_documented(key: str) -> None:
    assert f"`{key}`" in README


def test_the_glue_conf_example_is_what_the_code_produces() -> None:
    options = resolve_options(ROOT / "conf" / "glue-s3tables.toml", {})

    assert glue_conf_value(settings_for(options, launching=False)) in README


def test_the_type_contract_table_is_generated_from_the_code() -> None:
    from cdc_migrate.contract.docs import contract_markdown

    between = README.split("<!-- type-contract:start -->\n")[1].split("\n<!-- type-contract:end -->")[0]
    assert between == contract_markdown(), "regenerate with: cdc-migrate types"
