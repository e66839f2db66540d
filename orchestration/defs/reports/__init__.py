"""The reports area: the weekly report asset and its Sunday 00:00 schedule (seed 004's cron)."""

from __future__ import annotations

import dagster as dg

from orchestration.dbt_project import dbt_model_names, dbt_project
from orchestration.defs.reports.assets import build_weekly_report
from orchestration.defs.reports.jobs import weekly_report_job
from orchestration.defs.reports.schedules import build_weekly_report_schedule
from orchestration.settings import OrchestrationSettings


def build_defs(settings: OrchestrationSettings) -> dg.Definitions:
    return dg.Definitions(
        assets=[build_weekly_report(dbt_model_names(dbt_project()))],
        jobs=[weekly_report_job],
        schedules=[build_weekly_report_schedule(settings.schedule_default_status)],
    )
