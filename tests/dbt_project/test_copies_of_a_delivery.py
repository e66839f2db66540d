"""A delivery seen twice (a raw file and its compacted copy, or the exact copies a crash during
compaction leaves) is one delivery, and new events of the same arrival hour are still found
after the copies are gone (SPEC section 6: no event is missed, however the store was rewritten)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.dbt_project.dbt_invocation import duckdb_warehouse
from tests.dbt_project.raw_store import append_events

HOUR = datetime(2026, 4, 2, 10, 0, tzinfo=UTC)
AS_OF = "2026-04-02T12:00:00+00:00"


def _page_view(received_at: datetime) -> dict:
    return {
        "event_id": str(uuid.uuid4()),
        "received_at": received_at,
        "occurred_at": received_at,
        "session_id": "s1",
        "event_type": "PAGE_VIEW",
        "event_category": "VIEW",
        "path": "/",
        "device_type": "desktop",
        "browser": "Firefox",
        "os": "Linux",
        "is_bot": False,
        "event_data": {},
    }


@pytest.mark.slow
def test_exact_copies_count_once_and_later_events_of_their_hour_are_still_found(tmp_path: Path) -> None:
    warehouse = duckdb_warehouse(tmp_path)
    events_dir = Path(warehouse.env["DATA_DIR"]) / "raw" / "interaction_events"
    first = [_page_view(HOUR + timedelta(minutes=5 + minute)) for minute in range(3)]
    append_events(warehouse, first)
    original = set(events_dir.glob("*.parquet"))
    append_events(warehouse, first)  # the same rows again, in a second file
    warehouse.dbt("seed")
    warehouse.dbt("run", as_of=AS_OF)
    assert warehouse.query("select event_count from sessions where session_id = 's1'") == [(3,)]

    # compaction drops the copy; one more event arrives in the same hour
    for copy in set(events_dir.glob("*.parquet")) - original:
        copy.unlink()
    append_events(warehouse, [_page_view(HOUR + timedelta(minutes=20))])
    warehouse.dbt("run", as_of=AS_OF)
    assert warehouse.query("select event_count from sessions where session_id = 's1'") == [(4,)]
