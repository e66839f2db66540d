"""Where a user's raw data lives: the PostgreSQL raw schema and/or the embedded Parquet store.

Lifecycle operations act on every store that exists, not only the one the ingest service writes
to now: a deployment that moved from the embedded store to PostgreSQL still holds old Parquet
files, and an erasure or a retention run that left them behind would not be one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import psycopg

from ingest_service.settings import Settings
from ingest_service.storage.raw_schema import PRIVACY_EVENTS_TABLE, RAW_EVENTS_TABLE, RAW_SCHEMA_NAME

POSTGRES_EVENTS = f"{RAW_SCHEMA_NAME}.{RAW_EVENTS_TABLE}"
POSTGRES_PRIVACY_LOG = f"{RAW_SCHEMA_NAME}.{PRIVACY_EVENTS_TABLE}"


class LifecycleError(Exception):
    """A lifecycle request that cannot be carried out; the message says what to do."""


@dataclass(frozen=True)
class RawStores:
    """The raw stores of one deployment."""

    database_url: str | None
    """`DATABASE_URL`: the PostgreSQL database holding `raw.*`; None when there is no server."""

    data_dir: Path
    """`DATA_DIR`: root of the embedded store (`raw/interaction_events`, `raw/user_privacy_events`)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> RawStores:
        return cls(database_url=settings.database_url, data_dir=settings.data_dir)

    @property
    def events_dir(self) -> Path:
        return self.data_dir / RAW_SCHEMA_NAME / RAW_EVENTS_TABLE

    @property
    def privacy_log_dir(self) -> Path:
        return self.data_dir / RAW_SCHEMA_NAME / PRIVACY_EVENTS_TABLE

    @property
    def has_embedded_events(self) -> bool:
        return self.events_dir.is_dir()

    def connect(self) -> psycopg.Connection:
        """A connection to the PostgreSQL store; a clear error when it is unreachable."""
        if not self.database_url:
            raise LifecycleError("DATABASE_URL is not set, so there is no PostgreSQL store")
        try:
            return psycopg.connect(self.database_url, connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise LifecycleError(
                f"cannot connect to PostgreSQL ({exc}); check DATABASE_URL and that the server runs"
            ) from exc

    def describe(self) -> list[str]:
        """Names of the stores that exist, for reports."""
        names = []
        if self.database_url:
            names.append("postgresql")
        if self.has_embedded_events:
            names.append("embedded")
        return names


def postgres_has_raw_tables(connection: psycopg.Connection) -> bool:
    """False on a database the ingest service never initialised (nothing to delete or export)."""
    row = connection.execute("select to_regclass(%s) is not null", (POSTGRES_EVENTS,)).fetchone()
    return bool(row and row[0])


def validate_user_id(user_id: str) -> str:
    """User ids are text of 1..128 characters (SPEC section 1); anything else is a caller's mistake."""
    if not isinstance(user_id, str) or not user_id.strip():
        raise LifecycleError("user id must be a non-empty string")
    if len(user_id) > 128:
        raise LifecycleError(f"user id must be at most 128 characters (got {len(user_id)})")
    return user_id
