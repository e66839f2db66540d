"""A small stream whose every mart value is worked out by hand from SPEC section 5.

as_of is 2026-05-10 12:00 UTC. alice browses in session sA (one event delivered twice, the later
delivery must lose), anonymous session sB wishlists p0001, bob is opted out, a crawler event and
an event after as_of must be ignored. Catalog (seeds): p0001 = house h004, 214.99 USD, notes
geranium magnolia musk neroli ylang-ylang; p0002 = house h018, 74.99 USD, notes geranium
grapefruit jasmine oakmoss tuberose yuzu.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ingest_service.event_types import CATEGORY_OF_EVENT_TYPE as CATEGORY

AS_OF = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def event(
    event_id: str,
    session_id: str,
    user_id: str | None,
    event_type: str,
    occurred: str,
    received: str | None = None,
    **fields: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "event_id": event_id,
        "received_at": at(received or occurred),
        "occurred_at": at(occurred),
        "session_id": session_id,
        "user_id": user_id,
        "event_type": event_type,
        "event_category": CATEGORY[event_type],
        "perfume_id": None,
        "house_id": None,
        "post_id": None,
        "path": None,
        "referrer": None,
        "user_agent": "Mozilla/5.0",
        "device_type": "desktop",
        "browser": "Chrome",
        "os": "Linux",
        "is_bot": False,
        "duration_ms": None,
        "scroll_depth": None,
        "value": None,
        "source": None,
        "event_data": {},
    }
    row.update(fields)
    return row


E1 = "00000000-0000-4000-8000-000000000001"
EVENTS = [
    event(
        E1,
        "sA",
        "alice",
        "PERFUME_VIEW",
        "2026-05-10 10:00:00",
        "2026-05-10 10:00:05",
        perfume_id="p0001",
        duration_ms=4000,
        path="/perfumes/p0001",
    ),
    # a later delivery of the same event: must lose to the one above
    event(
        E1,
        "sA",
        "alice",
        "PERFUME_VIEW",
        "2026-05-10 10:00:00",
        "2026-05-10 10:05:00",
        perfume_id="p0001",
        duration_ms=9999,
        path="/duplicate",
    ),
    event(
        "00000000-0000-4000-8000-000000000002",
        "sA",
        "alice",
        "SEARCH_PERFORMED",
        "2026-05-10 10:01:00",
        path="/search",
        event_data={"query": "rose", "resultPerfumeIds": ["p0001", "p0002", "p0002"]},
    ),
    event(
        "00000000-0000-4000-8000-000000000003",
        "sA",
        "alice",
        "WISHLIST_ADD",
        "2026-05-10 10:02:00",
        perfume_id="p0002",
        path="/perfumes/p0002",
    ),
    event(
        "00000000-0000-4000-8000-000000000004",
        "sA",
        "alice",
        "WISHLIST_REMOVE",
        "2026-05-10 10:03:00",
        perfume_id="p0002",
        path="/perfumes/p0002",
    ),
    event(
        "00000000-0000-4000-8000-000000000005",
        "sA",
        "alice",
        "RATING_COMPLETED",
        "2026-05-10 10:04:00",
        perfume_id="p0001",
        value=4.0,
        path="/perfumes/p0001",
    ),
    event(
        "00000000-0000-4000-8000-000000000006",
        "sB",
        None,
        "PERFUME_VIEW",
        "2026-05-09 12:00:00",
        perfume_id="p0001",
        path="/p1",
        device_type="mobile",
        browser="Safari",
        os="iOS",
    ),
    event(
        "00000000-0000-4000-8000-000000000007",
        "sB",
        None,
        "WISHLIST_ADD",
        "2026-05-09 12:00:30",
        perfume_id="p0001",
        path="/p1/wish",
        device_type="mobile",
        browser="Safari",
        os="iOS",
    ),
    event(
        "00000000-0000-4000-8000-000000000008",
        "sC",
        "bob",
        "PERFUME_VIEW",
        "2026-05-10 10:00:00",
        perfume_id="p0001",
    ),
    event(
        "00000000-0000-4000-8000-000000000009",
        "sD",
        None,
        "PERFUME_VIEW",
        "2026-05-10 10:00:00",
        perfume_id="p0003",
        is_bot=True,
    ),
    event(
        "00000000-0000-4000-8000-000000000010",
        "sA",
        "alice",
        "POST_VIEW",
        "2026-05-10 11:00:00",
        post_id="post1",
        duration_ms=2000,
        scroll_depth=50,
        path="/blog/post1",
    ),
    event(
        "00000000-0000-4000-8000-000000000011",
        "sE",
        "alice",
        "COLLECTION_ADD",
        "2026-04-01 09:00:00",
        perfume_id="p0001",
        path="/collection",
    ),
    # after as_of: not counted yet
    event(
        "00000000-0000-4000-8000-000000000012",
        "sA",
        "alice",
        "PAGE_VIEW",
        "2026-05-10 12:30:00",
        path="/later",
    ),
]
PRIVACY = [("bob", "opt_out", at("2026-05-01 00:00:00"))]


def decayed(weight: float, occurred: str, half_life_hours: float) -> float:
    age_hours = (AS_OF - at(occurred)).total_seconds() / 3600
    return weight * 0.5 ** (age_hours / half_life_hours)


EXPECTED_SESSIONS = {
    "sA": {
        "user_id": "alice",
        "started_at": at("2026-05-10 10:00:00"),
        "ended_at": at("2026-05-10 11:00:00"),
        "duration_seconds": 3600,
        "device_type": "desktop",
        "browser": "Chrome",
        "os": "Linux",
        "event_count": 6,
        "page_views": 2,
        "perfumes_viewed": 2,
        "interactions": 3,
        "searches": 1,
        "entry_path": "/perfumes/p0001",
        "exit_path": "/blog/post1",
        "is_bounce": False,
    },
    "sB": {
        "user_id": None,
        "started_at": at("2026-05-09 12:00:00"),
        "ended_at": at("2026-05-09 12:00:30"),
        "duration_seconds": 30,
        "device_type": "mobile",
        "browser": "Safari",
        "os": "iOS",
        "event_count": 2,
        "page_views": 1,
        "perfumes_viewed": 1,
        "interactions": 1,
        "searches": 0,
        "entry_path": "/p1",
        "exit_path": "/p1/wish",
        "is_bounce": False,
    },
    "sE": {
        "user_id": "alice",
        "started_at": at("2026-04-01 09:00:00"),
        "ended_at": at("2026-04-01 09:00:00"),
        "duration_seconds": 0,
        "device_type": "desktop",
        "browser": "Chrome",
        "os": "Linux",
        "event_count": 1,
        "page_views": 0,
        "perfumes_viewed": 1,
        "interactions": 1,
        "searches": 0,
        "entry_path": "/collection",
        "exit_path": "/collection",
        "is_bounce": True,
    },
}

P1_TRENDING = (
    decayed(1, "2026-05-10 10:00:00", 24)
    + decayed(5, "2026-05-10 10:04:00", 24)
    + decayed(1, "2026-05-09 12:00:00", 24)
    + decayed(3, "2026-05-09 12:00:30", 24)
)
P2_TRENDING = decayed(3, "2026-05-10 10:02:00", 24) + decayed(0, "2026-05-10 10:03:00", 24)

EXPECTED_TRENDING = {
    "p0001": {
        "trending_score": P1_TRENDING,
        "views_24h": 1,
        "baseline_daily_views": 1 / 6,
        "velocity": 1.0,
        "rank": 1,
    },
    "p0002": {
        "trending_score": P2_TRENDING,
        "views_24h": 0,
        "baseline_daily_views": 0.0,
        "velocity": 0.0,
        "rank": 2,
    },
}

EXPECTED_PERFUME_STATS = {
    "p0001": {
        "total_views": 2,
        "unique_viewers": 2,
        "avg_view_duration_ms": 4000.0,
        "total_ratings": 1,
        "avg_rating": 4.0,
        "in_wishlist_count": 1,
        "in_collection_count": 1,
        "search_clicks": 0,
        "search_impressions": 1,
        "views_last_7_days": 2,
        "trending_score": P1_TRENDING,
        "last_viewed_at": at("2026-05-10 10:00:00"),
    },
    "p0002": {
        "total_views": 0,
        "unique_viewers": 0,
        "avg_view_duration_ms": None,
        "total_ratings": 0,
        "avg_rating": None,
        "in_wishlist_count": 0,
        "in_collection_count": 0,
        "search_clicks": 0,
        "search_impressions": 1,
        "views_last_7_days": 0,
        "trending_score": P2_TRENDING,
        "last_viewed_at": None,
    },
}

EXPECTED_PROFILES = {
    "alice": {
        "total_sessions": 2,
        "page_views_30d": 2,
        "searches_30d": 1,
        "perfumes_viewed_30d": 2,
        "avg_session_duration_seconds": 1800.0,
        "total_ratings": 1,
        "avg_rating_value": 4.0,
        "collection_size": 1,
        "wishlist_size": 0,
        "preferred_houses": ["h004", "h018"],
        "preferred_notes": ["geranium", "magnolia", "musk", "neroli", "ylang-ylang"],
        "preferred_price_range": {"min": 74.99, "max": 214.99, "avg": (74.99 + 214.99) / 2},
        "engagement_score": (
            decayed(1, "2026-05-10 10:00:00", 24 * 7)
            + decayed(1, "2026-05-10 10:01:00", 24 * 7)
            + decayed(3, "2026-05-10 10:02:00", 24 * 7)
            + decayed(0, "2026-05-10 10:03:00", 24 * 7)
            + decayed(5, "2026-05-10 10:04:00", 24 * 7)
            + decayed(0.5, "2026-05-10 11:00:00", 24 * 7)
        ),
        "first_seen_at": at("2026-04-01 09:00:00"),
        "last_active_at": at("2026-05-10 11:00:00"),
    },
}

EXPECTED_POSTS = {
    "post1": {
        "views": 1,
        "clicks": 0,
        "likes": 0,
        "shares": 0,
        "unique_users": 1,
        "avg_view_duration_ms": 2000.0,
        "avg_scroll_depth": 50.0,
        "engagements_7d": 1,
        "last_interaction_at": at("2026-05-10 11:00:00"),
    },
}

EXPECTED_ENGAGEMENT_30D = {
    ("alice", "PERFUME_VIEW"): 1,
    ("alice", "SEARCH_PERFORMED"): 1,
    ("alice", "WISHLIST_ADD"): 1,
    ("alice", "WISHLIST_REMOVE"): 1,
    ("alice", "RATING_COMPLETED"): 1,
    ("alice", "POST_VIEW"): 1,
}
