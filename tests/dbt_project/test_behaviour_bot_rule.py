"""The behaviour-bot rule (issue 5) against SPEC section 5's staging.

SPEC section 5 lists staging's filters exhaustively (dedup, `is_bot`, opted-out users, as_of). One
request of the maximum 500 events in one session, sent without client timestamps, has 500 events at
the same instant - exactly what the rule calls a session no human produces. So the marts follow the
SPEC by default and the rule only flags; dropping flagged sessions is asked for with a var.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.dbt_project.dbt_invocation import duckdb_warehouse
from tests.dbt_project.raw_store import append_events

RECEIVED = datetime(2026, 4, 2, 10, 0, tzinfo=UTC)
AS_OF = "2026-04-02T12:00:00+00:00"


def _one_full_batch(session_id: str, size: int = 500) -> list[dict]:
    """What the service stores for one request of `size` events without timestamps."""
    return [
        {
            "event_id": str(uuid.uuid4()),
            "received_at": RECEIVED,
            "occurred_at": RECEIVED,  # no client timestamp: the arrival time
            "session_id": session_id,
            "user_id": None,
            "event_type": "PERFUME_VIEW",
            "event_category": "VIEW",
            "perfume_id": f"p{index % 7:03d}",
            "path": f"/perfumes/p{index % 7:03d}",
            "user_agent": "Mozilla/5.0",
            "device_type": "desktop",
            "browser": "Firefox",
            "os": "Linux",
            "is_bot": False,
            "event_data": {},
        }
        for index in range(size)
    ]


@pytest.mark.slow
def test_a_full_batch_counts_by_default_and_is_dropped_only_when_asked(tmp_path: Path) -> None:
    warehouse = duckdb_warehouse(tmp_path)
    append_events(warehouse, _one_full_batch("s-burst"))
    warehouse.dbt("seed")

    warehouse.dbt("run", as_of=AS_OF)
    flags = warehouse.query("select is_behaviour_bot from int_session_bot_flags where session_id = 's-burst'")
    assert flags == [(True,)], "the rule flags the session"
    session = warehouse.query("select event_count, page_views from sessions where session_id = 's-burst'")
    assert session == [(500, 500)], "SPEC section 5: flagged, not filtered"

    warehouse.dbt("run", "--full-refresh", as_of=AS_OF, extra_vars={"exclude_behaviour_bot_sessions": True})
    assert warehouse.query("select count(*) from sessions where session_id = 's-burst'") == [(0,)]
    assert warehouse.query("select count(*) from perfume_interaction_stats") == [(0,)]
