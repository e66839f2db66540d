"""The marts' freshness checks: a mart whose last successful build is older than its schedule allows
(the schedule's interval plus `MARTS_FRESHNESS_SLACK_HOURS`) fails its check.

A mart's builds are read from the warehouse itself (`incremental_manifest`, which every mart's
post-hook writes, `ingest_service/storage/mart_builds.py`), not from Dagster's event log: a build
outside Dagster (`dbt run` by hand, the lifecycle CLI's rebuild) counts, and a wiped Dagster
instance does not make fresh marts look stale. Every pipeline job runs the checks of every mart,
so the hourly run is also what notices that the 02:00 build did not happen.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import dagster as dg

from ingest_service.storage.mart_builds import latest_builds, latest_builds_sql
from orchestration.defs.dbt.jobs import SCHEDULED_DBT_JOBS
from orchestration.defs.shared_names import MART_FRESHNESS_CHECK
from orchestration.resources import Warehouse
from orchestration.warehouse import MARTS


def schedule_interval(cron: str) -> timedelta:
    """The time between two runs of the crons this project uses (hourly, daily, weekly)."""
    minute, hour, day, month, weekday = cron.split()
    if day == month == "*":
        if hour == weekday == "*":
            return timedelta(hours=1)
        if weekday == "*":
            return timedelta(days=1)
        return timedelta(days=7)
    raise ValueError(f"no interval known for cron {cron!r}: add it to schedule_interval")


def mart_intervals() -> dict[str, timedelta]:
    """mart → the interval of the most frequent schedule that builds it (SCHEDULED_DBT_JOBS)."""
    intervals: dict[str, timedelta] = {}
    for _, dbt_select, cron, _ in SCHEDULED_DBT_JOBS:
        for model in (part.lstrip("+") for part in dbt_select.split()):
            if model in MARTS:
                intervals[model] = min(intervals.get(model, timedelta.max), schedule_interval(cron))
    return intervals


def freshness_verdict(built_at: datetime | None, allowed: timedelta, now: datetime) -> tuple[bool, str]:
    limit = f"{allowed.total_seconds() / 3600:g} h"
    if built_at is None:
        return False, f"never built (limit {limit}): run the pipeline, or see why its runs fail"
    age_hours = (now - built_at).total_seconds() / 3600
    if now - built_at <= allowed:
        return True, f"last built {age_hours:.2f} h ago (limit {limit})"
    return False, (
        f"last built {age_hours:.2f} h ago, over the {limit} its schedule allows: is the schedule "
        "running, and did its last runs fail (see the run-failure log)?"
    )


def build_mart_freshness_checks(slack_hours: float) -> dg.AssetChecksDefinition:
    slack = timedelta(hours=slack_hours)
    allowed = {mart: interval + slack for mart, interval in mart_intervals().items()}

    @dg.multi_asset_check(
        name="marts_built_within_schedule",
        specs=[
            dg.AssetCheckSpec(
                MART_FRESHNESS_CHECK,
                asset=mart,
                description=(
                    f"The last successful build is at most {limit.total_seconds() / 3600:g} h old "
                    "(its schedule's interval plus MARTS_FRESHNESS_SLACK_HOURS); read from the warehouse."
                ),
            )
            for mart, limit in allowed.items()
        ],
        can_subset=True,
    )
    def marts_built_within_schedule(
        context: dg.AssetCheckExecutionContext, warehouse: Warehouse
    ) -> Iterator[dg.AssetCheckResult]:
        target = warehouse.target
        builds = latest_builds(target.query(latest_builds_sql())) if target.exists() else {}
        now = datetime.now(UTC)
        for check_key in context.selected_asset_check_keys:
            mart = check_key.asset_key.path[-1]
            build = builds.get(mart)
            built_at = build.built_at if build else None
            passed, message = freshness_verdict(built_at, allowed[mart], now)
            metadata: dict[str, dg.RawMetadataValue] = {"summary": message}
            if built_at is not None:
                metadata["last_built_at"] = dg.MetadataValue.timestamp(built_at)
            yield dg.AssetCheckResult(
                asset_key=check_key.asset_key,
                check_name=MART_FRESHNESS_CHECK,
                passed=passed,
                severity=dg.AssetCheckSeverity.WARN,
                description=message,
                metadata=metadata,
            )

    return marts_built_within_schedule
