"""Append already-enriched raw event rows to either store in one write.

Rows are mappings with the columns of `raw_schema.RAW_EVENT_COLUMNS` (`event_data` may be a dict
or JSON text). The ingest sinks, the lifecycle jobs, the tests and the benchmarks all write through
these two functions, so both stores receive exactly the same values.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa

from ingest_service.storage.parquet_files import write_parquet_atomically
from ingest_service.storage.raw_schema import (
    RAW_EVENT_COLUMN_NAMES,
    RAW_EVENTS_ARROW_SCHEMA,
    RAW_EVENTS_RELATION,
    REJECTED_EVENT_COLUMN_NAMES,
    REJECTED_EVENTS_ARROW_SCHEMA,
    REJECTED_EVENTS_RELATION,
)

Row = Mapping[str, Any]


def _event_data_text(value: Any) -> str:
    if value is None:
        return "{}"
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def rows_to_arrow(rows: Sequence[Row]) -> pa.Table:
    columns = {name: [row.get(name) for row in rows] for name in RAW_EVENT_COLUMN_NAMES}
    columns["event_id"] = [str(value) for value in columns["event_id"]]
    columns["event_data"] = [_event_data_text(value) for value in columns["event_data"]]
    return pa.Table.from_pydict(columns, schema=RAW_EVENTS_ARROW_SCHEMA)


def append_rows_parquet(directory: Path, rows: Sequence[Row]) -> Path | None:
    """Write `rows` as one new immutable file; durable when this returns."""
    if not rows:
        return None
    return write_parquet_atomically(directory, rows_to_arrow(rows))


COPY_SQL = f"copy {RAW_EVENTS_RELATION} ({', '.join(RAW_EVENT_COLUMN_NAMES)}) from stdin"
COPY_REJECTED_SQL = f"copy {REJECTED_EVENTS_RELATION} ({', '.join(REJECTED_EVENT_COLUMN_NAMES)}) from stdin"
_REJECTED_COLUMNS = operator.itemgetter(*REJECTED_EVENT_COLUMN_NAMES)


_ALL_COLUMNS = operator.itemgetter(*RAW_EVENT_COLUMN_NAMES)
_COLUMN_SET = frozenset(RAW_EVENT_COLUMN_NAMES)
_EVENT_DATA_INDEX = RAW_EVENT_COLUMN_NAMES.index("event_data")


def _copy_values(rows: Iterable[Row]) -> Iterable[tuple[Any, ...]]:
    for row in rows:
        if row.keys() == _COLUMN_SET and type(row["event_data"]) is str:
            # the service's rows: every column, JSON already text; one C call instead of a lookup per column
            yield _ALL_COLUMNS(row)
            continue
        values = [row.get(name) for name in RAW_EVENT_COLUMN_NAMES]
        values[_EVENT_DATA_INDEX] = _event_data_text(values[_EVENT_DATA_INDEX])
        yield tuple(values)


def copy_rows_postgres(connection: psycopg.Connection, rows: Iterable[Row]) -> int:
    """COPY `rows` into the raw table inside the caller's transaction; returns the row count."""
    count = 0
    with connection.cursor() as cursor, cursor.copy(COPY_SQL) as copy:
        for values in _copy_values(rows):
            copy.write_row(values)
            count += 1
    return count


async def _copy_async(
    connection: psycopg.AsyncConnection, sql: str, values: Iterable[tuple[Any, ...]]
) -> int:
    count = 0
    async with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row_values in values:
            await copy.write_row(row_values)
            count += 1
    return count


async def copy_rows_postgres_async(connection: psycopg.AsyncConnection, rows: Iterable[Row]) -> int:
    """`copy_rows_postgres` for an async connection: the same SQL and the same values.

    The ingest service formats rows on its event loop and waits for PostgreSQL without blocking it;
    formatting in a worker thread instead would fight the event loop for the GIL on every request.
    """
    return await _copy_async(connection, COPY_SQL, _copy_values(rows))


async def copy_rejected_rows_postgres_async(connection: psycopg.AsyncConnection, rows: Iterable[Row]) -> int:
    """Rejected events (every column of `REJECTED_EVENT_COLUMNS`) into `raw.rejected_events`."""
    return await _copy_async(connection, COPY_REJECTED_SQL, map(_REJECTED_COLUMNS, rows))


def copy_rejected_rows_postgres(connection: psycopg.Connection, rows: Iterable[Row]) -> int:
    """`copy_rejected_rows_postgres_async` inside the caller's (synchronous) transaction."""
    count = 0
    with connection.cursor() as cursor, cursor.copy(COPY_REJECTED_SQL) as copy:
        for values in map(_REJECTED_COLUMNS, rows):
            copy.write_row(values)
            count += 1
    return count


def rejected_rows_to_arrow(rows: Sequence[Row]) -> pa.Table:
    return pa.Table.from_pydict(
        {name: [row[name] for row in rows] for name in REJECTED_EVENT_COLUMN_NAMES},
        schema=REJECTED_EVENTS_ARROW_SCHEMA,
    )
