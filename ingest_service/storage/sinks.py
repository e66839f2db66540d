"""Where accepted rows go: one small interface, a PostgreSQL and an embedded Parquet implementation.

`append(rows)` is durable when it returns (committed / fsynced) and drops the rows of opted-out
users, checking the privacy log at write time so an opt-out written before the write is never
missed. It raises `StorageUnavailable` when the store cannot take the rows; nothing of that call is
then stored.

PostgreSQL is driven with psycopg's async pool on the event loop: formatting the COPY there, while
the loop waits on the network without blocking, is faster than a worker thread, which would
contend with the event loop for the GIL on every request. The Parquet sink writes in a worker
thread (pyarrow and the fsyncs release the GIL).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

import psycopg
import psycopg.errors
import pyarrow as pa
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from ingest_service.errors import RejectedByStore, StorageUnavailable
from ingest_service.settings import StorageSettings
from ingest_service.storage.bulk_load import (
    copy_rejected_rows_postgres_async,
    copy_rows_postgres_async,
    rejected_rows_to_arrow,
    rows_to_arrow,
)
from ingest_service.storage.locations import RawStores
from ingest_service.storage.parquet_files import (
    TMP_SUFFIX,
    ensure_store,
    remove_stale_temporary_files,
    write_parquet_atomically,
)
from ingest_service.storage.privacy_log import (
    INSERT_SQL,
    OPTED_OUT_AMONG_SQL,
    EmbeddedOptOutCache,
    record_privacy_action,
)
from ingest_service.storage.raw_schema import (
    POSTGRES_DDL,
    RAW_EVENTS_ARROW_SCHEMA,
)

logger = logging.getLogger("ingest_service.storage")

Row = dict[str, Any]


class Sink(Protocol):
    name: str

    async def open(self) -> None:
        """Prepare the store; must not fail when it is down (the service starts anyway)."""

    async def append(self, rows: Sequence[Row]) -> int:
        """Store `rows` durably, minus opted-out users' rows; returns how many were written."""

    async def append_rejected(self, rows: Sequence[Row]) -> int:
        """Store rejected events (SPEC §11), minus opted-out users' rows; returns how many were written."""

    async def record_privacy_action(self, user_id: str, action: str) -> None:
        """Append to the privacy log, durably."""

    async def ready(self) -> bool:
        """Whether the store is reachable and writable now."""

    async def close(self) -> None: ...


def _without_opted_out(rows: Sequence[Row], opted_out: set[str]) -> Sequence[Row]:
    if not opted_out:
        return rows
    return [row for row in rows if row["user_id"] not in opted_out]


def _user_ids(rows: Sequence[Row]) -> list[str]:
    return sorted({row["user_id"] for row in rows if row["user_id"] is not None})


def migrate_postgres(connection: psycopg.Connection) -> None:
    """Create the raw schema, tables and indexes if missing (idempotent)."""
    connection.execute(POSTGRES_DDL)


_POSTGRES_DOWN = (psycopg.Error, PoolTimeout, OSError)
#: how long one background series of reconnection attempts lasts (attempts at 0, 1 and 2 s)
RECONNECT_SERIES_S = 2.0
#: errors about the data, not the store: retrying the same rows would fail again. Validation keeps
#: such values out; this is the safety net that makes one bad row fail only its own request (the
#: group-commit writer then writes each request of the group alone). Encoding and formatting
#: errors are raised while the COPY is formatted, before anything is committed.
_POSTGRES_BAD_DATA = (
    psycopg.errors.DataError,
    psycopg.errors.IntegrityError,
    UnicodeError,
    ValueError,
    TypeError,
)
_ARROW_BAD_DATA = (UnicodeError, ValueError, TypeError, pa.ArrowException)


