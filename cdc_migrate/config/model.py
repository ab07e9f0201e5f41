"""Options: plain frozen values built from a TOML file, the environment and flags (flags win)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cdc_migrate.config.coerce import build_section, expand_source_url, reject_unknown
from cdc_migrate.config.glue import GlueOptions
from cdc_migrate.config.keywords import keyword_layer, keyword_table, python_errors
from cdc_migrate.config.secret import Secret
from cdc_migrate.config.sections import (
    CatalogOptions,
    RunOptions,
    SnapshotOptions,
    SourceOptions,
    SparkOptions,
    TablesOptions,
)
from cdc_migrate.errors import ConfigError, OptionTypeError
from cdc_migrate.views import html_table, shown


@dataclass(frozen=True)
class Options:
    """Everything a plan or a run needs, validated once."""

    source: SourceOptions = field(default_factory=SourceOptions)
    tables: TablesOptions = field(default_factory=TablesOptions)
    catalog: CatalogOptions = field(default_factory=lambda: CatalogOptions(warehouse="warehouse"))
    snapshot: SnapshotOptions = field(default_factory=SnapshotOptions)
    spark: SparkOptions = field(default_factory=SparkOptions)
    run: RunOptions = field(default_factory=RunOptions)
    glue: GlueOptions = field(default_factory=GlueOptions)

    SECTIONS: ClassVar[dict[str, type]] = {
        "source": SourceOptions,
        "tables": TablesOptions,
        "catalog": CatalogOptions,
        "snapshot": SnapshotOptions,
        "spark": SparkOptions,
        "run": RunOptions,
        "glue": GlueOptions,
    }

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Options:
        """Builds and validates options from a nested mapping; unknown keys are an error listing valid ones."""
        reject_unknown(mapping, cls.SECTIONS, "")
        built: dict[str, Any] = {}
        for section, section_cls in cls.SECTIONS.items():
            raw = dict(mapping.get(section) or {})
            if section == "source":
                raw = expand_source_url(raw)
            if section == "catalog" and "warehouse" not in raw and raw.get("kind", "local") == "local":
                raw["warehouse"] = "warehouse"
            built[section] = build_section(section_cls, raw, section)
        options = cls(**built)
        options.check()
        return options

    def __post_init__(self) -> None:
        for section, section_cls in self.SECTIONS.items():
            value = getattr(self, section)
            if not isinstance(value, section_cls):
                raise OptionTypeError(
                    f"Options({section}={value!r}): {section} takes a {section_cls.__name__}, not a "
                    f"{type(value).__name__}; from plain values use cdc_migrate.options({section}=...) or "
                    f"Options.from_mapping({{'{section}': ...}})"
                )

    def check(self) -> None:
        """Checks every section, and the settings that depend on each other."""
        for section in self.SECTIONS:
            getattr(self, section).check()
        if not self.run.record_binlog_position and self.snapshot.kind != "live":
            raise ConfigError(
                f"run.record_binlog_position = false (--no-binlog-position) contradicts snapshot.kind = "
                f"{self.snapshot.kind!r}, whose point is the position CDC starts from: drop one of them"
            )

    def replace(self, **keywords: Any) -> Options:
        """These options with the settings `keywords` name changed (the keywords of cdc_migrate.options: e.g.
        `options.replace(force=True, tables="shop.orders")`), checked again."""
        changed: dict[str, Any] = {}
        with python_errors(self.SECTIONS):
            for section, raw in keyword_layer(keywords, self.SECTIONS).items():
                raw = expand_source_url(dict(raw)) if section == "source" else dict(raw)
                current = getattr(self, section)
                given = build_section(type(current), raw, section)
                changed[section] = dataclasses.replace(current, **{k: getattr(given, k) for k in raw})
            options = dataclasses.replace(self, **changed)
            options.check()
        return options

    def settings(self) -> list[tuple[str, str]]:
        """The settings that differ from the defaults, as (keyword, value shown), the source first; the Glue job's
        only where one is configured."""
        names = {place: key for key, place in keyword_table(self.SECTIONS).items()}
        login = ("host", "port", "user")
        out = (
            [("source", f"{self.source.user or '?'}@{self.source.host}:{self.source.port}")] if self.source.host else []
        )
        for section, section_cls in self.SECTIONS.items():
            current, default = getattr(self, section), section_cls()
            if section == "glue" and not self.glue.role and not self.glue.artifacts:
                continue
            for f in dataclasses.fields(current):
                if section == "source" and f.name in login:
                    continue
                value = getattr(current, f.name)
                if value != getattr(default, f.name) and value not in (None, (), {}):
                    out.append((names.get((section, f.name), f"{section}.{f.name}"), _shown(value)))
        return out

    def __repr__(self) -> str:
        return f"Options({', '.join(f'{k}={v}' for k, v in self.settings())})"

    def _repr_html_(self) -> str:
        return html_table(
            "cdc_migrate options (the settings that differ from the defaults)", ["keyword", "value"], self.settings()
        )

    def require_source(self) -> SourceOptions:
        """Returns the source options, checking that host and user are given."""
        if not self.source.host:
            raise ConfigError(
                "no source host: give --source mysql://USER@HOST:PORT, [source] host in the config "
                "file, or CDC_MIGRATE_SOURCE_HOST"
            )
        if not self.source.user:
            raise ConfigError(
                f"no user for the source {self.source.host}: put it in the URL (mysql://USER@HOST), "
                "[source] user, or CDC_MIGRATE_SOURCE_USER"
            )
        return self.source

    def require_tables(self) -> TablesOptions:
        """Returns the table selection, checking that it selects something."""
        if not self.tables.include:
            raise ConfigError(
                "no tables selected: give --tables 'db.*' (or 'db.table', repeatable) or [tables] include"
            )
        return self.tables


def _shown(value: Any) -> str:
    if isinstance(value, Secret):
        return "***"
    if isinstance(value, Mapping):
        return shown({k: (v if not dataclasses.is_dataclass(v) else "...") for k, v in value.items()})
    return shown(value)
