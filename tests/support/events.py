"""The one event factory: complete raw event rows (every column of `raw_schema.RAW_EVENT_COLUMNS`)
with sensible defaults, so a test spells out only what matters to it, and privacy-log rows."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from ingest_service.storage.raw_schema import RAW_EVENT_COLUMN_NAMES, REJECTED_EVENT_COLUMN_NAMES
from tests.support.reference_marts import EVENT_CATEGORIES

FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def utc(text: str) -> datetime:
    """`utc("2026-05-01 11:00")` — fixture timestamps read like the spec's examples."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def event_id_for(label: str) -> str:
    """A stable uuid per readable label, so fixtures can name their duplicates."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"warehouse-test/{label}"))


def raw_event(
    event_type: str = "PAGE_VIEW",
    *,
    occurred_at: datetime | None = None,
    received_at: datetime | None = None,
    **columns: Any,
) -> dict[str, Any]:
    """One raw row as the ingest service stores it; `occurred_at` defaults to `received_at` (an
    event sent without a client timestamp) and the other way round. Any column may be given."""
    if occurred_at is None and received_at is None:
        raise TypeError("raw_event needs occurred_at or received_at")
    row: dict[str, Any] = dict.fromkeys(RAW_EVENT_COLUMN_NAMES)
    row.update(
        event_id=str(uuid.uuid4()),
        received_at=received_at or occurred_at,
        occurred_at=occurred_at or received_at,
        session_id="s-default",
        event_type=event_type,
        event_category=EVENT_CATEGORIES[event_type],
        path="/",
        user_agent=FIREFOX_ON_LINUX,
        device_type="desktop",
        browser="Firefox",
        os="Linux",
        is_bot=False,
        event_data={},
    )
    unknown = columns.keys() - row.keys()
    if unknown:
        raise TypeError(f"not raw event columns: {sorted(unknown)}")
    row.update(columns)
    if row["event_data"] is None:
        row["event_data"] = {}
    return row


def privacy_row(user_id: str, action: str, requested_at: datetime) -> dict[str, Any]:
    return {"user_id": user_id, "action": action, "requested_at": requested_at}


def rejected_event(
    event: Any,
    *,
    received_at: datetime,
    error: str = "events[0].perfumeId: required",
    reason: str = "missing_required",
    **columns: Any,
) -> dict[str, Any]:
    """One row of the rejected events: `event` as the client sent it (a dict, kept as JSON text)."""
    row: dict[str, Any] = dict.fromkeys(REJECTED_EVENT_COLUMN_NAMES)
    row.update(
        rejection_id=str(uuid.uuid4()),
        received_at=received_at,
        endpoint="/api/analytics",
        reason=reason,
        error=error,
        event=json.dumps(event),
        event_truncated=False,
    )
    unknown = columns.keys() - row.keys()
    if unknown:
        raise TypeError(f"not rejected event columns: {sorted(unknown)}")
    row.update(columns)
    return row
