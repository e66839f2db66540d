"""Staging's edges on the real project: a fresh machine with no raw file at all, a delivery seen
twice (a raw file and its compacted copy), and the behaviour-bot rule against SPEC section 5's
staging.

SPEC section 5 lists staging's filters exhaustively (dedup, `is_bot`, opted-out users, as_of). One
request of the maximum 500 events in one session, sent without client timestamps, has 500 events at
the same instant - exactly what the rule calls a session no human produces. So the marts follow the
SPEC by default and the rule only flags; dropping flagged sessions is asked for with a var.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.events import raw_event, utc
from tests.support.reference_marts import MART_KEYS, BehaviourBotRule
from tests.support.warehouse_harness import Warehouse

HOUR = utc("2026-04-02 10:00")
AS_OF = utc("2026-04-02 12:00")


@pytest.mark.slow
def test_build_on_an_empty_data_dir_gives_empty_marts(
    tmp_path: Path, parsed_duckdb_project: Warehouse
) -> None:
    warehouse = parsed_duckdb_project.fresh(tmp_path)
    shutil.rmtree(warehouse.data_dir / "raw")  # not even the empty schema files the service writes
    warehouse.build(None, command="build")
    for mart in MART_KEYS:
        assert warehouse.query(f"select count(*) as n from {mart}") == [{"n": 0}], mart


@pytest.mark.slow
def test_exact_copies_count_once_and_later_events_of_their_hour_are_still_found(
    tmp_path: Path, parsed_duckdb_project: Warehouse
) -> None:
    """SPEC section 6: no event is missed, however the store was rewritten."""
    warehouse = parsed_duckdb_project.fresh(tmp_path)
    first = [
        raw_event(received_at=HOUR + timedelta(minutes=5 + minute), session_id="s1") for minute in range(3)
    ]
    warehouse.append_events(first)
    original = set(warehouse.events_dir.glob("*.parquet"))
    warehouse.append_events(first)  # the same rows again, in a second file
    warehouse.build(AS_OF)
    assert warehouse.query("select event_count from sessions where session_id = 's1'") == [{"event_count": 3}]

    # compaction drops the copy; one more event arrives in the same hour
    for copy in set(warehouse.events_dir.glob("*.parquet")) - original:
        copy.unlink()
    warehouse.append_events([raw_event(received_at=HOUR + timedelta(minutes=20), session_id="s1")])
    warehouse.build(AS_OF)
    assert warehouse.query("select event_count from sessions where session_id = 's1'") == [{"event_count": 4}]


def _one_full_batch(session_id: str, size: int = 500) -> list[dict]:
    """What the service stores for one request of `size` events without timestamps."""
    return [
        raw_event("PERFUME_VIEW", received_at=HOUR, session_id=session_id, perfume_id=f"p{index % 7:03d}")
        for index in range(size)
    ]


@pytest.mark.slow
def test_a_full_batch_counts_by_default_and_is_dropped_only_when_asked(
    tmp_path: Path, parsed_duckdb_project: Warehouse
) -> None:
    warehouse = parsed_duckdb_project.fresh(tmp_path)
    warehouse.append_events(_one_full_batch("s-burst"))
    warehouse.build(AS_OF)
    flags = warehouse.query(
        "select is_behaviour_bot from base_session_bot_flags where session_id = 's-burst'"
    )
    assert flags == [{"is_behaviour_bot": True}], "the rule flags the session"
    session = warehouse.query("select event_count, page_views from sessions where session_id = 's-burst'")
    assert session == [{"event_count": 500, "page_views": 500}], "SPEC section 5: flagged, not filtered"

    default_rule = BehaviourBotRule(min_events=500, window_seconds=60)
    warehouse.build(AS_OF, full_refresh=True, extra_vars=default_rule.dbt_vars())
    assert warehouse.query("select count(*) as n from sessions where session_id = 's-burst'") == [{"n": 0}]
    assert warehouse.query("select count(*) as n from perfume_interaction_stats") == [{"n": 0}]
