"""The library as a Python caller uses it (what `cdc_migrate` exports): options from keywords, a plan, a run and
a validation, each with keyword arguments, results that show themselves (a line; an HTML table in a notebook), a
live display by default in a notebook, and errors that name the Python keyword where the command line would name
its flag. The command line calls the same functions underneath (load/runner.py, validation/validator.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cdc_migrate.config.keywords import python_errors
from cdc_migrate.config.layers import options
from cdc_migrate.config.model import Options
from cdc_migrate.errors import OptionTypeError
from cdc_migrate.load import runner
from cdc_migrate.load.notebook import NotebookProgress, in_kernel
from cdc_migrate.load.progress import NullProgress, Progress
from cdc_migrate.validation.validator import validate as validate_tables
from cdc_migrate.validation.watch import Watch

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from cdc_migrate.handoff.manifest import Manifest
    from cdc_migrate.planning.planner import Plan

__all__ = ["options", "plan", "run", "validate"]  # options: config/layers.py's, re-exported


def _checked(given: Any) -> Options:
    if not isinstance(given, Options):
        raise OptionTypeError(
            f"options={given!r:.80}: give the Options that cdc_migrate.options(...) (or resolve_options) makes, not "
            f"a {type(given).__name__}"
        )
    return given


def plan(options: Options) -> Plan:
    """Every selected table's plan (no Spark needed), after the checks a run makes before it reads."""
    with python_errors(Options.SECTIONS):
        return runner.plan(_checked(options))


def run(options: Options, spark: SparkSession | None = None, progress: Progress | None = None) -> Manifest:
    """Loads the selected tables and returns the manifest (see cdc_migrate.load.runner.run). In a notebook the
    progress shows in the cell by default (progress=NullProgress() for none); a session given (`spark`) is checked
    before anything in it changes and has its settings put back after, but for the catalog's definition."""
    with python_errors(Options.SECTIONS):
        checked = _checked(options)
        shown = progress if progress is not None else NotebookProgress() if in_kernel() else NullProgress()
        return runner.run(checked, spark=spark, progress=shown)


def validate(
    options: Options,
    manifest: str | None = None,
    spark: SparkSession | None = None,
    chunk_rows: int | None = None,
    progress: Watch | None = None,
) -> Manifest:
    """Compares every loaded table of the manifest (`options.run.manifest` unless given) with the source, chunk by
    chunk, and records the results in it (see cdc_migrate.validation.validator.validate). In a notebook each
    table's progress and verdict show in the cell by default (progress=NullProgress() for none); an interruption cancels
    the validation's Spark jobs and leaves the manifest as it was."""
    with python_errors(Options.SECTIONS):
        checked = _checked(options)
        path = manifest or checked.run.manifest
        watch = progress if progress is not None else NotebookProgress(validating=True) if in_kernel() else None
        return validate_tables(checked, path, spark=spark, chunk_rows=chunk_rows, watch=watch)
