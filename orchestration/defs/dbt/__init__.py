"""The dbt area: model assets, the jobs that build them and their schedules (seed 004's cron)."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt_project import dbt_project, dbt_resource, require_manifest
from orchestration.defs.dbt.assets import build_dbt_models
from orchestration.defs.dbt.jobs import incremental_job, scheduled_jobs
from orchestration.defs.dbt.schedules import build_schedules
from orchestration.settings import OrchestrationSettings


def build_defs(settings: OrchestrationSettings) -> dg.Definitions:
    project = dbt_project()
    require_manifest(project)
    dbt_models = build_dbt_models(project)
    jobs = scheduled_jobs(dbt_models)
    return dg.Definitions(
        assets=[dbt_models],
        jobs=[incremental_job(dbt_models), *jobs.values()],
        schedules=build_schedules(jobs, settings.schedule_default_status),
        resources={"dbt": dbt_resource(settings.warehouse)},
    )
