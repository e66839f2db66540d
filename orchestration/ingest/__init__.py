"""The ingest area: the raw events asset, its freshness check and the new-events sensor."""

from __future__ import annotations

import dagster as dg

from orchestration.ingest.new_events_sensor import build_new_events_sensor
from orchestration.ingest.raw_events import (
    PRIVACY_EVENTS_SPEC,
    build_raw_events_freshness_check,
    raw_interaction_events,
)
from orchestration.settings import OrchestrationSettings


def build_defs(settings: OrchestrationSettings, incremental_job_name: str) -> dg.Definitions:
    return dg.Definitions(
        assets=[raw_interaction_events, PRIVACY_EVENTS_SPEC],
        asset_checks=[build_raw_events_freshness_check(settings.raw_events_max_lag_hours)],
        sensors=[
            build_new_events_sensor(
                incremental_job_name,
                threshold=settings.new_events_threshold,
                interval_seconds=settings.new_events_sensor_interval_s,
            )
        ],
    )
