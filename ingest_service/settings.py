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

#: Where `DATA_DIR` points when unset: `data/` at the repository root (one level above this package).
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class SettingsError(ValueError):
    """An environment variable holds a value the service or pipeline cannot use; the message says which."""


def env_int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw} must be at least {minimum:g}")  # as the user typed it
    return value


def env_float(env: Mapping[str, str], name: str, default: float, minimum: float = 0.0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw} must be at least {minimum:g}")  # as the user typed it
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r} must be true or false")


def env_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower() or default
    if raw not in choices:
        raise SettingsError(f"{name}={raw!r} must be one of {', '.join(choices)}")
    return raw


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


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
    def raw_events_dir(self) -> Path:
        """Embedded raw events: `$DATA_DIR/raw/interaction_events/*.parquet`."""
        return self.data_dir / "raw" / "interaction_events"

    @property
    def privacy_events_dir(self) -> Path:
        """Embedded privacy log: `$DATA_DIR/raw/user_privacy_events/*.parquet`."""
        return self.data_dir / "raw" / "user_privacy_events"

    @property
    def rejected_events_dir(self) -> Path:
        """Embedded rejected events (SPEC §11): `$DATA_DIR/raw/rejected_events/*.parquet`."""
        return self.data_dir / "raw" / "rejected_events"


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
    client_address_header: str | None = None
    """`INGEST_CLIENT_ADDRESS_HEADER`: a header your reverse proxy sets to the client address (e.g.
    `X-Forwarded-For`; its last entry is used). Unset: the TCP peer. Set it only behind a proxy
    that overwrites or appends it, or clients choose their own address."""


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
class Settings:
    server: ServerSettings = field(default_factory=ServerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    batching: BatchingSettings = field(default_factory=BatchingSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    session_cookie: SessionCookieSettings = field(default_factory=SessionCookieSettings)
    retention_days: int = 90
    """`RETENTION_DAYS`: raw events older than this are deleted by the lifecycle job."""

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
        database_url = env.get("DATABASE_URL", "").strip() or None
        if database_url and not database_url.startswith(("postgresql://", "postgres://")):
            raise SettingsError("DATABASE_URL must be a postgresql:// URL (unset it for the embedded store)")
        data_dir = env.get("DATA_DIR", "").strip()
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
                data_dir=Path(data_dir) if data_dir else DEFAULT_DATA_DIR,
                pool_size=env_int(env, "INGEST_DB_POOL_SIZE", 4, minimum=1),
                connect_timeout_s=env_float(env, "INGEST_DB_CONNECT_TIMEOUT", 3.0, minimum=0.1),
            ),
            batching=BatchingSettings(
                max_batch_rows=env_int(env, "INGEST_BATCH_MAX_ROWS", 5000, minimum=1),
                max_wait_ms=env_float(env, "INGEST_BATCH_MAX_WAIT_MS", 2.0),
                max_concurrent_writes=env_int(env, "INGEST_BATCH_CONCURRENT_WRITES", 2, minimum=1),
            ),
            security=SecuritySettings(
                api_keys=_list(env, "INGEST_API_KEYS"),
                jwt_secret=env.get("INGEST_JWT_SECRET", "").strip() or None,
                cors_origins=_list(env, "INGEST_CORS_ORIGINS"),
                rate_limit_per_minute=env_int(env, "INGEST_RATE_LIMIT_PER_MINUTE", 600),
                rate_limit_burst=env_int(env, "INGEST_RATE_LIMIT_BURST", 120, minimum=1),
                rate_limit_events_per_minute=env_int(env, "INGEST_RATE_LIMIT_EVENTS_PER_MINUTE", 6000),
                rate_limit_events_burst=env_int(env, "INGEST_RATE_LIMIT_EVENTS_BURST", 2000, minimum=1),
                rate_limit_address_factor=env_int(env, "INGEST_RATE_LIMIT_ADDRESS_FACTOR", 10, minimum=1),
                privacy_rate_limit_per_minute=env_int(env, "INGEST_PRIVACY_RATE_LIMIT_PER_MINUTE", 10),
                privacy_rate_limit_burst=env_int(env, "INGEST_PRIVACY_RATE_LIMIT_BURST", 5, minimum=1),
                client_address_header=env.get("INGEST_CLIENT_ADDRESS_HEADER", "").strip().lower() or None,
            ),
            session_cookie=SessionCookieSettings(
                same_site=env_choice(env, "INGEST_SESSION_COOKIE_SAMESITE", "lax", ("lax", "strict", "none")),
                secure=env_bool(env, "INGEST_SESSION_COOKIE_SECURE", False),
            ),
            retention_days=env_int(env, "RETENTION_DAYS", 90, minimum=1),
        )
