"""Export: everything stored about one user as one JSON document (SPEC section 7).

The document holds the user's raw events from every raw store, their privacy requests, and their
rows of the per-user marts (`sessions`, `user_behavior_profile`, `user_engagement_30d`). The
aggregate marts (perfume stats, trending, post engagement) hold no row of any single user and are
not part of it. Rows are selected by `user_id` only, so nothing about another person can appear.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
from psycopg.rows import dict_row

from ingest_service.lifecycle.embedded_rewrite import data_files, store_lock
from ingest_service.lifecycle.stores import (
    POSTGRES_EVENTS,
    POSTGRES_PRIVACY_LOG,
    RawStores,
    postgres_has_raw_tables,
)
from ingest_service.lifecycle.warehouse import WarehouseLocation
from ingest_service.storage.parquet_files import EMPTY_FILE_NAME
from ingest_service.storage.raw_schema import PRIVACY_EVENT_COLUMNS, RAW_EVENT_COLUMN_NAMES

EXPORT_FORMAT_VERSION = 1
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
    with stores.connect() as connection:
        if not postgres_has_raw_tables(connection):
            return [], []
        connection.execute("set time zone 'UTC'")
        with connection.cursor(row_factory=dict_row) as cursor:
            events = cursor.execute(
                f"select {', '.join(RAW_EVENT_COLUMN_NAMES)} from {POSTGRES_EVENTS} where user_id = %s",
                (user_id,),
            ).fetchall()
            privacy = cursor.execute(
                f"select user_id, action, requested_at from {POSTGRES_PRIVACY_LOG} where user_id = %s",
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
    privacy = _parquet_rows(stores.privacy_log_dir, privacy_columns, user_id)
    return events, privacy


def export_user(stores: RawStores, warehouse: WarehouseLocation, user_id: str) -> dict[str, Any]:
    """The export document of `user_id` (see the module docstring); read only."""
    raw_events: list[dict] = []
    privacy_requests: list[dict] = []
    if stores.database_url:
        events, privacy = _postgres_rows(stores, user_id)
        raw_events += [{**event, "store": "postgresql"} for event in events]
        privacy_requests += privacy
    if stores.has_embedded_events or stores.privacy_log_dir.is_dir():
        events, privacy = _embedded_rows(stores, user_id)
        raw_events += [{**event, "store": "embedded"} for event in events]
        privacy_requests += privacy
    raw_events.sort(key=lambda event: tuple(str(jsonable(event[name])) for name in _EVENT_ORDER))
    privacy_requests.sort(key=lambda request: request["requested_at"])

    marts = warehouse.rows_of_user(user_id)
    profiles = marts.get("user_behavior_profile", [])
    return jsonable(
        {
            "format_version": EXPORT_FORMAT_VERSION,
            "user_id": user_id,
            "exported_at": datetime.now(UTC),
            "sources": {"raw": stores.describe(), "warehouse": warehouse.describe() if marts else None},
            "raw_events": raw_events,
            "privacy_requests": privacy_requests,
            "sessions": sorted(marts.get("sessions", []), key=lambda row: str(jsonable(row["started_at"]))),
            "profile": profiles[0] if profiles else None,
            "engagement_by_event_type": sorted(
                marts.get("user_engagement_30d", []), key=lambda row: row["event_type"]
            ),
        }
    )


def write_export(document: dict[str, Any], path: Path) -> Path:
    """Write the document as UTF-8 JSON; the file appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_name(f".{path.name}.tmp")
    tmp_path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp_path.replace(path)
    return path
