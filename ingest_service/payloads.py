"""Request and response payloads of SPEC section 2 as msgspec structs.

Events are typed one at a time (not the whole body at once) so that one bad event in a batch is an
error for that event only, while the others are still stored. Every field is optional here; what
is required depends on the event type and is checked in `validation.py` with the contract's
messages. Unknown fields are ignored.
"""

from __future__ import annotations

from datetime import datetime
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


# The read endpoints' answers (SPEC section 2): the marts' rows, their snake_case columns in camelCase.


def camel(name: str) -> str:
    """`views_24h` → `views24h`, `page_views_30d` → `pageViews30d` (msgspec's own "camel" would
    capitalize the digits' suffix: `views24H`)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class TrendingPerfume(msgspec.Struct, rename=camel):
    rank: int
    perfume_id: str
    trending_score: float
    views_24h: int
    velocity: float


class TrendingBody(msgspec.Struct, rename=camel):
    """The trending perfumes, by rank (SPEC section 5, `trending_perfumes`)."""

    as_of: datetime
    perfumes: list[TrendingPerfume]


class PerfumeStatsBody(msgspec.Struct, rename=camel):
    """One perfume's `perfume_interaction_stats` row (SPEC section 5)."""

    as_of: datetime
    perfume_id: str
    total_views: int
    unique_viewers: int
    avg_view_duration_ms: float | None
    total_ratings: int
    avg_rating: float | None
    in_wishlist_count: int
    in_collection_count: int
    search_clicks: int
    search_impressions: int
    views_last_7_days: int
    trending_score: float
    last_viewed_at: datetime | None


class PriceRange(msgspec.Struct):
    min: float
    max: float
    avg: float


class UserProfileBody(msgspec.Struct, rename=camel, kw_only=True):
    """The caller's own `user_behavior_profile` row (SPEC section 5)."""

    as_of: datetime
    user_id: str
    total_sessions: int
    stitched_events: int | None = None
    """Events of theirs that had no user id of their own (null until the mart has the column)."""
    page_views_30d: int
    searches_30d: int
    perfumes_viewed_30d: int
    avg_session_duration_seconds: float | None
    total_ratings: int
    avg_rating_value: float | None
    collection_size: int
    wishlist_size: int
    preferred_houses: list[str]
    preferred_notes: list[str]
    preferred_price_range: PriceRange | None
    engagement_score: float
    first_seen_at: datetime
    last_active_at: datetime


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
