"""Where the raw data of one deployment lives: the one description every part uses.

`DATA_DIR` holds the embedded store (`raw/interaction_events/`, `raw/user_privacy_events/`);
`DATABASE_URL`, when set, names the PostgreSQL database whose `raw` schema holds the same tables.
The ingest service writes to one of them; the upkeep jobs (retention, erasure, export) act on every
store that exists, because a deployment that moved from the embedded store to PostgreSQL still holds
old Parquet files. The orchestration, the tests and the benchmarks build their paths here too, so a
store's location is spelled once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ingest_service.environment import SettingsError, sql_identifier
from ingest_service.storage.parquet_files import ensure_store
from ingest_service.storage.raw_schema import (
    ERASED_EVENTS_ARROW_SCHEMA,
    ERASED_EVENTS_TABLE,
    PRIVACY_EVENTS_ARROW_SCHEMA,
    PRIVACY_EVENTS_TABLE,
    RAW_EVENTS_ARROW_SCHEMA,
    RAW_EVENTS_TABLE,
    RAW_SCHEMA_NAME,
    REJECTED_EVENTS_ARROW_SCHEMA,
    REJECTED_EVENTS_TABLE,
)

#: the repository's `data/`, where DATA_DIR points when unset
DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
POSTGRES_URL_SCHEMES = ("postgresql://", "postgres://")
#: `DBT_PG_SCHEMA` when unset: the PostgreSQL schema dbt builds the marts in
DEFAULT_MARTS_SCHEMA = "analytics"


def data_dir_from_env(env: Mapping[str, str]) -> Path:
    """`DATA_DIR` made absolute (dbt runs inside `dbt_project/`, where a relative path would move)."""
    raw = env.get("DATA_DIR", "").strip()
    return Path(raw).resolve() if raw else DEFAULT_DATA_DIR


def database_url_from_env(env: Mapping[str, str], name: str = "DATABASE_URL") -> str | None:
    """`DATABASE_URL` (or another variable `name`): a `postgresql://` URL, or None when unset."""
    url = env.get(name, "").strip() or None
    if url and not url.startswith(POSTGRES_URL_SCHEMES):
        raise SettingsError(f"{name} must be a postgresql:// URL (unset it for the embedded store)")
    return url


def marts_schema_from_env(env: Mapping[str, str]) -> str:
    """`DBT_PG_SCHEMA`: the schema of the marts in PostgreSQL (dbt `prod`), checked to be an identifier.

    Read here rather than in the orchestration because the ingest service's read endpoints query
    the same schema."""
    return sql_identifier(env.get("DBT_PG_SCHEMA", "").strip() or DEFAULT_MARTS_SCHEMA)


@dataclass(frozen=True)
class RawStores:
    """The raw stores of one deployment (see the module docstring)."""

    data_dir: Path = DEFAULT_DATA_DIR
    """`DATA_DIR`: root of the embedded store; absolute."""
    database_url: str | None = field(default=None, repr=False)  # may hold a password
    """`DATABASE_URL`: the PostgreSQL database holding `raw.*`; None when there is no server."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RawStores:
        env = os.environ if env is None else env
        return cls(data_dir=data_dir_from_env(env), database_url=database_url_from_env(env))

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def events_dir(self) -> Path:
        """Embedded raw events: immutable Parquet files."""
        return self.data_dir / RAW_SCHEMA_NAME / RAW_EVENTS_TABLE

    @property
    def privacy_dir(self) -> Path:
        """Embedded privacy log: immutable Parquet files."""
        return self.data_dir / RAW_SCHEMA_NAME / PRIVACY_EVENTS_TABLE

    @property
    def rejected_dir(self) -> Path:
        """Embedded rejected events (SPEC section 11): immutable Parquet files."""
        return self.data_dir / RAW_SCHEMA_NAME / REJECTED_EVENTS_TABLE

    @property
    def erased_dir(self) -> Path:
        """Embedded record of the event ids erasures deleted: immutable Parquet files."""
        return self.data_dir / RAW_SCHEMA_NAME / ERASED_EVENTS_TABLE

    @property
    def privacy_store(self) -> str | Path:
        """Where the privacy log is read and written: PostgreSQL when configured, else embedded."""
        return self.database_url or self.privacy_dir

    def embedded_tables(self) -> list[tuple[Path, pa.Schema]]:
        """Each embedded store directory with the schema of its files."""
        return [
            (self.events_dir, RAW_EVENTS_ARROW_SCHEMA),
            (self.privacy_dir, PRIVACY_EVENTS_ARROW_SCHEMA),
            (self.rejected_dir, REJECTED_EVENTS_ARROW_SCHEMA),
            (self.erased_dir, ERASED_EVENTS_ARROW_SCHEMA),
        ]

    def ensure_embedded(self) -> None:
        """Create every embedded store directory with its empty schema file (idempotent), so readers
        (dbt's sources) find a table before the ingest service ever wrote to it."""
        for directory, schema in self.embedded_tables():
            ensure_store(directory, schema)

    @property
    def has_embedded_events(self) -> bool:
        return self.events_dir.is_dir()

    def describe(self) -> list[str]:
        """Names of the stores that exist, for reports."""
        names = []
        if self.database_url:
            names.append("postgresql")
        if self.has_embedded_events:
            names.append("embedded")
        return names
