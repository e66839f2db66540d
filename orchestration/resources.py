"""Resources shared by the areas: the raw event store and the warehouse, for both storage modes.

Each resource is a thin, configurable handle on one of the shared descriptions (`RawStores`,
`WarehouseTarget`), so the assets, checks, the sensor, the lifecycle jobs and the weekly report
never branch on DuckDB vs PostgreSQL themselves. Connection URLs are configured with
`EnvVar("DATABASE_URL")`, resolved at run time and never shown; nothing re-reads the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import psycopg

from ingest_service.settings import DEFAULT_RETENTION_DAYS
from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import (
    PRIVACY_EVENTS_RELATION,
    RAW_EVENTS_RELATION,
    REJECTED_EVENTS_RELATION,
)
from orchestration.warehouse import WarehouseTarget, sql_identifier


@dataclass(frozen=True)
class RawEventsSummary:
    row_count: int
    latest_received_at: datetime | None


def _as_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class RawEventStore(dg.ConfigurableResource):
    """The raw stores as the ingest service writes them, and how long raw events are kept."""

    data_dir: str
    database_url: str | None = None
    retention_days: int = DEFAULT_RETENTION_DAYS

    @property
    def stores(self) -> RawStores:
        return RawStores(data_dir=Path(self.data_dir), database_url=self.database_url)

    @property
    def exports_dir(self) -> Path:
        return Path(self.data_dir) / "exports"

    @property
    def location(self) -> str:
        if self.database_url:
            return f"PostgreSQL {RAW_EVENTS_RELATION}"
        return str(self.stores.events_dir)

    def ensure_embedded_store(self) -> None:
        """Create the embedded store's directories (with their empty schema files) if missing, so
        dbt can read the sources before the ingest service has ever run."""
        if self.database_url:
            return
        self.stores.ensure_embedded()

    def summary(self, received_after: datetime | None = None) -> RawEventsSummary:
        """Rows received after `received_after` (all rows when None) and the newest `received_at`."""
        return self._table_summary(RAW_EVENTS_RELATION, self.stores.events_dir, "received_at", received_after)

    def rejected_summary(self, received_after: datetime | None = None) -> RawEventsSummary:
        """`summary` of the rejected events (SPEC section 11)."""
        return self._table_summary(
            REJECTED_EVENTS_RELATION, self.stores.rejected_dir, "received_at", received_after
        )

    def privacy_summary(self) -> RawEventsSummary:
        """The privacy log's size and its newest `requested_at`."""
        return self._table_summary(PRIVACY_EVENTS_RELATION, self.stores.privacy_dir, "requested_at", None)

    def _table_summary(
        self, relation: str, directory: Path, time_column: str, after: datetime | None
    ) -> RawEventsSummary:
        since = after or datetime(1970, 1, 1, tzinfo=UTC)
        if self.database_url:
            return self._postgres_summary(relation, time_column, since)
        return self._parquet_summary(directory, time_column, since)

    @staticmethod
    def _parquet_summary(directory: Path, time_column: str, since: datetime) -> RawEventsSummary:
        if not any(directory.glob("*.parquet")):
            return RawEventsSummary(0, None)
        # An in-memory DuckDB: the files are immutable, so reading them never blocks the writer.
        # `union_by_name`: files written before a column was added lack it.
        with duckdb.connect() as connection:
            connection.execute("set TimeZone = 'UTC'")
            count, latest = connection.execute(
                f"select count(*), max({time_column}) from read_parquet(?, union_by_name = true)"
                f" where {time_column} > ?",
                [str(directory / "*.parquet"), since],
            ).fetchone()
        return RawEventsSummary(int(count), _as_utc(latest))

    def _postgres_summary(self, relation: str, time_column: str, since: datetime) -> RawEventsSummary:
        try:
            with psycopg.connect(self.database_url, connect_timeout=10) as connection:
                count, latest = connection.execute(
                    f"select count(*), max({time_column}) from {relation} where {time_column} > %s",
                    (since,),
                ).fetchone()
        except psycopg.errors.UndefinedTable:
            raise RuntimeError(
                f"{relation} does not exist in DATABASE_URL's database: "
                "start the ingest service once with the same DATABASE_URL (it creates the table)."
            ) from None
        return RawEventsSummary(int(count), _as_utc(latest))


class Warehouse(dg.ConfigurableResource):
    """Where dbt builds the marts: a DuckDB file (target `dev`) or a PostgreSQL schema (`prod`)."""

    data_dir: str
    duckdb_path: str
    database_url: str | None = None
    pg_schema: str = "analytics"

    @classmethod
    def of(cls, target: WarehouseTarget, database_url: Any = None) -> Warehouse:
        """The resource for `target`; `database_url` may be an `EnvVar` (resolved per run)."""
        return cls(
            data_dir=str(target.data_dir),
            duckdb_path=str(target.duckdb_path),
            database_url=database_url if database_url is not None else target.database_url,
            pg_schema=target.pg_schema,
        )

    @property
    def target(self) -> WarehouseTarget:
        return WarehouseTarget(
            data_dir=Path(self.data_dir),
            duckdb_path=Path(self.duckdb_path),
            database_url=self.database_url,
            pg_schema=sql_identifier(self.pg_schema),
        )

    @contextmanager
    def dbt_environment(self) -> Iterator[None]:
        with self.target.dbt_environment():
            yield

    @contextmanager
    def writer_lock(self, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
        with self.target.writer_lock(on_wait=on_wait):
            yield

    def query(self, sql: str) -> list[dict[str, Any]]:
        """One read-only query against the marts' schema; timestamps come back in UTC."""
        return self.target.query(sql)