async def open_pool(
    database_url: str, size: int, timeout_s: float, name: str, **connection_options: object
) -> AsyncConnectionPool:
    """An async pool of autocommit connections, opened without waiting for the server (a service
    starts while PostgreSQL is down); must be called inside the running loop."""
    pool = AsyncConnectionPool(
        database_url,
        min_size=1,
        max_size=size,
        open=False,
        timeout=timeout_s,
        kwargs={
            "connect_timeout": max(1, math.ceil(timeout_s)),
            "application_name": "ingest_service",
            "autocommit": True,
            **connection_options,
        },
        # psycopg_pool doubles the wait between reconnection attempts without a ceiling (1, 2,
        # 4… s), so after a long outage the pool would come back minutes after PostgreSQL did.
        # Ending each series early keeps the gaps short: once a series gives up, the next
        # request that finds no connection starts a fresh one, whose first attempt is at once.
        reconnect_timeout=RECONNECT_SERIES_S,
        name=name,
    )
    await pool.open(wait=False)
    return pool


class PostgresSink:
    """`raw.interaction_events` through an async psycopg pool; one COPY and one commit per group."""

    name = "postgres"

    def __init__(self, database_url: str, pool_size: int = 4, timeout_s: float = 3.0) -> None:
        self._database_url = database_url
        self._pool_size = pool_size
        self._timeout_s = timeout_s
        self._schema_ready = False
        self._pool: AsyncConnectionPool | None = None

    async def open(self) -> None:
        # one COPY is one transaction, committed (and flushed, synchronous_commit) before
        # PostgreSQL answers it: no BEGIN/COMMIT round trips on the hot path
        self._pool = await open_pool(self._database_url, self._pool_size, self._timeout_s, "ingest")
        try:
            await self._ensure_schema()
        except StorageUnavailable as error:
            logger.warning(
                "PostgreSQL not reachable at startup (%s); tables are created on first write", error.detail
            )

    async def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        try:
            async with self._pool.connection() as connection:
                await connection.execute(POSTGRES_DDL)
        except _POSTGRES_DOWN as error:
            raise StorageUnavailable(type(error).__name__) from error
        self._schema_ready = True

    async def append(self, rows: Sequence[Row]) -> int:
        await self._ensure_schema()
        # Connections are not pinged on checkout (a round trip per write); one that died while
        # idle (server restart) fails at once, is dropped by the pool, and the write moves on to
        # another. Retrying is safe: a failed COPY stored nothing, and if only its answer was lost
        # the rows are stored twice with the same event ids, which staging deduplicates.
        for attempt in range(self._pool_size + 1):
            connection = None
            try:
                async with self._pool.connection() as connection:
                    return await self._append_on(connection, rows)
            except _POSTGRES_BAD_DATA as error:
                raise RejectedByStore(type(error).__name__) from error
            except _POSTGRES_DOWN as error:
                if connection is not None and connection.broken and attempt < self._pool_size:
                    continue
                raise StorageUnavailable(type(error).__name__) from error
        raise StorageUnavailable("no working connection")

    @staticmethod
    async def _kept(connection: psycopg.AsyncConnection, rows: Sequence[Row]) -> Sequence[Row]:
        users = _user_ids(rows)
        if not users:
            return rows
        cursor = await connection.execute(OPTED_OUT_AMONG_SQL, (users,))
        return _without_opted_out(rows, {row[0] for row in await cursor.fetchall()})

    async def _append_on(self, connection: psycopg.AsyncConnection, rows: Sequence[Row]) -> int:
        # autocommit: when this returns, PostgreSQL has committed and flushed the COPY
        return await copy_rows_postgres_async(connection, await self._kept(connection, rows))

    async def append_rejected(self, rows: Sequence[Row]) -> int:
        await self._ensure_schema()
        async with self._pool.connection() as connection:
            return await copy_rejected_rows_postgres_async(connection, await self._kept(connection, rows))

    async def record_privacy_action(self, user_id: str, action: str) -> None:
        await self._ensure_schema()
        try:
            async with self._pool.connection() as connection:
                await connection.execute(INSERT_SQL, (user_id, action, datetime.now(UTC)))
        except _POSTGRES_BAD_DATA as error:
            raise RejectedByStore(type(error).__name__) from error
        except _POSTGRES_DOWN as error:
            raise StorageUnavailable(type(error).__name__) from error

    async def ready(self) -> bool:
        try:
            await self._ensure_schema()
            async with self._pool.connection(timeout=min(self._timeout_s, 1.0)) as connection:
                await connection.execute("select 1")
            return True
        except (*_POSTGRES_DOWN, StorageUnavailable):
            return False

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()


