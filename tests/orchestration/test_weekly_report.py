"""The weekly report's rendering, on hand-made figures whose expected cells are worked out by hand.

What a reader found confusing, each checked here: rising perfumes sorted by a figure the table did
not show (now the "views gained" column it is sorted by), a growth of +300 % that came from a hidden
+1 smoothing (now the real growth, or "new" with no views the week before), and the week in
progress not marked (now "(partial)"). Plus the cohort retention table and heat map.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from orchestration.defs.reports.render import render_markdown, render_retention_heatmap
from orchestration.defs.reports.weekly_kpis import (
    CohortWeek,
    Retention,
    WeekKpis,
    WeeklyReportData,
    rank_perfumes,
)

PREVIOUS, MONDAY = date(2026, 2, 23), date(2026, 3, 2)  # ISO weeks 2026-W09 and 2026-W10
AS_OF = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # Wednesday of W10: that week is in progress
GENERATED = datetime(2026, 3, 4, 12, 5, tzinfo=UTC)


def _week(week_start: date, events: int) -> WeekKpis:
    return WeekKpis(week_start, events, active_users=2, visitors=3, sessions=4, bounces=1,
                    post_views=10, post_clicks=2, post_likes=5, post_shares=0)  # fmt: skip


def _perfume_rows() -> list[dict]:
    def row(week, perfume_id, views):
        return {"week_start": datetime(week.year, week.month, week.day, tzinfo=UTC), "perfume_id": perfume_id,
                "perfume_name": f"Perfume {perfume_id}", "house_name": "House", "score": float(views),
                "views": views}  # fmt: skip

    return [
        row(MONDAY, "p2", 12), row(PREVIOUS, "p2", 2),  # +10 views: 12 / 2 - 1 = +500 %
        row(MONDAY, "p3", 4),  # none the week before: +4, "new" (the +1 smoothing said +400 %)
        row(MONDAY, "p5", 9), row(PREVIOUS, "p5", 6),  # +3 views: 9 / 6 - 1 = +50 %
        row(MONDAY, "p6", 30), row(PREVIOUS, "p6", 31),  # lost a view: not rising
    ]  # fmt: skip


def _cohorts() -> Retention:
    return Retention(
        built=True,
        rows=(
            CohortWeek(PREVIOUS, 0, cohort_size=4, active_users=4, retention_rate=1.0),
            CohortWeek(PREVIOUS, 1, cohort_size=4, active_users=1, retention_rate=0.25),
            CohortWeek(MONDAY, 0, cohort_size=2, active_users=2, retention_rate=1.0),
        ),
    )


def _data(retention: Retention | None = None, as_of: datetime | None = AS_OF) -> WeeklyReportData:
    top, rising = rank_perfumes(_perfume_rows(), MONDAY)
    return WeeklyReportData(
        weeks=(_week(PREVIOUS, 40), _week(MONDAY, 25)),
        top_perfumes=top,
        rising_perfumes=rising,
        as_of=as_of,
        retention=retention or Retention(built=False),
    )


def _lines(markdown: str) -> list[str]:
    return markdown.splitlines()


def test_rising_perfumes_are_sorted_by_the_views_gained_they_show_with_their_real_growth():
    _, rising = rank_perfumes(_perfume_rows(), MONDAY)
    assert [(p.perfume_id, p.views_gained, p.growth) for p in rising] == [
        ("p2", 10, 5.0),
        ("p3", 4, None),
        ("p5", 3, 0.5),
    ]
    lines = _lines(render_markdown(_data(), GENERATED, "chart.png"))
    header = "| perfume | house | views | views the week before | views gained | growth |"
    start = lines.index(header) + 2
    assert lines[start : start + 3] == [
        "| Perfume p2 | House | 12 | 2 | +10 | +500% |",
        "| Perfume p3 | House | 4 | 0 | +4 | new |",
        "| Perfume p5 | House | 9 | 6 | +3 | +50% |",
    ]


def test_the_week_in_progress_is_marked_partial_and_full_weeks_are_not():
    data = _data()
    assert data.is_partial(MONDAY) and not data.is_partial(PREVIOUS)
    markdown = render_markdown(data, GENERATED, "chart.png")
    lines = _lines(markdown)
    assert lines[0] == "# Weekly interaction report — 2026-W10 (partial)"
    assert "| 2026-W09 | 2 | 3 | 4 | 25% | 40 |" in lines
    assert "| 2026-W10 (partial) | 2 | 3 | 4 | 25% | 25 |" in lines
    assert "| 2026-W10 (partial) | 10 | 2 | 5 | 0 | 50% |" in lines  # post engagement
    assert "events up to Wed 2026-03-04 12:00 UTC only" in markdown


def test_a_week_is_complete_once_as_of_reaches_the_next_monday():
    data = _data(as_of=datetime(2026, 3, 9, 0, 0, tzinfo=UTC))  # Monday of W11, 00:00
    assert not data.is_partial(MONDAY)
    markdown = render_markdown(data, GENERATED, "chart.png")
    assert "(partial)" not in markdown and "in progress**" not in markdown
    assert "| 2026-W10 | 2 | 3 | 4 | 25% | 25 |" in _lines(markdown)


def test_the_cohort_table_shows_each_cohorts_retention_and_marks_the_week_in_progress(tmp_path):
    data = _data(_cohorts())
    lines = _lines(render_markdown(data, GENERATED, "chart.png", "retention.png"))
    start = lines.index("| cohort | users | +0 | +1 |")
    assert lines[start + 1 : start + 4] == [
        "|---|---:|---:|---:|",
        "| 2026-W09 | 4 | 100% | 25%* |",  # +1 of W09 is W10, in progress
        "| 2026-W10 | 2 | 100%* |  |",
    ]
    assert "![weekly retention cohorts](retention.png)" in lines

    heatmap = render_retention_heatmap(data, tmp_path / "retention.png")
    assert heatmap.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_a_report_without_the_cohort_mart_says_so_instead_of_failing():
    markdown = render_markdown(_data(Retention(built=False)), GENERATED, "chart.png", "retention.png")
    assert "The `weekly_retention_cohorts` mart is not built in this warehouse yet" in markdown
    assert "retention.png" not in markdown
    no_users = render_markdown(_data(Retention(built=True)), GENERATED, "chart.png", "retention.png")
    assert "No identified users yet, so no cohorts." in no_users
