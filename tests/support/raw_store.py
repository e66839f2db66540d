"""Write raw events, rejected events and privacy requests into a deployment's raw stores, as the
ingest service and the lifecycle do: immutable Parquet files in the embedded store, or the
PostgreSQL tables when the stores have a database (created first if the service never ran there)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import psycopg
import pyarrow as pa

from ingest_service.storage.bulk_load import (
    append_rows_parquet,
    copy_rejected_rows_postgres,
    copy_rows_postgres,
    rejected_rows_to_arrow,
)
from ingest_service.storage.locations import RawStores
from ingest_service.storage.parquet_files import write_parquet_atomically
from ingest_service.storage.privacy_log import INSERT_SQL
from ingest_service.storage.raw_schema import POSTGRES_DDL, PRIVACY_EVENTS_ARROW_SCHEMA

Row = Mapping[str, Any]


def write_events(stores: RawStores, rows: Iterable[Row]) -> None:
    rows = list(rows)
    if not rows:
        return
    if stores.database_url:
        with psycopg.connect(stores.database_url) as connection:
            connection.execute(POSTGRES_DDL)
            copy_rows_postgres(connection, rows)
    else:
        append_rows_parquet(stores.events_dir, rows)


def write_privacy(stores: RawStores, rows: Iterable[Row]) -> None:
    rows = list(rows)
    if not rows:
        return
    if stores.database_url:
        with psycopg.connect(stores.database_url) as connection, connection.cursor() as cursor:
            connection.execute(POSTGRES_DDL)
            cursor.executemany(
                INSERT_SQL, [(row["user_id"], row["action"], row["requested_at"]) for row in rows]
            )
    else:
        columns = {name: [row[name] for row in rows] for name in PRIVACY_EVENTS_ARROW_SCHEMA.names}
        table = pa.Table.from_pydict(columns, schema=PRIVACY_EVENTS_ARROW_SCHEMA)
        write_parquet_atomically(stores.privacy_dir, table)


def write_rejected(stores: RawStores, rows: Iterable[Row]) -> None:
    """Rejected events (every column of `REJECTED_EVENT_COLUMNS`), as the ingest service keeps them."""
    rows = list(rows)
    if not rows:
        return
    if stores.database_url:
        with psycopg.connect(stores.database_url) as connection:
            connection.execute(POSTGRES_DDL)
            copy_rejected_rows_postgres(connection, rows)
    else:
        write_parquet_atomically(stores.rejected_dir, rejected_rows_to_arrow(rows))
