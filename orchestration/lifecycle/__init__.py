"""The lifecycle area: compaction (hourly), retention (daily), export, erasure and opt-out/opt-in jobs.

Merged into the top-level definitions by `orchestration.definitions`. The resource key
`lifecycle` is this area's own, so the merge never collides with the dbt area's resources.
"""

import dagster as dg

from orchestration.lifecycle.jobs import (
    raw_events_compaction,
    raw_events_compaction_schedule,
    raw_events_retention,
    raw_events_retention_schedule,
    user_data_export,
    user_erasure,
    user_privacy_request,
)
from orchestration.lifecycle.resources import LifecycleStores

defs = dg.Definitions(
    jobs=[raw_events_compaction, raw_events_retention, user_data_export, user_erasure, user_privacy_request],
    schedules=[raw_events_compaction_schedule, raw_events_retention_schedule],
    resources={"lifecycle": LifecycleStores()},
)
