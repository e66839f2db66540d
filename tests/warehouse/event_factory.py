"""Complete raw event rows (the columns of `raw_schema.RAW_EVENT_COLUMNS`) with sensible defaults,
so a test spells out only what matters to it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from tests.warehouse.reference_marts import EVENT_CATEGORIES


def utc(text: str) -> datetime:
    """`utc("2026-05-01 11:00")` — fixture timestamps read like the spec's examples."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def event_id_for(label: str) -> str:
    """A stable uuid per readable label, so fixtures can name their duplicates."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"warehouse-test/{label}"))


def raw_event(
    event_type: str,
    *,
    occurred_at: datetime,
    received_at: datetime | None = None,
    event_id: str | None = None,
    session_id: str = "s-default",
    user_id: str | None = None,
    perfume_id: str | None = None,
    house_id: str | None = None,
    post_id: str | None = None,
    path: str | None = "/",
    device_type: str = "desktop",
    browser: str = "Firefox",
    os: str = "Linux",
    is_bot: bool = False,
    duration_ms: int | None = None,
    scroll_depth: int | None = None,
    value: float | None = None,
    event_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "received_at": received_at or occurred_at,
        "occurred_at": occurred_at,
        "session_id": session_id,
        "user_id": user_id,
        "event_type": event_type,
        "event_category": EVENT_CATEGORIES[event_type],
        "perfume_id": perfume_id,
        "house_id": house_id,
        "post_id": post_id,
        "path": path,
        "referrer": None,
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "device_type": device_type,
        "browser": browser,
        "os": os,
        "is_bot": is_bot,
        "duration_ms": duration_ms,
        "scroll_depth": scroll_depth,
        "value": value,
        "source": None,
        "event_data": event_data or {},
    }


def privacy_row(user_id: str, action: str, requested_at: datetime) -> dict[str, Any]:
    return {"user_id": user_id, "action": action, "requested_at": requested_at}
