"""The orchestration's view of the environment: where data lives and which warehouse dbt targets.

One function maps the environment to everything the Dagster code needs (SPEC section 9): no
`DATABASE_URL` means the embedded Parquet store and the DuckDB warehouse (dbt target `dev`); a
`postgresql://` URL means PostgreSQL for both (dbt target `prod`, `PG*` derived from the URL).
Nothing is read at import time; `OrchestrationSettings.from_env()` is called when the definitions
load, so tests build their own from a mapping.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ingest_service.settings import SettingsError, env_float, env_int

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"


def resolve_data_dir(env: Mapping[str, str]) -> Path:
    """`DATA_DIR` made absolute: dbt runs inside `dbt_project/`, so a relative path would move."""
    raw = env.get("DATA_DIR", "").strip()
    return Path(raw).resolve() if raw else REPO_ROOT / "data"


def postgres_env_from_url(database_url: str) -> dict[str, str]:
    """The libpq variables (`PG*`) the dbt `prod` profile reads, taken from a `postgresql://` URL."""
    parts = urlsplit(database_url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise SettingsError("DATABASE_URL must be a postgresql:// URL (unset it for the embedded store)")
    env = {
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": unquote(parts.username or "postgres"),
        "PGDATABASE": unquote(parts.path.lstrip("/")) or "postgres",
    }
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env


@dataclass(frozen=True)
class OrchestrationSettings:
    data_dir: Path
    """`DATA_DIR` (default `data/` at the repository root): embedded store, warehouse, reports."""
    database_url: str | None = field(default=None, repr=False)
    """`DATABASE_URL`: set → raw events and marts in PostgreSQL (dbt target `prod`)."""
    dbt_pg_schema: str = "analytics"
    """`DBT_PG_SCHEMA`: schema of the marts in PostgreSQL."""
    duckdb_path: Path | None = None
    """`DBT_DUCKDB_PATH` (default `$DATA_DIR/warehouse.duckdb`): the DuckDB warehouse file."""
    new_events_threshold: int = 500
    """`NEW_EVENTS_THRESHOLD`: new raw events that make the sensor start an incremental run."""
    new_events_sensor_interval_s: int = 60
    """`NEW_EVENTS_SENSOR_INTERVAL_SECONDS`: how often the sensor looks at the raw store."""
    raw_events_max_lag_hours: float = 6.0
    """`RAW_EVENTS_MAX_LAG_HOURS`: the raw events are stale (freshness check fails) when the newest
    event was received longer ago than this."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OrchestrationSettings:
        env = os.environ if env is None else env
        database_url = env.get("DATABASE_URL", "").strip() or None
        if database_url:
            postgres_env_from_url(database_url)  # validates the scheme with a clear message
        data_dir = resolve_data_dir(env)
        duckdb_path = env.get("DBT_DUCKDB_PATH", "").strip()
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            dbt_pg_schema=env.get("DBT_PG_SCHEMA", "").strip() or "analytics",
            duckdb_path=Path(duckdb_path).resolve() if duckdb_path else data_dir / "warehouse.duckdb",
            new_events_threshold=env_int(env, "NEW_EVENTS_THRESHOLD", 500, minimum=1),
            new_events_sensor_interval_s=env_int(env, "NEW_EVENTS_SENSOR_INTERVAL_SECONDS", 60, minimum=5),
            raw_events_max_lag_hours=env_float(env, "RAW_EVENTS_MAX_LAG_HOURS", 6.0, minimum=0.01),
        )

    @property
    def uses_postgres(self) -> bool:
        return self.database_url is not None

    @property
    def dbt_target(self) -> str:
        return "prod" if self.uses_postgres else "dev"

    @property
    def raw_events_dir(self) -> Path:
        return self.data_dir / "raw" / "interaction_events"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def warehouse_path(self) -> Path:
        return self.duckdb_path or self.data_dir / "warehouse.duckdb"
