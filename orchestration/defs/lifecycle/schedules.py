"""When the raw stores' upkeep runs: compaction hourly, retention daily after the 02:00 builds."""

import dagster as dg

from orchestration.defs.lifecycle.jobs import raw_events_compaction, raw_events_retention

RETENTION_CRON = "30 3 * * *"
COMPACTION_CRON = "15 * * * *"

raw_events_retention_schedule = dg.ScheduleDefinition(
    name="raw_events_retention_daily",
    job=raw_events_retention,
    cron_schedule=RETENTION_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Retention every day at 03:30 UTC, after the 02:00 profile and session builds.",
)


raw_events_compaction_schedule = dg.ScheduleDefinition(
    name="raw_events_compaction_hourly",
    job=raw_events_compaction,
    cron_schedule=COMPACTION_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour at :15, between the hourly stats builds: a few files per hour.",
)
