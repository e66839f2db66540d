"""The PostgreSQL raw store as the upkeep jobs reach it: a connection with a clear error, and
whether the ingest service ever created the tables."""

from __future__ import annotations

import psycopg

from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import PRIVACY_EVENTS_RELATION, RAW_EVENTS_RELATION
from ingest_service.upkeep.errors import LifecycleError

__all__ = ["PRIVACY_EVENTS_RELATION", "RAW_EVENTS_RELATION", "connect", "has_raw_tables"]


def connect(stores: RawStores) -> psycopg.Connection:
    """A connection to the PostgreSQL store; a clear error when it is unreachable."""
    if not stores.database_url:
        raise LifecycleError("DATABASE_URL is not set, so there is no PostgreSQL store")
    try:
        return psycopg.connect(stores.database_url, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise LifecycleError(
            f"cannot connect to PostgreSQL ({exc}); check DATABASE_URL and that the server runs"
        ) from exc


def has_raw_tables(connection: psycopg.Connection, relation: str = RAW_EVENTS_RELATION) -> bool:
    """False on a database the ingest service never initialised (nothing to delete or export), or,
    for another `relation`, one initialised by a version that did not create that table yet."""
    row = connection.execute("select to_regclass(%s) is not null", (relation,)).fetchone()
    return bool(row and row[0])
