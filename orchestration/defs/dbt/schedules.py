"""Seed 004's cron for the dbt jobs: stats and trending hourly, profiles and sessions at 02:00."""

from __future__ import annotations

import dagster as dg

from orchestration.defs.dbt.jobs import SCHEDULED_DBT_JOBS


def build_schedules(
    jobs: dict[str, dg.UnresolvedAssetJobDefinition], default_status: dg.DefaultScheduleStatus
) -> list[dg.ScheduleDefinition]:
    """`default_status` from `AUTOMATIONS_DEFAULT`."""
    return [
        dg.ScheduleDefinition(
            name=f"{name}_schedule",
            job=jobs[name],
            cron_schedule=cron,
            execution_timezone="UTC",
            default_status=default_status,
            description=description,
        )
        for name, _, cron, description in SCHEDULED_DBT_JOBS
    ]
