"""The lifecycle area: compaction (hourly), retention (daily), export, erasure and opt-out/opt-in jobs."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.lifecycle.jobs import (
    raw_events_compaction,
    raw_events_retention,
    user_data_export,
    user_erasure,
    user_privacy_request,
)
from orchestration.defs.lifecycle.schedules import build_lifecycle_schedules
from orchestration.settings import OrchestrationSettings


def build_defs(settings: OrchestrationSettings) -> dg.Definitions:
    return dg.Definitions(
        jobs=[
            raw_events_compaction,
            raw_events_retention,
            user_data_export,
            user_erasure,
            user_privacy_request,
        ],
        schedules=build_lifecycle_schedules(settings.schedule_default_status),
    )
