"""When the raw stores' upkeep runs: compaction hourly, retention daily after the 02:00 builds."""

import dagster as dg

from orchestration.defs.lifecycle.jobs import raw_events_compaction, raw_events_retention

RETENTION_CRON = "30 3 * * *"
COMPACTION_CRON = "15 * * * *"


def build_lifecycle_schedules(default_status: dg.DefaultScheduleStatus) -> list[dg.ScheduleDefinition]:
    """`default_status` from `AUTOMATIONS_DEFAULT`."""
    return [
        dg.ScheduleDefinition(
            name="raw_events_compaction_hourly",
            job=raw_events_compaction,
            cron_schedule=COMPACTION_CRON,
            execution_timezone="UTC",
            default_status=default_status,
            description="Every hour at :15, between the hourly stats builds: a few files per hour.",
        ),
        dg.ScheduleDefinition(
            name="raw_events_retention_daily",
            job=raw_events_retention,
            cron_schedule=RETENTION_CRON,
            execution_timezone="UTC",
            default_status=default_status,
            description="Retention every day at 03:30 UTC, after the 02:00 profile and session builds.",
        ),
    ]
