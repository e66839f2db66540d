"""Opt-out, opt-in and the erasure record, written to the privacy log the ingest service reads.

The log lives where the ingest service writes (PostgreSQL `raw.user_privacy_events` when
`DATABASE_URL` is set, else the embedded store); the ingest service drops an opted-out user's
events from the moment the row exists, and the next dbt run re-derives every user with a new row.
Writing goes through the ingest service's own `privacy_log` functions, so both read the same log.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from ingest_service.lifecycle.stores import (
    LifecycleError,
    RawStores,
    postgres_has_raw_tables,
    validate_user_id,
)
from ingest_service.storage import privacy_log
from ingest_service.storage.raw_schema import POSTGRES_DDL


def record_request(stores: RawStores, user_id: str, action: str) -> datetime:
    """Append one `opt_out` / `opt_in` / `erase` row for `user_id`; returns its `requested_at`."""
    validate_user_id(user_id)
    if not stores.database_url:
        return privacy_log.record_privacy_action(stores.privacy_log_dir, user_id, action)
    try:
        with stores.connect() as connection:
            # a request may come before the ingest service first started on this database
            if not postgres_has_raw_tables(connection):
                connection.execute(POSTGRES_DDL)
            return privacy_log.record_privacy_action(connection, user_id, action)
    except psycopg.Error as exc:
        raise LifecycleError(f"could not write the privacy log in PostgreSQL: {exc}") from exc


def opted_out(stores: RawStores, user_id: str) -> bool:
    """Whether the user's latest opt-out/opt-in request is an opt-out."""
    store = stores.database_url or stores.privacy_log_dir
    return user_id in privacy_log.opted_out_users(store, [user_id])
