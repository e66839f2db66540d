"""The ingest area: the raw events asset, its freshness check and the new-events sensor."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ingest.assets import PRIVACY_EVENTS_SPEC, raw_interaction_events
from orchestration.defs.ingest.checks import build_raw_events_freshness_check
from orchestration.defs.ingest.sensors import build_new_events_sensor
from orchestration.defs.shared_names import INCREMENTAL_JOB_NAME
from orchestration.settings import OrchestrationSettings


def build_defs(settings: OrchestrationSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=[raw_interaction_events, PRIVACY_EVENTS_SPEC],
        asset_checks=[build_raw_events_freshness_check(settings.raw_events_max_lag_hours)],
        sensors=[
            build_new_events_sensor(
                INCREMENTAL_JOB_NAME,
                threshold=settings.new_events_threshold,
                interval_seconds=settings.new_events_sensor_interval_s,
            )
        ],
    )
