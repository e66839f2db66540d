"""Weekly KPIs read from the warehouse, as plain rows: pure shaping, no Dagster, no rendering.

Weeks are ISO weeks (Monday 00:00 UTC to Sunday 24:00 UTC). The SQL is written once for both
warehouses: `date_trunc('week', …)` starts weeks on Monday in DuckDB and PostgreSQL alike, and the
connections run in UTC.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

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
        year, week, _ = self.week_start.isocalendar()
        return f"{year}-W{week:02d}"

    @property
    def bounce_rate(self) -> float | None:
        return self.bounces / self.sessions if self.sessions else None


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
    def growth(self) -> float:
        """Relative growth in views; +1 on both sides so a perfume new this week is not infinite."""
        return (self.views_this_week + 1) / (self.views_last_week + 1) - 1


@dataclass(frozen=True)
class WeeklyReportData:
    weeks: tuple[WeekKpis, ...]
    top_perfumes: tuple[PerfumeWeek, ...]
    rising_perfumes: tuple[RisingPerfume, ...]

    @property
    def latest(self) -> WeekKpis | None:
        return self.weeks[-1] if self.weeks else None


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
    # By views gained first: +3 on a tiny base is noise next to +30 on a real one.
    rising.sort(key=lambda perfume: (-perfume.views_gained, -perfume.growth, perfume.perfume_id))
    return top_perfumes, tuple(rising[:top_n])


def read_weekly_report_data(warehouse: Warehouse, weeks: int = 8) -> WeeklyReportData:
    all_weeks = combine_weeks(warehouse.query(EVENTS_PER_WEEK_SQL), warehouse.query(SESSIONS_PER_WEEK_SQL))
    recent = all_weeks[-weeks:]
    if not recent:
        return WeeklyReportData((), (), ())
    top, rising = rank_perfumes(warehouse.query(PERFUMES_PER_WEEK_SQL), recent[-1].week_start)
    return WeeklyReportData(recent, top, rising)
