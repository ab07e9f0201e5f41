"""Options: plain frozen values built from a TOML file, the environment and flags (flags win)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cdc_migrate.config.coerce import build_section, expand_source_url, reject_unknown
from cdc_migrate.config.glue import GlueOptions
from cdc_migrate.config.sections import (
    CatalogOptions,
    RunOptions,
    SnapshotOptions,
    SourceOptions,
    SparkOptions,
    TablesOptions,
)
from cdc_migrate.errors import ConfigError


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
        options.source.check()
        options.tables.check()
        options.catalog.check()
        options.snapshot.check()
        options.spark.check()
        options.run.check()
        options.glue.check()
        if not options.run.record_binlog_position and options.snapshot.kind != "live":
            raise ConfigError(
                f"run.record_binlog_position = false (--no-binlog-position) contradicts snapshot.kind = "
                f"{options.snapshot.kind!r}, whose point is the position CDC starts from: drop one of them"
            )
        return options

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
