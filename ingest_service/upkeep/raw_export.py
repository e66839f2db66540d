"""The raw half of an export (SPEC section 7): one user's raw events and privacy requests.

Read from every raw store that exists, selected by `user_id` only (so nothing about another person
can appear), in the spec's event order. The warehouse half (marts, resolved identities) is
assembled by the orchestration, which also writes the one JSON document.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from psycopg.rows import dict_row

from ingest_service.storage.locations import RawStores
from ingest_service.storage.parquet_files import EMPTY_FILE_NAME
from ingest_service.storage.raw_schema import PRIVACY_EVENT_COLUMNS, RAW_EVENT_COLUMN_NAMES
from ingest_service.upkeep.embedded_rewrite import data_files, store_lock
from ingest_service.upkeep.postgres_store import (
    PRIVACY_EVENTS_RELATION,
    RAW_EVENTS_RELATION,
    connect,
    has_raw_tables,
)

_EVENT_ORDER = ("occurred_at", "received_at", "event_id")


def jsonable(value: Any) -> Any:
    """Plain JSON values: timestamps as ISO-8601 UTC, decimals as numbers, uuids as text."""
    if isinstance(value, datetime):
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def _postgres_rows(stores: RawStores, user_id: str) -> tuple[list[dict], list[dict]]:
    with connect(stores) as connection:
        if not has_raw_tables(connection):
            return [], []
        connection.execute("set time zone 'UTC'")
        with connection.cursor(row_factory=dict_row) as cursor:
            events = cursor.execute(
                f"select {', '.join(RAW_EVENT_COLUMN_NAMES)} from {RAW_EVENTS_RELATION} where user_id = %s",
                (user_id,),
            ).fetchall()
            privacy = cursor.execute(
                f"select user_id, action, requested_at from {PRIVACY_EVENTS_RELATION} where user_id = %s",
                (user_id,),
            ).fetchall()
    return events, privacy


def _parquet_rows(directory: Path, columns: list[str], user_id: str) -> list[dict]:
    files = data_files(directory)
    if not files:
        return []
    # files written before a column was added lack it: read by name, with the empty file (which
    # has the current schema) so a column none of the data files has reads as null
    empty = directory / EMPTY_FILE_NAME
    if empty.exists():
        files.append(empty)
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        cursor = connection.execute(
            f"select {', '.join(columns)} from read_parquet(?, union_by_name = true) where user_id = ?",
            [[str(path) for path in files], user_id],
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _embedded_rows(stores: RawStores, user_id: str) -> tuple[list[dict], list[dict]]:
    events = []
    if stores.has_embedded_events:
        # the lock keeps retention/erasure from replacing a file between the listing and the read
        with store_lock(stores.events_dir):
            events = _parquet_rows(stores.events_dir, list(RAW_EVENT_COLUMN_NAMES), user_id)
    for event in events:
        event["event_data"] = json.loads(event["event_data"]) if event["event_data"] else {}
    privacy_columns = [name for name, *_ in PRIVACY_EVENT_COLUMNS]
    privacy = _parquet_rows(stores.privacy_dir, privacy_columns, user_id)
    return events, privacy


@dataclass
class RawExport:
    """One user's rows in the raw stores."""

    raw_events: list[dict[str, Any]] = field(default_factory=list)
    """Every delivery of their events, each with the `store` it came from."""
    privacy_requests: list[dict[str, Any]] = field(default_factory=list)
    stores: list[str] = field(default_factory=list)


def export_raw_rows(stores: RawStores, user_id: str) -> RawExport:
    """The user's raw events and privacy requests from every raw store; read only."""
    export = RawExport(stores=stores.describe())
    if stores.database_url:
        events, privacy = _postgres_rows(stores, user_id)
        export.raw_events += [{**event, "store": "postgresql"} for event in events]
        export.privacy_requests += privacy
    if stores.has_embedded_events or stores.privacy_dir.is_dir():
        events, privacy = _embedded_rows(stores, user_id)
        export.raw_events += [{**event, "store": "embedded"} for event in events]
        export.privacy_requests += privacy
    export.raw_events.sort(key=lambda event: tuple(str(jsonable(event[name])) for name in _EVENT_ORDER))
    export.privacy_requests.sort(key=lambda request: request["requested_at"])
    return export
