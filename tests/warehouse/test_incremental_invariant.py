"""SPEC 6 as a property test: for random streams — late, out of order, duplicated, opt-outs between
runs — split into random runs, the incrementally maintained marts equal a full refresh over the
same events with the same as_of, and both equal the reference implementation of SPEC 5.

Each seed is one case: the runs are applied one by one (raw rows appended, then `dbt run`), the
marts are checked against the reference after every run, and after the last run a
`--full-refresh` must give the same tables. Even seeds keep as_of fixed; odd seeds advance it to
the arrival time of each run's last row, like scheduled runs with as_of unset. Further cases add
erasures between runs, the behaviour-bot rule switched on (sessions flip in and out of it), as_of
moving backwards, runs of the scheduled jobs' selections (an hourly job between daily ones: each
model catches up on everything since its own last build), and the same on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from orchestration.defs.dbt.jobs import SCHEDULED_DBT_JOBS
from tests.support.events import privacy_row, raw_event, utc
from tests.support.mart_comparison import assert_marts_equal
from tests.support.random_streams import ANCHOR, PROPERTY_SEEDS, Run, apply_run, random_stream
from tests.support.reference_marts import BehaviourBotRule, build_marts, load_catalog
from tests.support.warehouse_harness import SEEDS_DIR, Warehouse

#: low enough that sessions of the random streams trip it, and stop tripping it on erasure
BOT_RULE = BehaviourBotRule(min_events=4, window_seconds=2 * 3600)


@pytest.mark.slow
@pytest.mark.parametrize("seed", PROPERTY_SEEDS)
def test_incremental_runs_equal_full_refresh_and_reference(
    seed: int, tmp_path: Path, parsed_duckdb_project: Warehouse
) -> None:
    runs = random_stream(seed, advancing_as_of=seed % 2 == 1)
    failures = _run_scenario(parsed_duckdb_project.fresh(tmp_path), runs)
    assert not failures, f"seed {seed}:\n" + "\n\n".join(failures)


def _run_scenario(
    warehouse: Warehouse,
    runs: list[Run],
    behaviour_bots: BehaviourBotRule | None = None,
    selection_of_run: Callable[[int], str | None] = lambda number: None,
) -> list[str]:
    """Apply `runs`; check the marts against the reference after each, and against a full refresh.

    `selection_of_run(number)` is the dbt selection of run `number` (None: every model); after a
    selected run, the marts it selects are checked."""
    catalog = load_catalog(SEEDS_DIR)
    dbt_vars = behaviour_bots.dbt_vars() if behaviour_bots else None
    events: list[dict] = []
    privacy: list[dict] = []
    failures: list[str] = []
    incremental: dict = {}
    for number, run in enumerate(runs, start=1):
        apply_run(warehouse, run, events, privacy)
        selection = selection_of_run(number)
        warehouse.build(run.as_of, extra_vars=dbt_vars, select=selection)
        incremental = warehouse.read_marts()
        expected = build_marts(events, privacy, catalog, run.as_of, behaviour_bots)
        if selection:
            expected = {mart: rows for mart, rows in expected.items() if f"+{mart}" in selection.split()}
        try:
            assert_marts_equal(
                expected, incremental, context=f"run {number}/{len(runs)}, incremental vs reference: "
            )
        except AssertionError as error:
            failures.append(str(error))
    warehouse.build(runs[-1].as_of, full_refresh=True, extra_vars=dbt_vars)
    try:
        assert_marts_equal(incremental, warehouse.read_marts(), context="full refresh vs incremental: ")
    except AssertionError as error:
        failures.append(str(error))
    return failures


@pytest.mark.slow
def test_late_event_hands_a_session_to_another_user(tmp_path: Path, parsed_duckdb_project: Warehouse) -> None:
    """A late event of user B, earlier than everything in A's session, makes B the session's user:
    A's profile changes (avg_session_duration_seconds) although no new event of A arrived."""
    session = {"session_id": "s-shared"}
    first = [
        raw_event(
            "PERFUME_VIEW", occurred_at=utc("2026-04-30 10:00"), user_id="u-a", perfume_id="p0001", **session
        ),
        raw_event("PAGE_VIEW", occurred_at=utc("2026-04-30 10:05"), user_id="u-a", **session),
        raw_event("PAGE_VIEW", occurred_at=utc("2026-04-29 08:00"), user_id="u-a", session_id="s-a-other"),
    ]
    late = raw_event(
        "PAGE_VIEW",
        occurred_at=utc("2026-04-30 09:00"),
        received_at=utc("2026-05-01 11:00"),
        user_id="u-b",
        **session,
    )
    runs = [
        Run(as_of=ANCHOR, arrived_by=utc("2026-04-30 10:05"), events=first),
        Run(as_of=ANCHOR, arrived_by=late["received_at"], events=[late]),
    ]
    failures = _run_scenario(parsed_duckdb_project.fresh(tmp_path), runs)
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_as_of_moved_back_without_new_events(tmp_path: Path, parsed_duckdb_project: Warehouse) -> None:
    """A re-run for an earlier as_of (a backfill) must leave out what happened after it again."""
    events = [
        raw_event("PERFUME_VIEW", occurred_at=utc("2026-04-30 10:00"), user_id="u-a", perfume_id="p0001"),
        raw_event("WISHLIST_ADD", occurred_at=utc("2026-04-30 10:01"), user_id="u-a", perfume_id="p0001"),
        raw_event("WISHLIST_REMOVE", occurred_at=utc("2026-05-02 09:00"), user_id="u-a", perfume_id="p0001"),
        raw_event("POST_VIEW", occurred_at=utc("2026-05-02 10:00"), session_id="s-late", post_id="post-9"),
    ]
    runs = [
        Run(as_of=utc("2026-05-03 12:00"), arrived_by=utc("2026-05-02 10:00"), events=events),
        Run(as_of=ANCHOR, arrived_by=utc("2026-05-02 10:00")),
    ]
    failures = _run_scenario(parsed_duckdb_project.fresh(tmp_path), runs)
    assert not failures, "\n\n".join(failures)


