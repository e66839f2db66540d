"""Weekly KPIs read from the warehouse, as plain rows: pure shaping, no Dagster, no rendering.

Weeks are ISO weeks (Monday 00:00 UTC to Sunday 24:00 UTC). The SQL is written once for both
warehouses: `date_trunc('week', …)` starts weeks on Monday in DuckDB and PostgreSQL alike, and the
connections run in UTC.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any

from ingest_service.storage.mart_builds import latest_builds, latest_builds_sql, newest_run
from orchestration.resources import Warehouse

EVENTS_PER_WEEK_SQL = """
select
    date_trunc('week', occurred_at) as week_start,
    count(*) as events,
    count(distinct user_id) as active_users,
    count(distinct case when user_id is not null then 'u:' || user_id else 's:' || session_id end)
        as visitors,
    sum(case when event_type = 'POST_VIEW' then 1 else 0 end) as post_views,
    sum(case when event_type = 'POST_CLICK' then 1 else 0 end) as post_clicks,
    sum(case when event_type = 'POST_LIKE' then 1 else 0 end) as post_likes,
    sum(case when event_type = 'POST_SHARE' then 1 else 0 end) as post_shares
from stg_interaction_events
group by 1
"""

SESSIONS_PER_WEEK_SQL = """
select
    date_trunc('week', started_at) as week_start,
    count(*) as sessions,
    sum(case when is_bounce then 1 else 0 end) as bounces
from sessions
group by 1
"""

PERFUMES_PER_WEEK_SQL = """
select
    date_trunc('week', events.occurred_at) as week_start,
    events.perfume_id,
    max(perfumes.name) as perfume_name,
    max(houses.name) as house_name,
    sum(coalesce(event_weights.weight, 0)) as score,
    sum(case when events.event_type = 'PERFUME_VIEW' then 1 else 0 end) as views
