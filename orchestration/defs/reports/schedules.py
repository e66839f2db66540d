"""The weekly report every Sunday at 00:00 UTC (seed 004's cron)."""

import dagster as dg

from orchestration.defs.reports.jobs import weekly_report_job

weekly_report_schedule = dg.ScheduleDefinition(
    name="weekly_report_schedule",
    job=weekly_report_job,
    cron_schedule="0 0 * * 0",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every Sunday at 00:00 UTC (seed 004's cron).",
)
