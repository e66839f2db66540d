"""The raw half of an export (SPEC section 7): one user's raw events, rejected events and privacy
requests.

The events are the user's data as `user_data` finds it over every stored event: their own and the
stitched ones (resolved to them through their sessions and browsers), each marked; read from every
raw store that exists, in the spec's event order. Their rejected events (SPEC section 11) are the
ones an erasure deletes (`user_data.rejected_of_user_*`): with their verified user id, or without
one, sent from their sessions or browsers. The warehouse half (marts, identity map) is assembled by
the orchestration, which also writes the one JSON document.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow.parquet as pq
from psycopg.rows import dict_row

from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import REJECTED_EVENT_COLUMN_NAMES, REJECTED_EVENTS_RELATION
from ingest_service.upkeep.embedded_rewrite import data_files, store_lock
from ingest_service.upkeep.postgres_store import PRIVACY_EVENTS_RELATION, connect, has_raw_tables
from ingest_service.upkeep.user_data import (
    REJECTED_OF_USER_SQL,
    UserData,
    find_user_data,
    rejected_of_user_mask,
    rejected_of_user_parameters,
)


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


def _postgres_privacy(stores: RawStores, user_id: str) -> list[dict]:
    with connect(stores) as connection:
        if not has_raw_tables(connection):
            return []
        connection.execute("set time zone 'UTC'")
        with connection.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(
                f"select user_id, action, requested_at from {PRIVACY_EVENTS_RELATION} where user_id = %s",
                (user_id,),
            ).fetchall()


def _embedded_privacy(stores: RawStores, user_id: str) -> list[dict]:
    files = data_files(stores.privacy_dir)
    if not files:
        return []
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        cursor = connection.execute(
            "select user_id, action, requested_at from read_parquet(?) where user_id = ?",
            [[str(path) for path in files], user_id],
        )
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _postgres_rejected(stores: RawStores, data: UserData) -> list[dict]:
    with connect(stores) as connection:
        if not has_raw_tables(connection, REJECTED_EVENTS_RELATION):
            return []
        connection.execute("set time zone 'UTC'")
        with connection.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(
                f"select {', '.join(REJECTED_EVENT_COLUMN_NAMES)} from {REJECTED_EVENTS_RELATION}"
                f" where {REJECTED_OF_USER_SQL}",
                rejected_of_user_parameters(data),
            ).fetchall()


def _embedded_rejected(stores: RawStores, data: UserData) -> list[dict]:
    rows: list[dict] = []
    # the lock keeps retention/erasure/replay from replacing a file between listing and reading
    with store_lock(stores.rejected_dir):
        for path in data_files(stores.rejected_dir):
            table = pq.read_table(path)
            for row in table.filter(rejected_of_user_mask(table, data)).to_pylist():
                # files kept before a column was added lack it
                rows.append({name: row.get(name) for name in REJECTED_EVENT_COLUMN_NAMES})
    return rows


@dataclass
class RawExport:
    """One user's rows in the raw stores."""

    raw_events: list[dict[str, Any]] = field(default_factory=list)
    """Every delivery of their events, each with the `store` it came from and whether it is
    `stitched` (no user id of its own: theirs through its session or browser)."""
    rejected_events: list[dict[str, Any]] = field(default_factory=list)
    """Their rejected events (every column of `raw.rejected_events`, `event` as the text kept),
    each with the `store` it came from, in `received_at` order."""
    privacy_requests: list[dict[str, Any]] = field(default_factory=list)
    stores: list[str] = field(default_factory=list)


def export_raw_rows(stores: RawStores, user_id: str) -> RawExport:
    """The user's raw events (their own and the stitched ones, marked `stitched`, every delivery),
    rejected events and privacy requests from every raw store; read only."""
    data = find_user_data(stores, user_id)
    export = RawExport(stores=stores.describe())
    export.raw_events = [
        {**delivery, "stitched": delivery["event_id"] in data.stitched_event_ids}
        for delivery in data.deliveries
    ]
    if stores.database_url:
        export.rejected_events += [{**row, "store": "postgresql"} for row in _postgres_rejected(stores, data)]
    if stores.rejected_dir.is_dir():
        export.rejected_events += [{**row, "store": "embedded"} for row in _embedded_rejected(stores, data)]
    export.rejected_events.sort(key=lambda row: (row["received_at"], str(row["rejection_id"]), row["store"]))
    if stores.database_url:
        export.privacy_requests += _postgres_privacy(stores, user_id)
    if stores.privacy_dir.is_dir():
        export.privacy_requests += _embedded_privacy(stores, user_id)
    export.privacy_requests.sort(key=lambda request: request["requested_at"])
    return export
