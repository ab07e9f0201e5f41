"""The Arrow path against the JDBC path on one type-torture table: every MySQL type the contract covers with its edge
values (text in character sets other than UTF-8's takes the JDBC path: test_charsets.py), loaded by both and
compared value by value, as PyIceberg reads them and as Spark does with its vectorized
Parquet reader and without it; the files the Arrow path writes carry Iceberg's field ids, microsecond timestamps,
integer-stored decimals and the table's codec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from cdc_migrate.load.runner import plan, run

from .conftest import OptionsFactory
from .test_types import COLUMNS, EDGE_COLUMNS, EDGE_VALUES, ROWS

TORTURE = f"""{COLUMNS}, {EDGE_COLUMNS},
    d65 DECIMAL(65,30), tm_neg TIME, tm_big TIME(6), bin_c VARCHAR(10) COLLATE utf8mb4_bin,
    emoji VARCHAR(20), raw VARBINARY(16), js_big JSON, ts_zone TIMESTAMP NULL"""
MORE = [
    "1234567890123456789012345678.123456789050000000000000000000, '-12:00:00', '838:59:59.999999', "
    "'Ab', '😀𝄞', X'ff00fe80c3', '{\"z\": 1, \"a\": 123456789012345678901234567890}', "
    "'2024-03-31 01:30:00'",
    "-0.000000000000000000000000000001, '-838:59:59', '24:00:00', 'aB', 'ñ', X'', '[]', '1970-01-01 09:00:01'",
    "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL",
]
OVERRIDES = {"bi_u_big": {"type": "decimal(20,0)"}, "d65": {"type": "decimal(38,10)"}}


@pytest.fixture
def torture(server: Any, database: str) -> str:
    server.execute(
        "SET SESSION sql_mode = ''",
        f"CREATE TABLE `{database}`.torture ({TORTURE}) DEFAULT CHARSET utf8mb4",
        *(
            # the server's zone is +09:00: the TIMESTAMP values are read in it, stored in UTC
            f"INSERT INTO `{database}`.torture VALUES {row[:-1]}, {edge}, {more})"
            for row, edge, more in zip(ROWS, EDGE_VALUES, MORE, strict=True)
        ),
    )
    return database


def _load(make_options: OptionsFactory, spark: Any, database: str, reader: str, tmp_path: Path) -> Any:
    options = make_options(
        [f"{database}.torture"],
        source={"reader": reader},
        catalog={"namespace": f"{database}_{reader}"},
        tables={"overrides": {f"{database}.torture": {"columns": OVERRIDES}}},
        run={"manifest": str(tmp_path / f"{reader}.json")},
    )
    [planned] = plan(options)
    assert planned.plan is not None and planned.plan.reader == reader, planned.plan and planned.plan.reader_note
    [result] = run(options, spark=spark).tables
    assert result.status == "loaded", result.error
    return options


def test_the_arrow_path_loads_every_value_as_the_jdbc_path_does(
    torture: str, make_options: OptionsFactory, spark: Any, iceberg: Any, tmp_path: Path
) -> None:
    _load(make_options, spark, torture, "jdbc", tmp_path)
    _load(make_options, spark, torture, "arrow", tmp_path)
    jdbc, arrow = iceberg(f"{torture}_jdbc.torture"), iceberg(f"{torture}_arrow.torture")

    assert str(arrow.schema()) == str(jdbc.schema())  # types, required, ids, identifier fields
    assert arrow.name_mapping() == jdbc.name_mapping()
    by_pyiceberg = [t.scan().to_arrow().sort_by("id").to_pylist() for t in (jdbc, arrow)]
    assert len(by_pyiceberg[0]) == 3
    for want, got in zip(*by_pyiceberg, strict=True):
        for column in want:
            assert got[column] == want[column], f"row {want['id']} column {column}: {got[column]!r} != {want[column]!r}"

    for vectorized in ("true", "false"):
        spark.conf.set("spark.sql.iceberg.vectorization.enabled", vectorized)
        try:
            rows = [
                [r.asDict(recursive=True) for r in spark.table(f"local.`{ns}`.torture").orderBy("id").collect()]
                for ns in (f"{torture}_jdbc", f"{torture}_arrow")
            ]
        finally:
            spark.conf.unset("spark.sql.iceberg.vectorization.enabled")
        assert rows[0] == rows[1], f"vectorized={vectorized}"

    # The files themselves: Iceberg's field ids, microsecond timestamps, decimals as integers, the table's codec.
    [data] = [f for f in arrow.inspect.files().to_pylist() if f["content"] == 0]
    footer = pq.ParquetFile(data["file_path"].removeprefix("file:")).metadata
    schema = footer.schema.to_arrow_schema()
    assert [f.metadata[b"PARQUET:field_id"] for f in schema][:3] == [b"1", b"2", b"3"]
    assert str(schema.field("dt6").type) == "timestamp[us]" and str(schema.field("ts6").type) == "timestamp[us, tz=UTC]"
    column = footer.schema.column(footer.schema.names.index("d12"))
    assert column.physical_type == "INT64" and footer.row_group(0).column(0).compression == "ZSTD"
