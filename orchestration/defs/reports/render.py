"""The weekly report rendered as Markdown and a PNG chart (matplotlib's Agg backend: no display)."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: runs in the Dagster daemon, CI and containers
import matplotlib.pyplot as plt  # noqa: E402

from orchestration.defs.reports.weekly_kpis import WeeklyReportData  # noqa: E402


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


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


def render_markdown(data: WeeklyReportData, generated_at: datetime, chart_file: str) -> str:
    latest = data.latest
    if latest is None:
        return (
            "# Weekly interaction report\n\nNo events in the warehouse yet: send some traffic and rebuild.\n"
        )
    lines = [
        f"# Weekly interaction report — {latest.iso_week}",
        "",
        f"Generated {generated_at:%Y-%m-%d %H:%M} UTC. Weeks are ISO weeks (Monday–Sunday, UTC); "
        "bots, duplicates and opted-out users are excluded. Visitors count anonymous sessions and "
        "logged-in users; active users only logged-in ones.",
        "",
        "## KPIs per week",
        "",
        "| week | active users | visitors | sessions | bounce rate | events |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {week.iso_week} | {week.active_users} | {week.visitors} | {week.sessions} | "
        f"{_rate(week.bounce_rate)} | {week.events} |"
        for week in data.weeks
    ]
    lines += [
        "",
        f"## Top perfumes — {latest.iso_week}",
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
        f"## Rising perfumes — views in {latest.iso_week} vs the week before",
        "",
        "| perfume | house | views | views the week before | growth |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [
        f"| {perfume.name} | {perfume.house} | {perfume.views_this_week} | {perfume.views_last_week} | "
        f"{perfume.growth:+.0%} |"
        for perfume in data.rising_perfumes
    ] or ["| no perfume gained views this week | | | | |"]
    lines += [
        "",
        "## Post engagement",
        "",
        "| week | views | clicks | likes | shares | likes per view |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {week.iso_week} | {week.post_views} | {week.post_clicks} | {week.post_likes} | "
        f"{week.post_shares} | "
        f"{_rate(week.post_likes / week.post_views if week.post_views else None)} |"
        for week in data.weeks
    ]
    lines += ["", f"![weekly activity]({chart_file})", ""]
    return "\n".join(lines)


def embed_png(markdown: str, chart_file: str, chart_path: Path) -> str:
    """The same Markdown with the chart inlined, so the Dagster UI shows it in the asset's metadata."""
    encoded = base64.b64encode(chart_path.read_bytes()).decode("ascii")
    return markdown.replace(f"]({chart_file})", f"](data:image/png;base64,{encoded})")
