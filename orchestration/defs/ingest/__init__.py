"""The ingest area: the raw stores as assets, their checks and the new-events sensor."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ingest.assets import (
    raw_interaction_events,
    raw_rejected_events,
    raw_user_privacy_events,
)
from orchestration.defs.ingest.checks import build_raw_events_freshness_check, build_rejection_rate_check
from orchestration.defs.ingest.sensors import build_new_events_sensor
from orchestration.defs.shared_names import INCREMENTAL_JOB_NAME
from orchestration.settings import OrchestrationSettings


def build_defs(settings: OrchestrationSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=[raw_interaction_events, raw_user_privacy_events, raw_rejected_events],
        asset_checks=[
            build_raw_events_freshness_check(settings.raw_events_max_lag_hours),
            build_rejection_rate_check(settings.rejection_rate_max, settings.rejection_rate_window_hours),
        ],
        sensors=[
            build_new_events_sensor(
                INCREMENTAL_JOB_NAME,
                threshold=settings.new_events_threshold,
                interval_seconds=settings.new_events_sensor_interval_s,
                default_status=settings.sensor_default_status,
            )
        ],
    )
