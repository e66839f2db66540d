"""Settings of the ingest service, read from the environment by `Settings.from_env()`.

Nothing is read at import time: tests and other parts (lifecycle jobs, orchestration) build a
`Settings` from their own environment mapping whenever they need one. Secrets (API keys, the JWT
secret) are kept out of `repr`, so printing or logging a Settings never leaks them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from ingest_service.environment import SettingsError, env_bool, env_choice, env_float, env_int, env_list
from ingest_service.event_types import MAX_EVENT_AGE_WITHOUT_KEY_DAYS
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
    keep_alive_timeout_s: float = 5.0
    """`INGEST_KEEP_ALIVE_TIMEOUT`: seconds an idle connection (also one that sent nothing) stays open."""
    read_timeout_s: float = 10.0
    """`INGEST_READ_TIMEOUT`: seconds a request may take to arrive whole (line, headers, body) from
    its first byte; slower connections are closed (408 if the headers were not complete)."""
    max_header_bytes: int = 32 * 1024
    """`INGEST_MAX_HEADER_BYTES`: request line plus headers above this are a 431."""
    max_connections: int = 0
    """`INGEST_MAX_CONNECTIONS`: open connections per worker process above which the longest-idle
    ones are closed; 0 (default) = the process's file limit (RLIMIT_NOFILE) less 64, at most 10,000."""


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
    """`INGEST_RATE_LIMIT_PER_MINUTE`: requests one session, and one verified user, may make per
    minute; above it the answer is 429 with `Retry-After`. 0 disables the ingest limits."""
    rate_limit_burst: int = 120
    """`INGEST_RATE_LIMIT_BURST`: requests one session or user may make at once before the rate applies."""
    rate_limit_events_per_minute: int = 6000
    """`INGEST_RATE_LIMIT_EVENTS_PER_MINUTE`: events one session or user may send per minute
    (0: events are not counted)."""
    rate_limit_events_burst: int = 2000
    """`INGEST_RATE_LIMIT_EVENTS_BURST`: events one session or user may send at once."""
    rate_limit_address_factor: int = 10
    """`INGEST_RATE_LIMIT_ADDRESS_FACTOR`: one client address (many users behind one NAT) gets this
    many times the per-session budgets."""
    privacy_rate_limit_per_minute: int = 10
    """`INGEST_PRIVACY_RATE_LIMIT_PER_MINUTE`: opt-out/opt-in requests per user per minute (0 disables)."""
    privacy_rate_limit_burst: int = 5
    """`INGEST_PRIVACY_RATE_LIMIT_BURST`: privacy requests one user may make at once."""
    max_event_age_days: int = MAX_EVENT_AGE_WITHOUT_KEY_DAYS
    """`INGEST_MAX_EVENT_AGE_DAYS`: a client without an API key may not send events dated more than
    this many days before they were received (SPEC §1: 30; backfills use a key). Events refused by it
    are kept as rejected; raise it and `python -m ingest_service replay-rejected` to accept them."""
    client_address_header: str | None = None
    """`INGEST_CLIENT_ADDRESS_HEADER`: a header your reverse proxy sets to the client address (e.g.
    `X-Forwarded-For`; its last entry is used). Unset: the TCP peer. Set it only behind a proxy
    that overwrites or appends it, or clients choose their own address."""

    @property
    def max_event_age_without_key(self) -> timedelta:
        return timedelta(days=self.max_event_age_days)


@dataclass(frozen=True)
class SessionCookieSettings:
    same_site: str = "lax"
    """`INGEST_SESSION_COOKIE_SAMESITE`: `lax`, `strict` or `none` for the `sid` cookie. A site whose
    pages are on another domain than the ingest service needs `none` (which implies Secure)."""
    secure: bool = False
    """`INGEST_SESSION_COOKIE_SECURE`: mark the `sid` cookie Secure (HTTPS only); forced on by
    SameSite=None, which browsers refuse without it."""

    @property
    def is_secure(self) -> bool:
        return self.secure or self.same_site == "none"


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
    session_cookie: SessionCookieSettings = field(default_factory=SessionCookieSettings)
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
                keep_alive_timeout_s=env_float(env, "INGEST_KEEP_ALIVE_TIMEOUT", 5.0, minimum=0.1),
                read_timeout_s=env_float(env, "INGEST_READ_TIMEOUT", 10.0, minimum=0.1),
                max_header_bytes=env_int(env, "INGEST_MAX_HEADER_BYTES", 32 * 1024, minimum=1024),
                max_connections=env_int(env, "INGEST_MAX_CONNECTIONS", 0),
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
                rate_limit_events_per_minute=env_int(env, "INGEST_RATE_LIMIT_EVENTS_PER_MINUTE", 6000),
                rate_limit_events_burst=env_int(env, "INGEST_RATE_LIMIT_EVENTS_BURST", 2000, minimum=1),
                rate_limit_address_factor=env_int(env, "INGEST_RATE_LIMIT_ADDRESS_FACTOR", 10, minimum=1),
                privacy_rate_limit_per_minute=env_int(env, "INGEST_PRIVACY_RATE_LIMIT_PER_MINUTE", 10),
                privacy_rate_limit_burst=env_int(env, "INGEST_PRIVACY_RATE_LIMIT_BURST", 5, minimum=1),
                max_event_age_days=env_int(
                    env, "INGEST_MAX_EVENT_AGE_DAYS", MAX_EVENT_AGE_WITHOUT_KEY_DAYS, minimum=1
                ),
                client_address_header=env.get("INGEST_CLIENT_ADDRESS_HEADER", "").strip().lower() or None,
            ),
            session_cookie=SessionCookieSettings(
                same_site=env_choice(env, "INGEST_SESSION_COOKIE_SAMESITE", "lax", ("lax", "strict", "none")),
                secure=env_bool(env, "INGEST_SESSION_COOKIE_SECURE", False),
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
