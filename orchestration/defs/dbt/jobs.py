"""The jobs that build the dbt models: the incremental pipeline (the new-events sensor's job) and
the scheduled selections of seed 004's cron. Each ends by publishing a snapshot of the marts."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import build_dbt_asset_selection

from orchestration.defs.shared_names import (
    INCREMENTAL_JOB_NAME,
    MART_FRESHNESS_CHECK,
    MART_SNAPSHOT_KEY,
    PRIVACY_EVENTS_KEY,
    RAW_EVENTS_KEY,
    REJECTED_EVENTS_KEY,
)
from orchestration.warehouse import MARTS, WAREHOUSE_WRITE_TAG

#: (job name, dbt selection, cron, what it is for). The selections include every upstream model,
#: so each run first brings staging up to date with the new events.
SCHEDULED_DBT_JOBS = (
    (
        "hourly_stats_and_trending",
        "+perfume_interaction_stats +trending_perfumes",
        "0 * * * *",
        "Per-perfume stats and trending, every hour.",
    ),
    (
        "daily_sessions_and_profiles",
        "+sessions +user_behavior_profile +post_engagement +user_engagement_30d +identity_map"
        " +user_item_interactions +weekly_retention_cohorts",
        "0 2 * * *",
        "Sessions, user profiles, post/user engagement, the identity map, the recommender's "
        "user-item table and the retention cohorts, daily at 02:00 UTC.",
    ),
)


#: every job that builds marts republishes the snapshot readers use, after its models
_PUBLISH = dg.AssetSelection.assets(MART_SNAPSHOT_KEY)
#: …and starts by recording the raw stores: the raw events (materialized), the privacy log and the
#: rejected events (observed, with the rejection-rate check), so the UI shows their state per build
_RAW_STORES = dg.AssetSelection.assets(RAW_EVENTS_KEY, PRIVACY_EVENTS_KEY, REJECTED_EVENTS_KEY)
#: …and checks every mart's freshness, the ones it did not build too: the hourly run is what
#: notices that the daily build did not happen
_FRESHNESS = dg.AssetSelection.checks(
    *(dg.AssetCheckKey(dg.AssetKey(mart), MART_FRESHNESS_CHECK) for mart in MARTS)
)


def incremental_job(dbt_models: dg.AssetsDefinition) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        INCREMENTAL_JOB_NAME,
        selection=_RAW_STORES | dg.AssetSelection.assets(dbt_models) | _PUBLISH | _FRESHNESS,
        description="Every dbt model built incrementally from the events received since the last run, "
        "then a new snapshot of the marts.",
        tags=WAREHOUSE_WRITE_TAG,
    )


def scheduled_jobs(dbt_models: dg.AssetsDefinition) -> dict[str, dg.UnresolvedAssetJobDefinition]:
    """name → job, for every entry of SCHEDULED_DBT_JOBS."""
    return {
        name: dg.define_asset_job(
            name,
            selection=_RAW_STORES
            | build_dbt_asset_selection([dbt_models], dbt_select=dbt_select)
            | _PUBLISH
            | _FRESHNESS,
            description=description,
            tags=WAREHOUSE_WRITE_TAG,
        )
        for name, dbt_select, _, description in SCHEDULED_DBT_JOBS
    }
