"""The weekly report rendered as Markdown and a PNG chart (matplotlib's Agg backend: no display)."""

from __future__ import annotations

import base64
import math
from datetime import date, datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: runs in the Dagster daemon, CI and containers
import matplotlib.pyplot as plt  # noqa: E402

from orchestration.defs.reports.weekly_kpis import (  # noqa: E402
    RETENTION_MART,
    RisingPerfume,
    WeeklyReportData,
    iso_week,
)

#: the cohort table and heat map show the newest cohorts and the first weeks after them
RETENTION_COHORTS = 8
RETENTION_OFFSETS = 8
PARTIAL_MARK = "*"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def week_label(data: WeeklyReportData, week_start: date) -> str:
    """`2026-W18`, or `2026-W18 (partial)` for a week that had not ended at the data's as_of."""
    return f"{iso_week(week_start)} (partial)" if data.is_partial(week_start) else iso_week(week_start)


def growth_text(perfume: RisingPerfume) -> str:
    """The real relative growth (`+150%`); `new` when the perfume had no views the week before."""
    return "new" if perfume.growth is None else f"{perfume.growth:+.0%}"


def retention_grid(data: WeeklyReportData) -> tuple[list[date], list[int]]:
    """The cohorts (rows) and week offsets (columns) the table and the heat map show."""
    cohorts = data.retention.cohorts(RETENTION_COHORTS)
    offsets = sorted({row.week_offset for row in data.retention.rows if row.cohort_week in cohorts})
    return cohorts, offsets[:RETENTION_OFFSETS]


def retention_cell_text(data: WeeklyReportData, cohort: date, offset: int) -> str:
    cell = data.retention.cell(cohort, offset)
    if cell is None:
        return ""
    text = f"{cell.retention_rate:.0%}"
    return text + PARTIAL_MARK if data.is_partial(cell.week_start) else text


