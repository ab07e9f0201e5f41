"""Data files written outside Iceberg's writer, as Iceberg's spec wants them (pure; pyarrow only where a schema or a
file is made): the table's schema as Iceberg JSON from the contract's types, the Arrow schema the files carry (every
column with its field id, microsecond timestamps, UTC where the column has a zone), and the Parquet writer's
settings from the table's properties (its codec, its dictionary size, decimals stored as integers).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_STRUCT = re.compile(r"^struct<(.*)>$")
_DECIMAL = re.compile(r"^decimal\((\d+),\s*(\d+)\)$")


@dataclass(frozen=True)
class FieldSpec:
    """One column of a table: its name, Iceberg type (as Iceberg names it), whether it is required, and the struct
    fields that are required whenever the struct is there."""

    name: str
    iceberg: str
    required: bool
    required_fields: tuple[str, ...] = ()


def schema_json(fields: list[FieldSpec], identifier: tuple[str, ...]) -> str:
    """The Iceberg schema (its JSON form) of these columns: ids in order, a struct's fields after the columns."""
    next_id = len(fields)

    def type_json(iceberg: str, required_fields: tuple[str, ...]) -> Any:
        nonlocal next_id
        struct = _STRUCT.match(iceberg)
        if not struct:
            return iceberg
        members = []
        for part in struct.group(1).split(", "):
            name, _, inner = part.partition(": ")
            next_id += 1
            members.append({"id": next_id, "name": name, "required": name in required_fields, "type": inner})
        return {"type": "struct", "fields": members}

    columns = [
        {"id": i, "name": f.name, "required": f.required, "type": type_json(f.iceberg, f.required_fields)}
        for i, f in enumerate(fields, 1)
    ]
    ids = [i for i, f in enumerate(fields, 1) if f.name in identifier]
    return json.dumps({"type": "struct", "schema-id": 0, "identifier-field-ids": ids, "fields": columns})


def arrow_type(iceberg: Any) -> Any:
    """The Arrow type a file stores an Iceberg type as."""
    import pyarrow as pa

    if isinstance(iceberg, dict):
        return pa.struct([arrow_field(f) for f in iceberg["fields"]])
    simple = {
        "boolean": pa.bool_(),
        "int": pa.int32(),
        "long": pa.int64(),
        "float": pa.float32(),
        "double": pa.float64(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
        "timestamptz": pa.timestamp("us", tz="UTC"),
        "string": pa.large_string(),
        "binary": pa.large_binary(),
    }
    if iceberg in simple:
        return simple[iceberg]
    decimal = _DECIMAL.match(iceberg)
    if decimal:
        return pa.decimal128(int(decimal.group(1)), int(decimal.group(2)))
    raise ValueError(f"no Arrow type for the Iceberg type {iceberg}")


def arrow_field(field: Mapping[str, Any]) -> Any:
    """An Iceberg field (JSON) as an Arrow field carrying its field id (PARQUET:field_id)."""
    import pyarrow as pa

    return pa.field(
        field["name"],
        arrow_type(field["type"]),
        nullable=not field["required"],
        metadata={"PARQUET:field_id": str(field["id"])},
    )


def arrow_schema(iceberg_schema: str) -> Any:
    """The Arrow schema of an Iceberg schema's JSON, every field with its id."""
    import pyarrow as pa

    return pa.schema([arrow_field(f) for f in json.loads(iceberg_schema)["fields"]])


@dataclass(frozen=True)
class ParquetSettings:
    """How a task writes its Parquet file: the table's codec (and level), the dictionary page size, decimals as
    integers (Iceberg's spec: INT32/INT64 up to 18 digits), statistics for the file's metrics."""

    compression: str = "zstd"
    compression_level: int | None = None
    dictionary_bytes: int = 32 * 1024
    row_group_rows: int = 1024 * 1024

    def writer_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "compression": self.compression,
            "dictionary_pagesize_limit": self.dictionary_bytes,
            "store_decimal_as_integer": True,
            "write_statistics": True,
        }
        if self.compression_level is not None:
            options["compression_level"] = self.compression_level
        return options


_CODECS = {"zstd": "zstd", "snappy": "snappy", "gzip": "gzip", "lz4": "lz4", "uncompressed": "none", "none": "none"}


# The table properties parquet_settings reads.
PARQUET_PROPERTIES = (
    "write.parquet.compression-codec",
    "write.parquet.compression-level",
    "write.parquet.dict-size-bytes",
)


def parquet_settings(properties: Mapping[str, str]) -> ParquetSettings:
    """The writer's settings from the table's properties (Iceberg's names and defaults: zstd)."""
    codec = properties.get("write.parquet.compression-codec", "zstd").lower()
    level = properties.get("write.parquet.compression-level")
    return ParquetSettings(
        compression=_CODECS.get(codec, codec),
        compression_level=int(level) if level else None,
        dictionary_bytes=int(properties.get("write.parquet.dict-size-bytes", str(2 * 1024 * 1024))),
    )
