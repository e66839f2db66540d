"""The weekly report every Sunday at 00:00 UTC (seed 004's cron)."""

import dagster as dg

from orchestration.defs.reports.jobs import weekly_report_job


def build_weekly_report_schedule(default_status: dg.DefaultScheduleStatus) -> dg.ScheduleDefinition:
    """`default_status` from `AUTOMATIONS_DEFAULT`."""
    return dg.ScheduleDefinition(
        name="weekly_report_schedule",
        job=weekly_report_job,
        cron_schedule="0 0 * * 0",
        execution_timezone="UTC",
        default_status=default_status,
        description="Every Sunday at 00:00 UTC (seed 004's cron).",
    )
