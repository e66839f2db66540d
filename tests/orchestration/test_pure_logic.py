"""The small decisions of the orchestration, checked against the rules they implement."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from orchestration.defs.ingest.checks import freshness_verdict
from orchestration.defs.ingest.sensors import decide_on_new_events
from orchestration.defs.reports.weekly_kpis import combine_weeks, rank_perfumes
from orchestration.resources import RawEventsSummary

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


def test_freshness_passes_within_the_lag_and_fails_beyond_it():
    lag = timedelta(hours=6)
    assert freshness_verdict(RawEventsSummary(10, NOW - timedelta(hours=5, minutes=59)), lag, NOW)[0]
    assert freshness_verdict(RawEventsSummary(10, NOW - lag), lag, NOW)[0]
    stale, message = freshness_verdict(RawEventsSummary(10, NOW - timedelta(hours=7)), lag, NOW)
    assert not stale and "7.00 h ago" in message
    empty, message = freshness_verdict(RawEventsSummary(0, None), lag, NOW)
    assert not empty and "no raw events" in message


def test_sensor_waits_below_the_threshold_and_keeps_its_cursor():
    decision = decide_on_new_events("2026-03-04T10:00:00+00:00", RawEventsSummary(99, NOW), threshold=100)
    assert not decision.should_run
    assert decision.cursor == "2026-03-04T10:00:00+00:00"


def test_sensor_runs_at_the_threshold_and_moves_its_cursor_to_the_newest_event():
    decision = decide_on_new_events(None, RawEventsSummary(100, NOW), threshold=100)
    assert decision.should_run
    assert datetime.fromisoformat(decision.cursor) == NOW


def _week_row(week: date, **values):
    return {"week_start": datetime(week.year, week.month, week.day, tzinfo=UTC), **values}


def test_weeks_combine_events_and_sessions_in_iso_order():
    monday, previous = date(2026, 3, 2), date(2026, 2, 23)
    weeks = combine_weeks(
        [_week_row(monday, events=5, active_users=1, visitors=2), _week_row(previous, events=3)],
        [_week_row(monday, sessions=4, bounces=1)],
    )
    assert [week.iso_week for week in weeks] == ["2026-W09", "2026-W10"]
    assert (weeks[1].events, weeks[1].sessions, weeks[1].bounce_rate) == (5, 4, 0.25)
    assert weeks[0].sessions == 0 and weeks[0].bounce_rate is None


def test_top_and_rising_perfumes_of_a_week():
    monday, previous = date(2026, 3, 2), date(2026, 2, 23)

    def row(week, perfume_id, score, views):
        return _week_row(
            week, perfume_id=perfume_id, perfume_name=None, house_name=None, score=score, views=views
        )

    rows = [
        row(monday, "p1", 50.0, 20),
        row(previous, "p1", 60.0, 30),  # fewer views than last week: top, not rising
        row(monday, "p2", 20.0, 12),
        row(previous, "p2", 5.0, 2),  # +10 views
        row(monday, "p3", 20.0, 4),  # new this week, +4 views; ties p2 on score, loses on id
        row(monday, "p4", 1.0, 2),  # below the 3-view floor for rising
    ]
    top, rising = rank_perfumes(rows, monday)
    assert [perfume.perfume_id for perfume in top] == ["p1", "p2", "p3", "p4"]
    assert [perfume.perfume_id for perfume in rising] == ["p2", "p3"]
    assert rising[0].views_gained == 10