from stg_interaction_events as events
left join event_weights on event_weights.event_type = events.event_type
left join perfumes on perfumes.perfume_id = events.perfume_id
left join houses on houses.house_id = perfumes.house_id
where events.perfume_id is not null
group by 1, 2
"""


RETENTION_MART = "weekly_retention_cohorts"
RETENTION_SQL = f"""
select cohort_week, week_offset, cohort_size, active_users, retention_rate
from {RETENTION_MART}
order by cohort_week, week_offset
"""


@dataclass(frozen=True)
class WeekKpis:
    week_start: date
    events: int
    active_users: int
    visitors: int
    sessions: int
    bounces: int
    post_views: int
    post_clicks: int
    post_likes: int
    post_shares: int

    @property
    def iso_week(self) -> str:
        return iso_week(self.week_start)

    @property
    def bounce_rate(self) -> float | None:
        return self.bounces / self.sessions if self.sessions else None


def iso_week(week_start: date) -> str:
    year, week, _ = week_start.isocalendar()
    return f"{year}-W{week:02d}"


def week_end(week_start: date) -> datetime:
    """The end of an ISO week (the next Monday 00:00 UTC)."""
    return datetime(week_start.year, week_start.month, week_start.day, tzinfo=UTC) + timedelta(days=7)


@dataclass(frozen=True)
class PerfumeWeek:
    perfume_id: str
    name: str
    house: str
    score: float
    views: int


@dataclass(frozen=True)
class RisingPerfume:
    perfume_id: str
    name: str
    house: str
    views_this_week: int
    views_last_week: int

    @property
    def views_gained(self) -> int:
        return self.views_this_week - self.views_last_week

    @property
    def growth(self) -> float | None:
        """Relative growth in views over the week before; None when it had none then ("new")."""
        if self.views_last_week == 0:
            return None
        return self.views_this_week / self.views_last_week - 1


@dataclass(frozen=True)
class CohortWeek:
    """One row of `weekly_retention_cohorts` (SPEC section 5)."""

    cohort_week: date
    week_offset: int
    cohort_size: int
    active_users: int
    retention_rate: float

    @property
    def week_start(self) -> date:
        """The week this row counts activity in."""
        return self.cohort_week + timedelta(days=7 * self.week_offset)


@dataclass(frozen=True)
class Retention:
    """The cohort mart as read: `built` is False when the warehouse has no such mart yet."""

    built: bool
    rows: tuple[CohortWeek, ...] = ()

    def cohorts(self, last: int) -> list[date]:
        """The newest `last` cohort weeks, oldest first."""
        return sorted({row.cohort_week for row in self.rows})[-last:]

    def cell(self, cohort_week: date, week_offset: int) -> CohortWeek | None:
        return self._cells.get((cohort_week, week_offset))

    def cohort_size(self, cohort_week: date) -> int:
        return next(row.cohort_size for row in self.rows if row.cohort_week == cohort_week)

    @cached_property
    def _cells(self) -> dict[tuple[date, int], CohortWeek]:
        return {(row.cohort_week, row.week_offset): row for row in self.rows}


@dataclass(frozen=True)
class WeeklyReportData:
    weeks: tuple[WeekKpis, ...]
    top_perfumes: tuple[PerfumeWeek, ...]
    rising_perfumes: tuple[RisingPerfume, ...]
    as_of: datetime | None = None
    """The moment the marts were computed at (events after it are not in them); None: unknown."""
    retention: Retention = field(default_factory=lambda: Retention(built=False))

    @property
    def latest(self) -> WeekKpis | None:
        return self.weeks[-1] if self.weeks else None

    def is_partial(self, week_start: date) -> bool:
        """Whether the week had not ended at `as_of`: its figures are the days so far."""
        return self.as_of is not None and self.as_of < week_end(week_start)


def _week(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def combine_weeks(
    event_rows: list[dict[str, Any]], session_rows: list[dict[str, Any]]
) -> tuple[WeekKpis, ...]:
    by_week: dict[date, dict[str, int]] = defaultdict(dict)
    for row in event_rows:
        by_week[_week(row["week_start"])] |= {
            name: int(value or 0) for name, value in row.items() if name != "week_start"
        }
    for row in session_rows:
        by_week[_week(row["week_start"])] |= {
            "sessions": int(row["sessions"]),
            "bounces": int(row["bounces"] or 0),
        }
    fields = [name for name in WeekKpis.__dataclass_fields__ if name != "week_start"]
    return tuple(
        WeekKpis(week_start=week, **{name: values.get(name, 0) for name in fields})
        for week, values in sorted(by_week.items())
    )


def rank_perfumes(
    perfume_rows: list[dict[str, Any]], week: date, top_n: int = 5, min_views: int = 3
) -> tuple[tuple[PerfumeWeek, ...], tuple[RisingPerfume, ...]]:
    """Top perfumes of `week` by weighted interactions; rising ones by view growth over the week before."""
    this_week: dict[str, dict[str, Any]] = {}
    views_before: dict[str, int] = defaultdict(int)
    previous = date.fromordinal(week.toordinal() - 7)
    for row in perfume_rows:
        row_week = _week(row["week_start"])
        if row_week == week:
            this_week[row["perfume_id"]] = row
        elif row_week == previous:
            views_before[row["perfume_id"]] = int(row["views"])

    def label(row: dict[str, Any]) -> tuple[str, str]:
        return row["perfume_name"] or row["perfume_id"], row["house_name"] or "unknown house"

    top = sorted(this_week.values(), key=lambda row: (-float(row["score"]), row["perfume_id"]))[:top_n]
    top_perfumes = tuple(
        PerfumeWeek(row["perfume_id"], *label(row), float(row["score"]), int(row["views"])) for row in top
    )
    rising = [
        RisingPerfume(row["perfume_id"], *label(row), int(row["views"]), views_before[row["perfume_id"]])
        for row in this_week.values()
        if int(row["views"]) >= min_views and int(row["views"]) > views_before[row["perfume_id"]]
    ]
    # By views gained (a column of the table): +3 on a tiny base is noise next to +30 on a real
    # one; then by growth, a perfume new this week first.
    rising.sort(key=lambda perfume: (-perfume.views_gained, -_growth_order(perfume), perfume.perfume_id))
    return top_perfumes, tuple(rising[:top_n])


def _growth_order(perfume: RisingPerfume) -> float:
    return math.inf if perfume.growth is None else perfume.growth


def cohort_rows(rows: list[dict[str, Any]]) -> tuple[CohortWeek, ...]:
    return tuple(
        CohortWeek(
            cohort_week=_week(row["cohort_week"]),
            week_offset=int(row["week_offset"]),
            cohort_size=int(row["cohort_size"]),
            active_users=int(row["active_users"]),
            retention_rate=float(row["retention_rate"]),
        )
        for row in rows
    )


def read_retention(warehouse: Warehouse) -> Retention:
    """The cohort mart, or `built=False` while the warehouse has none (the report says so)."""
    if RETENTION_MART not in warehouse.target.relations():
        return Retention(built=False)
    return Retention(built=True, rows=cohort_rows(warehouse.query(RETENTION_SQL)))


def read_as_of(warehouse: Warehouse) -> datetime | None:
    """The as_of of the newest dbt run: staging, and so every figure of the report, stops there."""
    run = newest_run(latest_builds(warehouse.query(latest_builds_sql())))
    return run.as_of if run else None


def read_weekly_report_data(warehouse: Warehouse, weeks: int = 8) -> WeeklyReportData:
    all_weeks = combine_weeks(warehouse.query(EVENTS_PER_WEEK_SQL), warehouse.query(SESSIONS_PER_WEEK_SQL))
    recent = all_weeks[-weeks:]
    if not recent:
        return WeeklyReportData((), (), (), retention=read_retention(warehouse))
    top, rising = rank_perfumes(warehouse.query(PERFUMES_PER_WEEK_SQL), recent[-1].week_start)
    return WeeklyReportData(
        recent, top, rising, as_of=read_as_of(warehouse), retention=read_retention(warehouse)
    )
