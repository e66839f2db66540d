"""Opt-out, opt-in and the erasure record, written to the privacy log the ingest service reads.

The log lives where the ingest service writes (PostgreSQL `raw.user_privacy_events` when
`DATABASE_URL` is set, else the embedded store); the ingest service drops an opted-out user's
events from the moment the row exists, and the next dbt run re-derives every user with a new row.
Writing goes through the ingest service's own `privacy_log` functions, so both read the same log.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from ingest_service.event_types import MAX_USER_ID
from ingest_service.storage import privacy_log
from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import POSTGRES_DDL
from ingest_service.upkeep.errors import LifecycleError
from ingest_service.upkeep.postgres_store import connect, has_raw_tables


def validate_user_id(user_id: str) -> str:
    """User ids are text of 1..128 characters (SPEC section 1); anything else is a caller's mistake."""
    if not isinstance(user_id, str) or not user_id.strip():
        raise LifecycleError("user id must be a non-empty string")
    if len(user_id) > MAX_USER_ID:
        raise LifecycleError(f"user id must be at most {MAX_USER_ID} characters (got {len(user_id)})")
    return user_id


def record_request(stores: RawStores, user_id: str, action: str) -> datetime:
    """Append one `opt_out` / `opt_in` / `erase` row for `user_id`; returns its `requested_at`."""
    validate_user_id(user_id)
    if not stores.database_url:
        return privacy_log.record_privacy_action(stores.privacy_dir, user_id, action)
    try:
        with connect(stores) as connection:
            # a request may come before the ingest service first started on this database
            if not has_raw_tables(connection):
                connection.execute(POSTGRES_DDL)
            return privacy_log.record_privacy_action(connection, user_id, action)
    except psycopg.Error as exc:
        raise LifecycleError(f"could not write the privacy log in PostgreSQL: {exc}") from exc


def opted_out(stores: RawStores, user_id: str) -> bool:
    """Whether the user's latest opt-out/opt-in request is an opt-out."""
    return user_id in privacy_log.opted_out_users(stores.privacy_store, [user_id])