def render_chart(data: WeeklyReportData, path: Path) -> Path:
    labels = [week.iso_week for week in data.weeks]
    figure, (activity, posts) = plt.subplots(1, 2, figsize=(11, 4))
    activity.plot(labels, [week.visitors for week in data.weeks], marker="o", label="visitors")
    activity.plot(labels, [week.active_users for week in data.weeks], marker="o", label="active users")
    activity.plot(labels, [week.sessions for week in data.weeks], marker="o", label="sessions")
    activity.set_title("Weekly activity")
    activity.legend()
    width = 0.2
    positions = range(len(labels))
    for offset, (name, values) in enumerate(
        (
            ("views", [week.post_views for week in data.weeks]),
            ("clicks", [week.post_clicks for week in data.weeks]),
            ("likes", [week.post_likes for week in data.weeks]),
            ("shares", [week.post_shares for week in data.weeks]),
        )
    ):
        posts.bar([x + (offset - 1.5) * width for x in positions], values, width, label=name)
    posts.set_xticks(list(positions), labels)
    posts.set_title("Post engagement")
    posts.legend()
    for axis in (activity, posts):
        axis.tick_params(axis="x", labelrotation=45)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def render_retention_heatmap(data: WeeklyReportData, path: Path) -> Path:
    """Retention by cohort (rows) and weeks since (columns), the same cells as the Markdown table."""
    cohorts, offsets = retention_grid(data)
    rates = {(row.cohort_week, row.week_offset): row.retention_rate for row in data.retention.rows}
    grid = [[rates.get((cohort, offset), math.nan) for offset in offsets] for cohort in cohorts]
    figure, axis = plt.subplots(figsize=(1.2 + 0.9 * len(offsets), 1.0 + 0.5 * len(cohorts)))
    image = axis.imshow(grid, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    for row, cohort in enumerate(cohorts):
        for column, offset in enumerate(offsets):
            text = retention_cell_text(data, cohort, offset)
            if text:
                dark = grid[row][column] > 0.6
                axis.text(column, row, text, ha="center", va="center", color="white" if dark else "black")
    axis.set_xticks(range(len(offsets)), [f"+{offset}" for offset in offsets])
    axis.set_yticks(
        range(len(cohorts)),
        [f"{iso_week(cohort)} ({data.retention.cohort_size(cohort)})" for cohort in cohorts],
    )
    axis.set_xlabel("weeks since the cohort week")
    axis.set_ylabel("cohort (users)")
    axis.set_title(f"Weekly retention by cohort ({PARTIAL_MARK} week in progress)")
    figure.colorbar(image, ax=axis, format=lambda value, _: f"{value:.0%}")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _retention_lines(data: WeeklyReportData, heatmap_file: str) -> list[str]:
    lines = ["", "## Weekly retention cohorts", ""]
    if not data.retention.built:
        return lines + [
            f"The `{RETENTION_MART}` mart is not built in this warehouse yet: the cohort table appears "
            "after the first dbt run that builds it."
        ]
    cohorts, offsets = retention_grid(data)
    if not cohorts:
        return lines + ["No identified users yet, so no cohorts."]
    lines += [
        "Identified users by the ISO week of their first event (the cohort); each cell is the share "
        "of the cohort active in the week that many weeks later (+0 is the cohort week itself). "
        f"{PARTIAL_MARK} marks a week still in progress.",
        "",
        "| cohort | users | " + " | ".join(f"+{offset}" for offset in offsets) + " |",
        "|---|---:|" + "---:|" * len(offsets),
    ]
    for cohort in cohorts:
        cells = [retention_cell_text(data, cohort, offset) for offset in offsets]
        size = data.retention.cohort_size(cohort)
        lines.append(f"| {iso_week(cohort)} | {size} | " + " | ".join(cells) + " |")
    return lines + ["", f"![weekly retention cohorts]({heatmap_file})"]


def render_markdown(
    data: WeeklyReportData, generated_at: datetime, chart_file: str, heatmap_file: str = ""
) -> str:
    latest = data.latest
    if latest is None:
        return (
            "# Weekly interaction report\n\nNo events in the warehouse yet: send some traffic and rebuild.\n"
        )
    latest_label = week_label(data, latest.week_start)
    lines = [
        f"# Weekly interaction report — {latest_label}",
        "",
        f"Generated {generated_at:%Y-%m-%d %H:%M} UTC. Weeks are ISO weeks (Monday–Sunday, UTC); "
        "bots, duplicates and opted-out users are excluded. Visitors count anonymous sessions and "
        "logged-in users; active users only logged-in ones.",
    ]
    if data.is_partial(latest.week_start):
        lines += [
            "",
            f"**{latest.iso_week} is still in progress**: its figures cover the events up to "
            f"{data.as_of:%a %Y-%m-%d %H:%M} UTC only, so compare it with full weeks with care.",
        ]
    lines += [
        "",
        "## KPIs per week",
        "",
        "| week | active users | visitors | sessions | bounce rate | events |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {week_label(data, week.week_start)} | {week.active_users} | {week.visitors} | {week.sessions} | "
        f"{_rate(week.bounce_rate)} | {week.events} |"
        for week in data.weeks
    ]
    lines += [
        "",
        f"## Top perfumes — {latest_label}",
        "",
        "| rank | perfume | house | score | views |",
        "|---:|---|---|---:|---:|",
    ]
    lines += [
        f"| {rank} | {perfume.name} | {perfume.house} | {perfume.score:.1f} | {perfume.views} |"
        for rank, perfume in enumerate(data.top_perfumes, start=1)
    ] or ["| – | no perfume activity this week | | | |"]
    lines += [
        "",
        f"## Rising perfumes — most views gained in {latest_label} over the week before",
        "",
        "Sorted by views gained; growth is relative to the week before (`new`: no views then).",
        "",
        "| perfume | house | views | views the week before | views gained | growth |",
        "|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {perfume.name} | {perfume.house} | {perfume.views_this_week} | {perfume.views_last_week} | "
        f"{perfume.views_gained:+d} | {growth_text(perfume)} |"
        for perfume in data.rising_perfumes
    ] or ["| no perfume gained views this week | | | | | |"]
    lines += [
        "",
        "## Post engagement",
        "",
        "| week | views | clicks | likes | shares | likes per view |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {week_label(data, week.week_start)} | {week.post_views} | {week.post_clicks} | "
        f"{week.post_likes} | {week.post_shares} | "
        f"{_rate(week.post_likes / week.post_views if week.post_views else None)} |"
        for week in data.weeks
    ]
    lines += ["", f"![weekly activity]({chart_file})"]
    lines += _retention_lines(data, heatmap_file)
    lines.append("")
    return "\n".join(lines)


def embed_png(markdown: str, chart_file: str, chart_path: Path) -> str:
    """The same Markdown with a chart inlined, so the Dagster UI shows it in the asset's metadata."""
    encoded = base64.b64encode(chart_path.read_bytes()).decode("ascii")
    return markdown.replace(f"]({chart_file})", f"](data:image/png;base64,{encoded})")
