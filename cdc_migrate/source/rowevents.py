"""A binlog row event of a planned table as the change log's spool rows (source/changelog.py): its table map
labelled from the plan (column names, ENUM and SET labels, how text decodes), its columns checked against the
plan's, its images read (by source/rowdecode.py's compiled readers where they can, else python-mysql-replication's
decoding and canonical_row) and each change keyed."""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from typing import Any

from cdc_migrate.source.charsets import BYTES_AS_TEXT, decoded_by_java
from cdc_migrate.source.rowdecode import RowReader, compile_reader
from cdc_migrate.source.rowdecode import logged as logged_column
from cdc_migrate.source.rowimage import (
    Image,
    canonical_row,
    decimal_positions,
    key_of,
    key_positions,
    labels,
    logged_as,
    packed,
)
from cdc_migrate.source.schema import SourceTable

DEFINITION = "definition"  # a row event whose columns are not the table's as planned


class RowEvents:
    """The row events of `tables` (by (database, name)); `compiled`: whether the compiled readers may read them."""

    def __init__(self, tables: Mapping[tuple[str, str], SourceTable], compiled: bool = True) -> None:
        self._tables = tables
        self._compiled = compiled
        self._keys = {str(t.name): key_positions(t) for t in tables.values() if t.primary_key}
        self._decimals = {str(t.name): decimal_positions(t) for t in tables.values()}
        self._readers: dict[tuple[Any, ...], RowReader | None] = {}
        self.events = 0

    @property
    def compiled(self) -> set[str]:
        """The tables whose row images the compiled readers have read (the others' python-mysql-replication)."""
        return {name for (_, name, _), reader in self._readers.items() if reader is not None}

    def key_positions(self, table: str) -> tuple[int, ...] | None:
        """Where a table's key is in its images (None: keyless, the image is the key)."""
        return self._keys.get(table)

    def decimal_positions(self, table: str) -> tuple[int, ...]:
        """Where a table's DECIMAL values are in its images (kept as text in the spool: rowimage.packed)."""
        return self._decimals.get(table, ())

    def labelled(self, event: Any) -> None:
        """A table map without names and ENUM and SET labels (binlog_row_metadata=MINIMAL) gets the planned
        table's, by position, so that their values decode (the reader drops labels it lacks, and keys why a value is
        None, a zero date or an empty SET, by a name it may not find), and each column's character set
        from its collation (python-mysql-replication 1.0's TableMapEvent sets one only from FULL's metadata, and
        decodes a string without one as UTF-8: a VARBINARY's bytes fail); the rows' own check (below) refuses an
        event whose columns are not the planned ones."""
        table = self._tables.get((event.schema, event.table))
        if table is None or len(event.columns) != len(table.columns):
            return
        for logged, column in zip(event.columns, table.columns, strict=True):
            if not logged.name:  # by position: the reader keys a value's None reason (a zero date) by name
                logged.name = column.name
            if decoded_by_java(column.character_set):  # its bytes, decoded as the load decodes them (charsets.py)
                logged.character_set_name = BYTES_AS_TEXT
            elif column.character_set:
                logged.character_set_name = "utf8mb4"
            elif getattr(logged, "character_set_name", None) is None:  # else the reader decodes bytes as UTF-8
                logged.character_set_name = "binary"
            if column.data_type == "enum" and not logged.enum_values:
                logged.enum_values = ["", *labels(column)]
            elif column.data_type == "set" and not logged.set_values:
                logged.set_values = labels(column)

    @staticmethod
    def same_definition(table: SourceTable, event: Any, at: tuple[str, int], statements: list[Any]) -> bool:
        """Whether a row event's columns are the table's as planned, by count and, position by position, by
        logged type; if not, that is noted as a definition change (a DDL the statement reader did not
        recognise) and the event's rows are not read. Columns are matched by position (without
        binlog_row_metadata=FULL the event has no names)."""
        columns = len(event.columns)
        note = None
        if columns != len(table.columns):
            note = f"a row event with {columns} columns where the table had {len(table.columns)} when it was planned"
        else:
            for logged, column in zip(event.columns, table.columns, strict=True):
                codes = logged_as(column)
                if codes is not None and logged.type not in codes:
                    note = (
                        f"a row event whose column {column.name} is logged as type {logged.type}, not as the "
                        f"planned {column.column_type}"
                    )
                    break
        if note is None:
            return True
        statements.append((str(table.name), at[0], at[1], DEFINITION, note))
        return False

    def _reader(self, table: SourceTable, event: Any) -> RowReader | None:
        """The compiled reader of this event's row images (source/rowdecode.py), where its columns are all in them
        and of kinds it reads; None otherwise (python-mysql-replication reads them)."""
        if not self._compiled:
            return None
        width = len(event.columns)
        every = (1 << width) - 1
        for bitmap in (event.columns_present_bitmap, getattr(event, "columns_present_bitmap2", None)):
            if bitmap is not None and int.from_bytes(bitmap, "little") & every != every:
                return None
        layout_key = (event.table_id, str(table.name), tuple(c.type for c in event.columns))
        if layout_key not in self._readers:
            self._readers[layout_key] = compile_reader(table, [logged_column(c) for c in event.columns])
        return self._readers[layout_key]

    def changes(self, table: SourceTable, event: Any, at: tuple[str, int]) -> list[Any]:
        from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent

        reader = self._reader(table, event)
        if reader is not None:
            return self._read_changes(table, event, at, reader)
        name = str(table.name)
        out = []
        for row in event.rows:
            if isinstance(event, UpdateRowsEvent):
                before = canonical_row(table, row["before_values"], row["before_none_sources"])
                after = canonical_row(table, row["after_values"], row["after_none_sources"])
                if table.primary_key and key_of(table, before) != key_of(table, after):
                    out.append(self._row(name, table, before, None, at))  # a key change: the old key is gone
                out.append(self._row(name, table, after, after, at))
            else:
                image = canonical_row(table, row["values"], row["none_sources"])
                out.append(self._row(name, table, image, None if isinstance(event, DeleteRowsEvent) else image, at))
        self.events += len(event.rows)
        return out

    def _read_changes(self, table: SourceTable, event: Any, at: tuple[str, int], reader: RowReader) -> list[Any]:
        """_changes through the compiled reader, from the event's bytes after its bitmaps."""
        from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent

        name = str(table.name)
        data = event.packet.read(event.event_size - event.packet.read_bytes)
        positions = self._keys.get(name)
        file, pos = at
        dumps, decimals = pickle.dumps, self._decimals.get(name, ())

        def row(image: Image, kept: Image | None) -> tuple[Any, ...]:  # as _row, the key's positions found once
            key = tuple(image[i] for i in positions) if positions else image
            return (
                name,
                repr(key),
                file,
                pos,
                dumps(key) if kept is None else None,
                None if kept is None else packed(kept, decimals),
            )

        out = []
        if isinstance(event, UpdateRowsEvent):
            pairs = reader.update(data)
            for before, after in pairs:
                if positions and any(before[i] != after[i] for i in positions):
                    out.append(row(before, None))  # a key change: the old key is gone
                out.append(row(after, after))
            self.events += len(pairs)
            return out
        images = reader.write(data)
        deleted = isinstance(event, DeleteRowsEvent)
        out = [row(image, None if deleted else image) for image in images]
        self.events += len(images)
        return out

    def _row(self, name: str, table: SourceTable, row: Image, image: Image | None, at: tuple[str, int]) -> Any:
        """A change's row in the spool: the key's values where the key is gone, else the image (which holds them)."""
        key = key_of(table, row) if table.primary_key else row
        kept = None if image is None else packed(image, self._decimals.get(name, ()))
        return (name, repr(key), at[0], at[1], pickle.dumps(key) if kept is None else None, kept)
