"""Settings of the ingest service, read from the environment by `Settings.from_env()`.

Nothing is read at import time: tests and other parts (lifecycle jobs, orchestration) build a
`Settings` from their own environment mapping whenever they need one. Secrets (API keys, the JWT
secret) are kept out of `repr`, so printing or logging a Settings never leaks them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ingest_service.environment import SettingsError, env_float, env_int, env_list
from ingest_service.storage.locations import (
    DEFAULT_DATA_DIR,
    DEFAULT_MARTS_SCHEMA,
    RawStores,
    data_dir_from_env,
    database_url_from_env,
    marts_schema_from_env,
)

__all__ = ["DEFAULT_RETENTION_DAYS", "Settings", "SettingsError"]

#: `RETENTION_DAYS` when unset: raw events older than this many days are deleted by the upkeep job
DEFAULT_RETENTION_DAYS = 90


@dataclass(frozen=True)
class ServerSettings:
    host: str = "127.0.0.1"
    """`INGEST_HOST`: interface the HTTP server listens on."""
    port: int = 8000
    """`INGEST_PORT`: TCP port the HTTP server listens on."""
    workers: int = 1
    """`INGEST_WORKERS`: uvicorn worker processes (each has its own pool and write batcher)."""


@dataclass(frozen=True)
class StorageSettings:
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    """`DATABASE_URL`: a `postgresql://` URL selects the PostgreSQL sink; unset → embedded store."""
    data_dir: Path = DEFAULT_DATA_DIR
    """`DATA_DIR`: root of generated data; the embedded store lives under `raw/` in it."""
    pool_size: int = 4
    """`INGEST_DB_POOL_SIZE`: PostgreSQL connections kept by one ingest process."""
    connect_timeout_s: float = 3.0
    """`INGEST_DB_CONNECT_TIMEOUT`: seconds to wait for a PostgreSQL connection before answering 503."""

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)

    @property
    def raw_stores(self) -> RawStores:
        """Where the raw stores are (the embedded store's directories, the PostgreSQL database)."""
        return RawStores(data_dir=self.data_dir, database_url=self.database_url)


@dataclass(frozen=True)
class BatchingSettings:
    max_batch_rows: int = 5000
    """`INGEST_BATCH_MAX_ROWS`: most rows one group-commit write may hold."""
    max_concurrent_writes: int = 2
    """`INGEST_BATCH_CONCURRENT_WRITES`: writes one process keeps in flight at once, so a request
    arriving during a commit does not queue behind it (keep below `INGEST_DB_POOL_SIZE`)."""
    max_wait_ms: float = 2.0
    """`INGEST_BATCH_MAX_WAIT_MS`: how long a write waits for more requests to join it when the
    store is idle (while a write is running, requests queue up on their own)."""


@dataclass(frozen=True)
class SecuritySettings:
    api_keys: tuple[str, ...] = field(default=(), repr=False)
    """`INGEST_API_KEYS`: comma-separated keys of server clients (may set userId / userAgent)."""
    jwt_secret: str | None = field(default=None, repr=False)
    """`INGEST_JWT_SECRET`: HS256 secret the web app signs user tokens with; unset → Bearer tokens
    are refused (401), since none can be verified."""
    cors_origins: tuple[str, ...] = ()
    """`INGEST_CORS_ORIGINS`: comma-separated browser origins allowed by CORS (none when unset)."""
    rate_limit_per_minute: int = 600
    """`INGEST_RATE_LIMIT_PER_MINUTE`: requests one session may make per minute (0 disables);
    above it the answer is 429 with `Retry-After`."""
    rate_limit_burst: int = 120
    """`INGEST_RATE_LIMIT_BURST`: requests one session may make at once before the rate applies."""


@dataclass(frozen=True)
class ReadSettings:
    """The read endpoints (`/api/trending`, `/api/perfumes/{id}/stats`, `/api/me/profile`)."""

    cache_max_age_s: int = 60
    """`INGEST_READ_CACHE_SECONDS` (default `NEW_EVENTS_SENSOR_INTERVAL_SECONDS`, 60): the answers'
    `Cache-Control: max-age`. A new build can publish at most once per tick of the new-events
    sensor (and on the hour), so a cached answer is at most about one tick behind; clients
    revalidate with the ETag (the build id) for a 304."""
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    """`INGEST_READ_DATABASE_URL` (default `DATABASE_URL`): the connection the read endpoints use
    in PostgreSQL mode — e.g. the read-only role of the README; only used when DATABASE_URL is set."""
    marts_schema: str = DEFAULT_MARTS_SCHEMA
    """`DBT_PG_SCHEMA`: where dbt builds the marts in PostgreSQL."""
    pool_size: int = 2
    """`INGEST_READ_POOL_SIZE`: PostgreSQL connections one process keeps for the read endpoints."""


@dataclass(frozen=True)
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    batching: BatchingSettings = field(default_factory=BatchingSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    read: ReadSettings = field(default_factory=ReadSettings)
    retention_days: int = DEFAULT_RETENTION_DAYS
    """`RETENTION_DAYS`: raw events older than this are deleted by the upkeep job."""

    # Flat aliases: the other parts only need to know where the store is.
    @property
    def database_url(self) -> str | None:
        return self.storage.database_url

    @property
    def data_dir(self) -> Path:
        return self.storage.data_dir

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build the settings from `env` (default: `os.environ`); raises SettingsError on bad values."""
        env = os.environ if env is None else env
        database_url = database_url_from_env(env)
        return cls(
            server=ServerSettings(
                host=env.get("INGEST_HOST", "").strip() or "127.0.0.1",
                port=env_int(env, "INGEST_PORT", 8000, minimum=0),
                workers=env_int(env, "INGEST_WORKERS", 1, minimum=1),
            ),
            storage=StorageSettings(
                database_url=database_url,
                data_dir=data_dir_from_env(env),
                pool_size=env_int(env, "INGEST_DB_POOL_SIZE", 4, minimum=1),
                connect_timeout_s=env_float(env, "INGEST_DB_CONNECT_TIMEOUT", 3.0, minimum=0.1),
            ),
            batching=BatchingSettings(
                max_batch_rows=env_int(env, "INGEST_BATCH_MAX_ROWS", 5000, minimum=1),
                max_wait_ms=env_float(env, "INGEST_BATCH_MAX_WAIT_MS", 2.0),
                max_concurrent_writes=env_int(env, "INGEST_BATCH_CONCURRENT_WRITES", 2, minimum=1),
            ),
            security=SecuritySettings(
                api_keys=env_list(env, "INGEST_API_KEYS"),
                jwt_secret=env.get("INGEST_JWT_SECRET", "").strip() or None,
                cors_origins=env_list(env, "INGEST_CORS_ORIGINS"),
                rate_limit_per_minute=env_int(env, "INGEST_RATE_LIMIT_PER_MINUTE", 600),
                rate_limit_burst=env_int(env, "INGEST_RATE_LIMIT_BURST", 120, minimum=1),
            ),
            read=ReadSettings(
                cache_max_age_s=env_int(
                    env,
                    "INGEST_READ_CACHE_SECONDS",
                    env_int(env, "NEW_EVENTS_SENSOR_INTERVAL_SECONDS", 60, minimum=5),
                ),
                database_url=database_url_from_env(env, "INGEST_READ_DATABASE_URL") or database_url,
                marts_schema=marts_schema_from_env(env),
                pool_size=env_int(env, "INGEST_READ_POOL_SIZE", 2, minimum=1),
            ),
            retention_days=env_int(env, "RETENTION_DAYS", DEFAULT_RETENTION_DAYS, minimum=1),
        )
