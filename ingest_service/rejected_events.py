"""Rows for `raw.rejected_events` (SPEC §11): every event answered with a per-event error is kept.

A row holds what identifies the event without trusting it: the verified user (a Bearer token's
`sub`, or a server client's `userId`), the session and the anonymous id when they are readable (a
valid one-line string, a valid UUID), the errors, the event as sent, as JSON text cut to 8 KiB, and
the request's context a replay needs (`request_context`: API key or not, the User-Agent header, the
`sentAt` clock offset, the event's index). Never the client's address, the Authorization header or
cookies (the `sid` cookie only stands in for a missing session id, as it does for accepted events).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import msgspec

from ingest_service.errors import Problem
from ingest_service.event_types import MAX_SESSION_ID, MAX_USER_ID
from ingest_service.storage.raw_schema import MAX_REJECTED_EVENT_BYTES
from ingest_service.text_rules import is_one_line_text
from ingest_service.validation import NIL_UUID, RequestContext, Row, new_event_id, uuid_text


def _field(item: Any, *names: str) -> Any:
    for name in names:
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if value is not None:
            return value
    return None


def _readable(value: Any, max_length: int) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= max_length and is_one_line_text(value):
        return value
    return None


def _event_text(item: Any) -> tuple[str, bool]:
    """The event as JSON text, at most MAX_REJECTED_EVENT_BYTES of UTF-8, and whether it was cut."""
    try:
        encoded = msgspec.json.encode(item)
    except (TypeError, UnicodeEncodeError):  # cannot happen for decoded JSON; never fail on it
        encoded = json.dumps(item, ensure_ascii=True, default=repr).encode()
    if len(encoded) <= MAX_REJECTED_EVENT_BYTES:
        return encoded.decode(), False
    return encoded[:MAX_REJECTED_EVENT_BYTES].decode("utf-8", "ignore"), True


def request_context_text(ctx: RequestContext, index: int, label: str) -> str:
    """The `request_context` column: what a replay needs to validate the event as it was received."""
    offset = ctx.clock_offset
    return json.dumps(
        {
            "server_client": ctx.caller.is_server_client,
            "user_agent": ctx.header_user_agent,
            "clock_offset_us": None if offset is None else offset // timedelta(microseconds=1),
            "index": index,
            "label": label,
        }
    )


def rejected_row(
    item: Any,
    problems: list[Problem],
    ctx: RequestContext,
    endpoint: str,
    index: int = 0,
    label: str = "event",
) -> Row:
    """`item` is the event as decoded from the body (a dict, or whatever JSON value was sent);
    `index` its position in the request and `label` its name in the errors (`events[3]`)."""
    user_id = ctx.caller.user_id
    if ctx.caller.is_server_client:
        user_id = _readable(_field(item, "userId", "user_id"), MAX_USER_ID) or user_id
    anonymous = _field(item, "anonymousId", "anonymous_id")
    anonymous_id = uuid_text(anonymous) if isinstance(anonymous, str) else None
    event, truncated = _event_text(item)
    return {
        "rejection_id": new_event_id(),
        "received_at": ctx.received_at,
        "endpoint": endpoint,
        "reason": problems[0].reason,
        "error": "; ".join(problem.message for problem in problems),
        "user_id": user_id,
        "session_id": _readable(_field(item, "sessionId", "session_id"), MAX_SESSION_ID)
        or ctx.cookie_session_id,
        "anonymous_id": anonymous_id if anonymous_id != NIL_UUID else None,
        "event": event,
        "event_truncated": truncated,
        "request_context": request_context_text(ctx, index, label),
    }
