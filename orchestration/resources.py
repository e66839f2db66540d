"""Resources shared by the areas: the raw event store and the warehouse, for both storage modes.

Each resource reads one store the same way whatever the engine, so the assets, checks, the sensor
and the weekly report never branch on DuckDB vs PostgreSQL themselves. Connection URLs are
configured with `EnvVar("DATABASE_URL")`, so the secret is resolved at run time and never shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import psycopg
from psycopg.rows import dict_row

from ingest_service.storage.parquet_files import ensure_store
from ingest_service.storage.raw_schema import (
    PRIVACY_EVENTS_ARROW_SCHEMA,
    PRIVACY_EVENTS_TABLE,
    RAW_EVENTS_ARROW_SCHEMA,
    RAW_EVENTS_TABLE,
    RAW_SCHEMA_NAME,
)
from orchestration.environment import environment_overrides
from orchestration.settings import postgres_env_from_url


@dataclass(frozen=True)
class RawEventsSummary:
    row_count: int
    latest_received_at: datetime | None


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class RawEventStore(dg.ConfigurableResource):
    """The raw events as the ingest service stored them (read only)."""

    data_dir: str
    database_url: str | None = None

    @property
    def location(self) -> str:
        if self.database_url:
            return f"PostgreSQL {RAW_SCHEMA_NAME}.{RAW_EVENTS_TABLE}"
        return str(Path(self.data_dir) / "raw" / RAW_EVENTS_TABLE)

    def ensure_embedded_store(self) -> None:
        """Create the embedded store's directories (with their empty schema files) if missing, so
        dbt can read the sources before the ingest service has ever run."""
        if self.database_url:
            return
        raw_dir = Path(self.data_dir) / "raw"
        ensure_store(raw_dir / RAW_EVENTS_TABLE, RAW_EVENTS_ARROW_SCHEMA)
        ensure_store(raw_dir / PRIVACY_EVENTS_TABLE, PRIVACY_EVENTS_ARROW_SCHEMA)

    def summary(self, received_after: datetime | None = None) -> RawEventsSummary:
        """Rows received after `received_after` (all rows when None) and the newest `received_at`."""
        since = received_after or datetime(1970, 1, 1, tzinfo=UTC)
        if self.database_url:
            return self._postgres_summary(since)
        return self._parquet_summary(since)

    def _parquet_summary(self, since: datetime) -> RawEventsSummary:
        directory = Path(self.data_dir) / "raw" / RAW_EVENTS_TABLE
        if not any(directory.glob("*.parquet")):
            return RawEventsSummary(0, None)
        # An in-memory DuckDB: the files are immutable, so reading them never blocks the writer.
        with duckdb.connect() as connection:
            connection.execute("set TimeZone = 'UTC'")
            count, latest = connection.execute(
                "select count(*), max(received_at) from read_parquet(?) where received_at > ?",
                [str(directory / "*.parquet"), since],
            ).fetchone()
        return RawEventsSummary(int(count), _as_utc(latest))

    def _postgres_summary(self, since: datetime) -> RawEventsSummary:
        try:
            with psycopg.connect(self.database_url, connect_timeout=10) as connection:
                count, latest = connection.execute(
                    f"select count(*), max(received_at) from {RAW_SCHEMA_NAME}.{RAW_EVENTS_TABLE}"
                    " where received_at > %s",
                    (since,),
                ).fetchone()
        except psycopg.errors.UndefinedTable:
            raise RuntimeError(
                f"{RAW_SCHEMA_NAME}.{RAW_EVENTS_TABLE} does not exist in DATABASE_URL's database: "
                "start the ingest service once with the same DATABASE_URL (it creates the table)."
            ) from None
        return RawEventsSummary(int(count), _as_utc(latest))


class Warehouse(dg.ConfigurableResource):
    """Where dbt builds the marts: a DuckDB file (target `dev`) or a PostgreSQL schema (`prod`)."""

    data_dir: str
    duckdb_path: str
    database_url: str | None = None
    pg_schema: str = "analytics"

    @property
    def engine(self) -> str:
        return "postgres" if self.database_url else "duckdb"

    def dbt_env(self) -> dict[str, str]:
        """What the dbt profiles read: absolute paths (dbt runs inside `dbt_project/`) and `PG*`."""
        env = {"DATA_DIR": self.data_dir, "DBT_DUCKDB_PATH": self.duckdb_path}
        if self.database_url:
            env |= postgres_env_from_url(self.database_url)
            env |= {"DBT_PG_SCHEMA": self.pg_schema, "DATABASE_URL": self.database_url}
        return env

    @contextmanager
    def dbt_environment(self) -> Iterator[None]:
        """dagster-dbt hands `os.environ` to the dbt process, so the variables go there for the call."""
        with environment_overrides(self.dbt_env()):
            yield

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Run one read-only query against the marts' schema; timestamps come back in UTC."""
        if self.database_url:
            with psycopg.connect(self.database_url, connect_timeout=10, row_factory=dict_row) as connection:
                connection.execute("set time zone 'UTC'")
                connection.execute(f'set search_path to "{self.pg_schema}", public')
                return list(connection.execute(sql).fetchall())
        with duckdb.connect(self.duckdb_path, read_only=True) as connection:
            connection.execute("set TimeZone = 'UTC'")
            cursor = connection.execute(sql)
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
