"""Names one area refers to in another, kept here so the areas never import each other in a circle.

The raw events' asset key is the dbt source's (`raw/interaction_events`), which puts the ingest
area's asset upstream of the staging model; the incremental job (dbt area) is what the new-events
sensor (ingest area) starts; the dbt jobs (dbt area) end with the published snapshot of the marts
(snapshots area).
"""

import dagster as dg

RAW_EVENTS_KEY = dg.AssetKey(["raw", "interaction_events"])
PRIVACY_EVENTS_KEY = dg.AssetKey(["raw", "user_privacy_events"])
REJECTED_EVENTS_KEY = dg.AssetKey(["raw", "rejected_events"])
INCREMENTAL_JOB_NAME = "incremental_pipeline"
MART_SNAPSHOT_KEY = dg.AssetKey("mart_snapshot")
#: the marts' freshness check (operations area), run by every job that builds marts (dbt area)
MART_FRESHNESS_CHECK = "built_within_schedule"
