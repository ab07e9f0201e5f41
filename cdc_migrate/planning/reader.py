"""Which reader moves a table's rows (pure): the Arrow path (ConnectorX in Spark's tasks, spark/arrow.py) wherever it
can serve the table, else Spark JDBC, which serves every table the contract covers, with why."""

from __future__ import annotations

from dataclasses import dataclass

from cdc_migrate.config.sections import SourceOptions
from cdc_migrate.contract.arrow import NotCarried, arrow_columns
from cdc_migrate.contract.mapping import TableMapping
from cdc_migrate.errors import PlanningError

ARROW = "arrow"
JDBC = "jdbc"


@dataclass(frozen=True)
class Reader:
    """The reader of one table, and why it is that one where it is not the Arrow path."""

    kind: str
    why: str = ""


def choose_reader(mapping: TableMapping, source: SourceOptions, missing: str | None) -> Reader:
    """The reader for a table: `source.reader` where it is arrow or jdbc, else (auto) the Arrow path unless it cannot
    serve the table (`missing`: why the Arrow reader is not installed here; a TLS mode it lacks; a column it cannot
    carry), in which case JDBC, saying why. `arrow` that cannot serve the table is a planning error."""
    if source.reader == JDBC:
        return Reader(JDBC, "source.reader = jdbc")
    problem = missing
    if problem is None and source.tls == "verify":
        problem = "source.tls = verify: the Arrow reader does not check the server's certificate against tls_ca here"
    if problem is None:
        try:
            arrow_columns(mapping)
        except NotCarried as e:
            problem = str(e)
    if problem is None:
        return Reader(ARROW)
    if source.reader == ARROW:
        raise PlanningError(f"{mapping.table} cannot be read by the Arrow reader: {problem}; use source.reader = auto")
    return Reader(JDBC, problem)
