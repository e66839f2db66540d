"""The dbt area: model assets, the jobs that build them and their schedules (seed 004's cron)."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource, build_dbt_asset_selection

from orchestration.dbt.assets import build_dbt_models
from orchestration.dbt.project import dbt_executable, dbt_project, require_manifest
from orchestration.ingest.raw_events import RAW_EVENTS_KEY
from orchestration.settings import OrchestrationSettings

INCREMENTAL_JOB_NAME = "incremental_pipeline"
#: Jobs that write the marts carry this tag; production's run queue runs one of them at a time.
WAREHOUSE_WRITE_TAG = {"warehouse": "write"}

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
        "+sessions +user_behavior_profile +post_engagement +user_engagement_30d",
        "0 2 * * *",
        "Sessions, user profiles and post/user engagement, daily at 02:00 UTC.",
    ),
)


def build_defs(settings: OrchestrationSettings) -> dg.Definitions:
    project = dbt_project()
    require_manifest(project)
    dbt_models = build_dbt_models(project)
    raw_events = dg.AssetSelection.assets(RAW_EVENTS_KEY)

    incremental = dg.define_asset_job(
        INCREMENTAL_JOB_NAME,
        selection=raw_events | dg.AssetSelection.assets(dbt_models),
        description="Every dbt model built incrementally from the events received since the last run.",
        tags=WAREHOUSE_WRITE_TAG,
    )
    jobs: list[dg.UnresolvedAssetJobDefinition] = [incremental]
    schedules: list[dg.ScheduleDefinition] = []
    for name, dbt_select, cron, description in SCHEDULED_DBT_JOBS:
        job = dg.define_asset_job(
            name,
            selection=raw_events | build_dbt_asset_selection([dbt_models], dbt_select=dbt_select),
            description=description,
            tags=WAREHOUSE_WRITE_TAG,
        )
        jobs.append(job)
        schedules.append(
            dg.ScheduleDefinition(
                name=f"{name}_schedule",
                job=job,
                cron_schedule=cron,
                execution_timezone="UTC",
                default_status=dg.DefaultScheduleStatus.RUNNING,
                description=description,
            )
        )
    return dg.Definitions(
        assets=[dbt_models],
        jobs=jobs,
        schedules=schedules,
        resources={
            "dbt": DbtCliResource(
                project_dir=project, target=settings.dbt_target, dbt_executable=dbt_executable()
            )
        },
    )