@pytest.mark.slow
def test_opt_out_and_back_in_without_new_events(tmp_path: Path, parsed_duckdb_project: Warehouse) -> None:
    """SPEC 7: an opted-out user's data disappears at the next run even when nothing new arrived —
    rows that only they made (a perfume, a post, a session) vanish — and comes back on opt-in."""
    session = {"session_id": "s-x", "user_id": "u-x"}
    events = [
        raw_event("PERFUME_VIEW", occurred_at=utc("2026-04-30 10:00"), perfume_id="p0001", **session),
        raw_event("WISHLIST_ADD", occurred_at=utc("2026-04-30 10:01"), perfume_id="p0001", **session),
        raw_event("POST_LIKE", occurred_at=utc("2026-04-30 10:02"), post_id="post-7", **session),
        raw_event("PERFUME_VIEW", occurred_at=utc("2026-04-30 11:00"), session_id="s-y", perfume_id="p0002"),
    ]
    arrived = utc("2026-04-30 11:00")
    runs = [
        Run(as_of=ANCHOR, arrived_by=arrived, events=events),
        Run(
            as_of=ANCHOR, arrived_by=arrived, privacy=[privacy_row("u-x", "opt_out", utc("2026-04-30 12:00"))]
        ),
        Run(
            as_of=ANCHOR, arrived_by=arrived, privacy=[privacy_row("u-x", "opt_in", utc("2026-04-30 13:00"))]
        ),
    ]
    failures = _run_scenario(parsed_duckdb_project.fresh(tmp_path), runs)
    assert not failures, "\n\n".join(failures)


def _erasing_stream_with_as_of_backwards(seed: int) -> list[Run]:
    """A stream with erasures, advancing as_of, and one run that goes back 3 hours (a backfill)."""
    runs = random_stream(seed, advancing_as_of=True, erasures=True)
    middle = len(runs) // 2
    runs[middle] = replace(runs[middle], as_of=runs[middle - 1].as_of - timedelta(hours=3))
    return runs


def _flagged_somewhere(runs: list[Run]) -> bool:
    """The bot rule must really flip something in the stream, or the case tests nothing."""
    events = [row for run in runs for row in run.events if not row["is_bot"]]
    return bool(BOT_RULE.flagged_sessions(events))


@pytest.mark.slow
@pytest.mark.parametrize("seed", [22, 33])
def test_erasures_bot_flips_and_as_of_backwards(
    seed: int, tmp_path: Path, parsed_duckdb_project: Warehouse
) -> None:
    runs = _erasing_stream_with_as_of_backwards(seed)
    assert any(run.erasures for run in runs) and _flagged_somewhere(runs)
    failures = _run_scenario(parsed_duckdb_project.fresh(tmp_path), runs, BOT_RULE)
    assert not failures, f"seed {seed}:\n" + "\n\n".join(failures)


@pytest.mark.slow
@pytest.mark.postgres
def test_erasures_bot_flips_and_as_of_backwards_on_postgres(
    tmp_path: Path, make_postgres_database: Callable[[str], str]
) -> None:
    runs = _erasing_stream_with_as_of_backwards(31)
    assert any(run.erasures for run in runs) and _flagged_somewhere(runs)
    warehouse = Warehouse(tmp_path, target="prod", postgres_url=make_postgres_database("invariant"))
    failures = _run_scenario(warehouse, runs, BOT_RULE)
    assert not failures, "\n\n".join(failures)


def _scheduled_selection(name: str) -> str:
    return next(select for job, select, _, _ in SCHEDULED_DBT_JOBS if job == name)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [42, 50])
def test_scheduled_selections_catch_up_on_what_the_other_job_saw(
    seed: int, tmp_path: Path, parsed_duckdb_project: Warehouse
) -> None:
    """The hourly job's selection in most runs, the daily job's in every third, all models in the
    last: each run's selected marts equal the reference, though the staging they share was last
    built by the other job (with erasures, opt-outs, logins, late events and an as_of that moves)."""
    runs = random_stream(seed, advancing_as_of=True, erasures=True)
    hourly = _scheduled_selection("hourly_stats_and_trending")
    daily = _scheduled_selection("daily_sessions_and_profiles")

    def selection_of_run(number: int) -> str | None:
        if number == len(runs):
            return None
        return daily if number % 3 == 0 else hourly

    assert len(runs) >= 4, "the stream must alternate the selections"
    failures = _run_scenario(parsed_duckdb_project.fresh(tmp_path), runs, selection_of_run=selection_of_run)
    assert not failures, f"seed {seed}:\n" + "\n\n".join(failures)
