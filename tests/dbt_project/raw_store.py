"""Write raw events and privacy requests into a warehouse's raw store, as the ingest service and
the lifecycle jobs do: immutable Parquet files for `dev`, the PostgreSQL tables for `prod`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

from ingest_service.storage.bulk_load import append_rows_parquet, copy_rows_postgres
from ingest_service.storage.parquet_files import (
    ensure_store,
    replace_files_atomically,
    write_parquet_atomically,
)
from ingest_service.storage.raw_schema import PRIVACY_EVENTS_ARROW_SCHEMA, RAW_EVENTS_ARROW_SCHEMA
from tests.dbt_project.dbt_invocation import Warehouse


def _events_dir(warehouse: Warehouse) -> Path:
    return Path(warehouse.env["DATA_DIR"]) / "raw" / "interaction_events"


def _privacy_dir(warehouse: Warehouse) -> Path:
    return Path(warehouse.env["DATA_DIR"]) / "raw" / "user_privacy_events"


def append_events(warehouse: Warehouse, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    if warehouse.target == "dev":
        ensure_store(_events_dir(warehouse), RAW_EVENTS_ARROW_SCHEMA)
        append_rows_parquet(_events_dir(warehouse), rows)
        return
    with psycopg.connect(warehouse.postgres_url) as connection:
        copy_rows_postgres(connection, rows)


def append_privacy_request(warehouse: Warehouse, user_id: str, action: str, requested_at: datetime) -> None:
    if warehouse.target == "dev":
        table = pa.Table.from_pydict(
            {"user_id": [user_id], "action": [action], "requested_at": [requested_at]},
            schema=PRIVACY_EVENTS_ARROW_SCHEMA,
        )
        write_parquet_atomically(_privacy_dir(warehouse), table)
        return
    with psycopg.connect(warehouse.postgres_url) as connection:
        connection.execute(
            "insert into raw.user_privacy_events (user_id, action, requested_at) values (%s, %s, %s)",
            (user_id, action, requested_at),
        )


def erase_user(warehouse: Warehouse, user_id: str, requested_at: datetime) -> None:
    """Delete the user's raw events and log the erasure, like the lifecycle job."""
    if warehouse.target == "dev":
        directory = _events_dir(warehouse)
        for path in sorted(directory.glob("*.parquet")):
            table = pq.read_table(path, schema=RAW_EVENTS_ARROW_SCHEMA)
            mask = pa.compute.not_equal(pa.compute.fill_null(table["user_id"], ""), user_id)
            kept = table.filter(mask)
            if kept.num_rows != table.num_rows:
                replace_files_atomically(directory, [path], kept)
    else:
        with psycopg.connect(warehouse.postgres_url) as connection:
            connection.execute("delete from raw.interaction_events where user_id = %s", (user_id,))
    append_privacy_request(warehouse, user_id, "erase", requested_at)
