"""Every asset materialized on DuckDB from generated events: real Dagster, real dbt, real files.

Expected values are worked out from the generated traffic with the SPEC's rules (bots dropped,
retries counted once, ISO weeks in UTC), not read back from the pipeline.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from ingest_service.storage.locations import RawStores
from ingest_service.storage.snapshots import read_snapshot, snapshots_dir
from orchestration.definitions import build_definitions, shared_resources
from orchestration.sample_traffic import raw_rows
from tests.support.raw_store import write_events
from tests.support.reference_marts import MART_KEYS

#: the marts of SPEC section 5 (the reference's keys list them; staging is not a mart)
MARTS = tuple(name for name in MART_KEYS if name != "stg_interaction_events")


def monday_of(moment: datetime):
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def iso_week(moment) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def expected_figures(traffic):
    human = [session for session in traffic.sessions if not session.client.is_bot]
    events = [(session, event) for session in human for event in session.events]
    # SPEC 5 stitching, as the sample traffic uses it: one user logs in on a browser (their
    # sessions' events carry both its anonymous id and their user id), so an anonymous session of
    # that browser is theirs
    claimed = {session.anonymous_id: session.user_id for session in human if session.user_id}

    def resolved(session):
        return session.user_id or claimed.get(session.anonymous_id)

    def actor(session):
        if resolved(session):
            return f"u:{resolved(session)}"
        return f"a:{session.anonymous_id}" if session.anonymous_id else f"s:{session.session_id}"

    # SPEC 5 user_item_interactions: an event's items are its own perfume, house and post ids
    items = {
        (actor(session), item_type, item_id)
        for session, event in events
        for item_type, item_id in (
            ("perfume", event.perfume_id),
            ("house", event.house_id),
            ("post", event.post_id),
        )
        if item_id
    }
    # weekly_retention_cohorts: a resolved user's cohort is the Monday of their earliest event's
    # week; each cohort has a row per week from it up to the week of as_of (now: the run's start)
    first_seen: dict[str, datetime] = {}
    for session, event in events:
        user = resolved(session)
        if user and (user not in first_seen or event.occurred_at < first_seen[user]):
            first_seen[user] = event.occurred_at
    this_monday = monday_of(datetime.now(UTC))
    cohort_weeks = {monday_of(moment) for moment in first_seen.values()}

    per_week = defaultdict(lambda: {"events": 0, "users": set(), "sessions": 0})
    for session, event in events:
        week = per_week[iso_week(event.occurred_at)]
        week["events"] += 1
        if session.user_id:
            week["users"].add(session.user_id)
    for session in human:
        per_week[iso_week(min(event.occurred_at for event in session.events))]["sessions"] += 1
    return {
        "sessions": len(human),
        "user_behavior_profile": len({resolved(session) for session in human if resolved(session)}),
        "post_engagement": len({event.post_id for _, event in events if event.post_id}),
        "user_engagement_30d": len({(resolved(s), e.event_type) for s, e in events if resolved(s)}),
        "identity_map": len(claimed),
        "user_item_interactions": len(items),
        "weekly_retention_cohorts": sum((this_monday - week).days // 7 + 1 for week in cohort_weeks),
        "weeks": {
            week: (len(values["users"]), values["sessions"], values["events"])
            for week, values in per_week.items()
        },
    }


#: a row of the KPI table: week (marked when partial), active users, visitors, sessions, bounce rate, events
KPI_ROW = re.compile(r"^\| (\d{4}-W\d\d)( \(partial\))? \| (\d+) \| \d+ \| (\d+) \| [^|]+ \| (\d+) \|$", re.M)


def report_table(markdown: str) -> dict[str, tuple[int, int, int]]:
    """The KPI table of the report: week → (active users, sessions, events)."""
    rows = KPI_ROW.findall(markdown)
    return {week: (int(users), int(sessions), int(events)) for week, _, users, sessions, events in rows}


def partial_weeks(markdown: str) -> list[str]:
    """The weeks the KPI table marks as still in progress."""
    return [week for week, partial, *_ in KPI_ROW.findall(markdown) if partial]


@pytest.mark.slow
def test_every_asset_builds_on_duckdb_with_passing_checks(
    dbt_manifest, local_settings, data_dir, small_traffic
):
    rows = raw_rows(small_traffic)
    write_events(RawStores(data_dir=data_dir), rows)
    defs = build_definitions(local_settings)
    job = defs.resolve_implicit_global_asset_job_def()

    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())

    assert result.success
    graph = defs.resolve_asset_graph()
    materialized = {event.asset_key for event in result.get_asset_materialization_events()}
    assert materialized == set(graph.materializable_asset_keys)
    evaluations = result.get_asset_check_evaluations()
    assert {evaluation.asset_check_key for evaluation in evaluations} == set(graph.asset_check_keys)
    assert [evaluation.check_name for evaluation in evaluations if not evaluation.passed] == []

    raw_event = next(
        event
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey(["raw", "interaction_events"])
    )
    assert raw_event.materialization.metadata["dagster/row_count"].value == len(rows)

    expected = expected_figures(small_traffic)
    warehouse = shared_resources(local_settings)["warehouse"]
    counts = {mart: warehouse.query(f"select count(*) as n from {mart}")[0]["n"] for mart in MARTS}
    assert all(count > 0 for count in counts.values()), counts
    for mart in (
        "sessions",
        "user_behavior_profile",
        "post_engagement",
        "user_engagement_30d",
        "identity_map",
        "user_item_interactions",
        "weekly_retention_cohorts",
    ):
        assert counts[mart] == expected[mart], mart

    reports = list((data_dir / "reports").glob("weekly_report_*.md"))
    assert len(reports) == 1
    assert reports[0].with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    markdown = reports[0].read_text()
    assert report_table(markdown) == dict(sorted(expected["weeks"].items())[-8:])
    # the marts are as of the run's start: only a latest week that is this ISO week is unfinished
    latest_week = max(expected["weeks"])
    assert partial_weeks(markdown) == ([latest_week] if latest_week == iso_week(datetime.now(UTC)) else [])

    # the dbt run was followed by a published snapshot of the marts it built
    snapshot = read_snapshot(snapshots_dir(data_dir))
    assert snapshot is not None
    for mart in ("trending_perfumes", "perfume_interaction_stats", "user_behavior_profile"):
        assert snapshot.tables[mart].num_rows == counts[mart], mart
