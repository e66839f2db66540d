"""The orchestration's view of the environment: where data lives, which warehouse dbt targets, and
the automations' knobs.

`OrchestrationSettings.from_env()` is called when the definitions load (never at import), so tests
build their own from a mapping. Where things are comes from the two shared descriptions:
`RawStores` (the raw stores, `ingest_service.storage.locations`) and `WarehouseTarget` (the dbt
target, its environment, the DuckDB path and PostgreSQL schema, `orchestration.warehouse`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from ingest_service.environment import SettingsError, env_choice, env_float, env_int
from ingest_service.settings import DEFAULT_RETENTION_DAYS
from ingest_service.storage.locations import RawStores
from orchestration.warehouse import REPO_ROOT, WarehouseTarget

__all__ = ["AUTOMATION_STATES", "REPO_ROOT", "OrchestrationSettings", "SettingsError"]

#: `AUTOMATIONS_DEFAULT`: the state every schedule and sensor starts in on a fresh Dagster instance
AUTOMATION_STATES = ("running", "stopped")


@dataclass(frozen=True)
class OrchestrationSettings:
    warehouse: WarehouseTarget
    """Where dbt builds the marts (`DATABASE_URL`, `DBT_DUCKDB_PATH`, `DBT_PG_SCHEMA`, `DATA_DIR`)."""
    raw_stores: RawStores
    """Where the raw events are (`DATA_DIR`, `DATABASE_URL`)."""
    retention_days: int = DEFAULT_RETENTION_DAYS
    """`RETENTION_DAYS`: age limit of raw events for the daily retention job."""
    new_events_threshold: int = 500
    """`NEW_EVENTS_THRESHOLD`: new raw events that make the sensor start an incremental run."""
    new_events_sensor_interval_s: int = 60
    """`NEW_EVENTS_SENSOR_INTERVAL_SECONDS`: how often the sensor looks at the raw store."""
    raw_events_max_lag_hours: float = 6.0
    """`RAW_EVENTS_MAX_LAG_HOURS`: the raw events are stale (freshness check fails) when the newest
    event was received longer ago than this."""
    rejection_rate_max: float = 0.05
    """`REJECTION_RATE_MAX`: the rejection-rate check fails when more than this fraction of the
    events received in the window were rejected (seed 004's 5 % alert, over the stored data)."""
    rejection_rate_window_hours: float = 24.0
    """`REJECTION_RATE_WINDOW_HOURS`: the window (ending now) the rejection rate is measured over."""
    automations_default: str = "running"
    """`AUTOMATIONS_DEFAULT`: `running` (schedules and sensors run as soon as `make dev` starts) or
    `stopped` (they wait to be switched on in the UI). Applies to an instance that never had them
    switched: a state set in the UI wins."""
    marts_freshness_slack_hours: float = 1.0
    """`MARTS_FRESHNESS_SLACK_HOURS`: a mart is stale when its last successful build is older than
    its schedule's interval (1 h hourly, 24 h daily) plus this slack (a run takes time, may queue)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OrchestrationSettings:
        env = os.environ if env is None else env
        return cls(
            warehouse=WarehouseTarget.from_env(env),
            raw_stores=RawStores.from_env(env),
            retention_days=env_int(env, "RETENTION_DAYS", DEFAULT_RETENTION_DAYS, minimum=1),
            new_events_threshold=env_int(env, "NEW_EVENTS_THRESHOLD", 500, minimum=1),
            new_events_sensor_interval_s=env_int(env, "NEW_EVENTS_SENSOR_INTERVAL_SECONDS", 60, minimum=5),
            raw_events_max_lag_hours=env_float(env, "RAW_EVENTS_MAX_LAG_HOURS", 6.0, minimum=0.01),
            rejection_rate_max=_fraction(env, "REJECTION_RATE_MAX", 0.05),
            rejection_rate_window_hours=env_float(env, "REJECTION_RATE_WINDOW_HOURS", 24.0, minimum=0.01),
            automations_default=env_choice(env, "AUTOMATIONS_DEFAULT", "running", AUTOMATION_STATES),
            marts_freshness_slack_hours=env_float(env, "MARTS_FRESHNESS_SLACK_HOURS", 1.0),
        )

    @property
    def schedule_default_status(self) -> dg.DefaultScheduleStatus:
        """`AUTOMATIONS_DEFAULT` for every schedule's `default_status`."""
        if self.automations_default == "running":
            return dg.DefaultScheduleStatus.RUNNING
        return dg.DefaultScheduleStatus.STOPPED

    @property
    def sensor_default_status(self) -> dg.DefaultSensorStatus:
        """`AUTOMATIONS_DEFAULT` for every sensor's `default_status`."""
        if self.automations_default == "running":
            return dg.DefaultSensorStatus.RUNNING
        return dg.DefaultSensorStatus.STOPPED

    @property
    def data_dir(self) -> Path:
        return self.raw_stores.data_dir

    @property
    def uses_postgres(self) -> bool:
        return self.raw_stores.uses_postgres

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    value = env_float(env, name, default)
    if value > 1:
        raise SettingsError(f"{name}={value:g} must be a fraction between 0 and 1 (0.05 is 5 %)")
    return value