_PROBE_BYTES = b"\0" * (64 * 1024)


class ParquetSink:
    """The embedded store: one immutable Parquet file per group, written atomically."""

    name = "embedded"

    def __init__(self, stores: RawStores) -> None:
        self.stores = stores
        self.events_dir = stores.events_dir
        self.privacy_dir = stores.privacy_dir
        self.rejected_dir = stores.rejected_dir
        self._opt_outs = EmbeddedOptOutCache(self.privacy_dir)

    async def open(self) -> None:
        try:
            await asyncio.to_thread(self._prepare)
        except OSError as error:
            logger.warning("embedded store not writable at startup: %s", error)

    def _prepare(self) -> None:
        for directory, schema in self.stores.embedded_tables():
            ensure_store(directory, schema)
            removed = remove_stale_temporary_files(directory)
            if removed:
                logger.info("removed %d temporary files a killed writer left in %s", removed, directory)

    def _kept(self, rows: Sequence[Row]) -> Sequence[Row]:
        users = _user_ids(rows)
        return _without_opted_out(rows, self._opt_outs.opted_out(users)) if users else rows

    def _append_rejected(self, rows: Sequence[Row]) -> int:
        kept = self._kept(rows)
        if kept:
            write_parquet_atomically(self.rejected_dir, rejected_rows_to_arrow(kept))
        return len(kept)

    async def append_rejected(self, rows: Sequence[Row]) -> int:
        return await asyncio.to_thread(self._append_rejected, rows)

    def _append(self, rows: Sequence[Row]) -> int:
        kept = self._kept(rows)
        if not kept:
            return 0
        try:
            table = rows_to_arrow(kept)
        except _ARROW_BAD_DATA as error:  # before any file is written
            raise RejectedByStore(type(error).__name__) from error
        write_parquet_atomically(self.events_dir, table)
        return len(kept)

    async def append(self, rows: Sequence[Row]) -> int:
        try:
            return await asyncio.to_thread(self._append, rows)
        except OSError as error:
            raise StorageUnavailable(f"{type(error).__name__}: {error.strerror}") from error

    async def record_privacy_action(self, user_id: str, action: str) -> None:
        try:
            await asyncio.to_thread(record_privacy_action, self.privacy_dir, user_id, action)
        except _ARROW_BAD_DATA as error:
            raise RejectedByStore(type(error).__name__) from error
        except OSError as error:
            raise StorageUnavailable(f"{type(error).__name__}: {error.strerror}") from error

    def _ready(self) -> bool:
        """Whether a write can succeed now: write, fsync and remove a probe about the size of a
        group's file (a full disk still lets a directory be listed and `access()` say writable)."""
        ensure_store(self.events_dir, RAW_EVENTS_ARROW_SCHEMA)
        probe = self.events_dir / f".ready-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}{TMP_SUFFIX}"
        try:
            with open(probe, "wb") as handle:
                handle.write(_PROBE_BYTES)
                handle.flush()
                os.fsync(handle.fileno())
        finally:
            probe.unlink(missing_ok=True)
        return True

    async def ready(self) -> bool:
        try:
            return await asyncio.to_thread(self._ready)
        except OSError:
            return False

    async def close(self) -> None:
        pass


def make_sink(storage: StorageSettings) -> Sink:
    if storage.database_url:
        return PostgresSink(storage.database_url, storage.pool_size, storage.connect_timeout_s)
    return ParquetSink(storage.raw_stores)
