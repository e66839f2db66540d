"""Query results as Arrow tables, the same from DuckDB and PostgreSQL: what snapshots are written from.

DuckDB hands Arrow over itself; a psycopg cursor is turned into columns typed by the result's
PostgreSQL types (so an empty result still has its schema). On both engines JSON columns are JSON
text and `timestamptz` columns are `timestamp[us, tz=UTC]`, so a snapshot's schema does not depend
on the engine that built the marts.
"""

from __future__ import annotations

import decimal
from typing import Any

import psycopg
import pyarrow as pa

UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")

# PostgreSQL type oid -> Arrow type; any other type is written as its text
_ARROW_OF_OID = {
    16: pa.bool_(),  # bool
    20: pa.int64(),  # int8
    21: pa.int16(),  # int2
    23: pa.int32(),  # int4
    700: pa.float32(),  # float4
    701: pa.float64(),  # float8
    1700: pa.float64(),  # numeric (avg() of integers): the marts' figures are compared as floats
    25: pa.string(),  # text
    1043: pa.string(),  # varchar
    1042: pa.string(),  # bpchar
    114: pa.string(),  # json (loaded as text, below)
    3802: pa.string(),  # jsonb (loaded as text, below)
    1082: pa.date32(),  # date
    1114: pa.timestamp("us"),  # timestamp (UTC by the project's convention)
    1184: UTC_TIMESTAMP,  # timestamptz
}


def json_as_text(connection: psycopg.Connection) -> None:
    """Make `connection` return json/jsonb values as their text, as DuckDB's Arrow does."""
    from psycopg.types.string import TextLoader

    for name in ("json", "jsonb"):
        connection.adapters.register_loader(name, TextLoader)


def _value(value: Any, arrow_type: pa.DataType) -> Any:
    if value is None:
        return None
    if isinstance(value, decimal.Decimal):
        return float(value)
    if pa.types.is_string(arrow_type) and not isinstance(value, str):
        return str(value)
    return value


def postgres_arrow(cursor: psycopg.Cursor) -> pa.Table:
    """The rest of `cursor`'s result as an Arrow table (see the module docstring)."""
    description = cursor.description or []
    types = [_ARROW_OF_OID.get(column.type_code, pa.string()) for column in description]
    rows = cursor.fetchall()
    columns = [
        pa.array([_value(row[index], arrow_type) for row in rows], type=arrow_type)
        for index, arrow_type in enumerate(types)
    ]
    return pa.Table.from_arrays(columns, names=[column.name for column in description])


def with_utc_timestamps(table: pa.Table) -> pa.Table:
    """Every zoned timestamp column as `timestamp[us, tz=UTC]` (DuckDB names its zone `Etc/UTC`)."""
    for index, column_field in enumerate(table.schema):
        zoned = pa.types.is_timestamp(column_field.type) and column_field.type.tz is not None
        if zoned and column_field.type != UTC_TIMESTAMP:
            column = table.column(index).cast(UTC_TIMESTAMP)
            table = table.set_column(index, pa.field(column_field.name, UTC_TIMESTAMP), column)
    return table
