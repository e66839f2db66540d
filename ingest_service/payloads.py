"""Request and response payloads of SPEC section 2 as msgspec structs.

Events are typed one at a time (not the whole body at once) so that one bad event in a batch is an
error for that event only, while the others are still stored. Every field is optional here; what
is required depends on the event type and is checked in `validation.py` with the contract's
messages. Unknown fields are ignored.
"""

from __future__ import annotations

from typing import Any

import msgspec

Timestamp = str | int | float  # ISO-8601 with a zone, or epoch milliseconds


class AnalyticsEvent(msgspec.Struct, kw_only=True):
    """One event of `POST /api/analytics` (seed 004, camelCase)."""

    eventType: str | None = None
    eventCategory: str | None = None
    eventId: str | None = None
    event_id: str | None = None
    timestamp: Timestamp | None = None
    sessionId: str | None = None
    userId: str | None = None  # honoured for server clients (X-Api-Key) only
    perfumeId: str | None = None
    houseId: str | None = None
    postId: str | None = None
    path: str | None = None
    referrer: str | None = None
    userAgent: str | None = None  # honoured for server clients (X-Api-Key) only
    deviceType: str | None = None
    duration: int | None = None
    value: float | None = None
    eventData: dict[str, Any] | None = None
    anonymousId: str | None = None


class TrackInteraction(msgspec.Struct, kw_only=True):
    """One interaction of `POST /api/track` (seed 000, snake_case)."""

    post_id: str | None = None
    interaction_type: str | None = None
    metadata: dict[str, Any] | None = None
    event_id: str | None = None
    eventId: str | None = None
    timestamp: Timestamp | None = None
    session_id: str | None = None
    user_id: str | None = None  # honoured for server clients (X-Api-Key) only
    userId: str | None = None
    user_agent: str | None = None  # honoured for server clients (X-Api-Key) only
    userAgent: str | None = None
    path: str | None = None
    referrer: str | None = None
    anonymous_id: str | None = None
    anonymousId: str | None = None


class BatchError(msgspec.Struct):
    index: int
    error: str


class SingleEventAccepted(msgspec.Struct):
    success: bool
    eventId: str


class SingleEventRejected(msgspec.Struct):
    success: bool
    errors: list[str]


class BatchAccepted(msgspec.Struct):
    success: bool
    count: int
    errors: list[BatchError]


class TrackResult(msgspec.Struct):
    success: bool
    tracked: int
    errors: list[BatchError]


class PrivacyRequest(msgspec.Struct, kw_only=True):
    """Body of the opt-out / opt-in endpoints; `userId` is read for server clients only."""

    userId: str | None = None
    user_id: str | None = None


class PrivacyResult(msgspec.Struct):
    success: bool
    userId: str
    action: str


class ErrorBody(msgspec.Struct):
    error: str


class AnalyticsEventsBody(msgspec.Struct):
    """`POST /api/analytics` with a batch (at most 500): answered `{success, count, errors}`."""

    # The common case is decoded with this in one pass. When any event has a wrong type the
    # service falls back to typing events one by one, so the others are still stored and the bad
    # one gets its own error.

    events: list[AnalyticsEvent]
    sentAt: Timestamp | None = None


# The other request bodies, for the OpenAPI document only: the handlers type events one at a time
# (see the module docstring), so that one bad event never fails its batch.


class AnalyticsSingleBody(msgspec.Struct):
    """`POST /api/analytics` with one event: answered `{success, eventId}` or 400 with its errors."""

    event: AnalyticsEvent


class TrackBatchBody(msgspec.Struct):
    """`POST /api/track` with a batch; a body that is itself one interaction is accepted too."""

    interactions: list[TrackInteraction]
