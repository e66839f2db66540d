"""Build raw event rows (SPEC section 1 columns) for the privacy tests."""

from __future__ import annotations

import uuid
from datetime import datetime

from ingest_service.event_types import CATEGORY_OF_EVENT_TYPE
from ingest_service.storage.raw_schema import RAW_EVENT_COLUMN_NAMES


def raw_event(
    *,
    received_at: datetime,
    event_type: str = "PAGE_VIEW",
    occurred_at: datetime | None = None,
    session_id: str = "s-1",
    **columns,
) -> dict:
    """One raw row with every column; unspecified optional columns are null."""
    row = dict.fromkeys(RAW_EVENT_COLUMN_NAMES)
    row.update(
        event_id=str(uuid.uuid4()),
        received_at=received_at,
        occurred_at=occurred_at or received_at,
        session_id=session_id,
        event_type=event_type,
        event_category=CATEGORY_OF_EVENT_TYPE[event_type],
        path="/",
        device_type="desktop",
        browser="Firefox",
        os="Linux",
        is_bot=False,
        event_data={},
    )
    row.update(columns)
    return row
