"""A small hand-made site for the readers' tests (snapshots, read endpoints, the read-only role),
with what SPEC section 5 says the marts hold for it, worked out by hand below.

As of 2026-05-01 12:00 UTC:
- `u-ana` (session `s-ana`): views p0001 at -2 h (4 s) and -1 h (6 s), rates it 4 at -59 min,
  wishlists p0002 at -50 min;
- `u-ben` (session `s-ben`): views p0002 at -3 days, p0001 at -30 min;
- an anonymous session `s-anon` views p0003 at -10 days (outside every 7-day window);
- an anonymous session `s-filler` views p0010 … p0034 once each at -4 days, so more than 20
  perfumes trend (the endpoint's default limit) and their equal scores rank by id.

Catalog (dbt seeds): p0001 is house h004 at $214.99 with notes geranium, magnolia, musk, neroli,
ylang-ylang; p0002 is h018 at $74.99 with geranium, grapefruit, jasmine, oakmoss, tuberose, yuzu.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb

from orchestration.warehouse import WarehouseTarget
from tests.support.events import raw_event, utc
from tests.support.warehouse_harness import Warehouse

AS_OF = utc("2026-05-01 12:00")
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
FILLER_PERFUMES = [f"p{number:04d}" for number in range(10, 35)]


def site_events() -> list[dict]:
    def at(offset: timedelta, event_type: str, **columns) -> dict:
        return raw_event(event_type, occurred_at=AS_OF - offset, received_at=AS_OF - offset, **columns)

    ana = {"session_id": "s-ana", "user_id": "u-ana"}
    ben = {"session_id": "s-ben", "user_id": "u-ben"}
    return [
        at(2 * HOUR, "PERFUME_VIEW", perfume_id="p0001", duration_ms=4000, **ana),
        at(1 * HOUR, "PERFUME_VIEW", perfume_id="p0001", duration_ms=6000, **ana),
        at(59 * MINUTE, "RATING_COMPLETED", perfume_id="p0001", value=4.0, **ana),
        at(50 * MINUTE, "WISHLIST_ADD", perfume_id="p0002", **ana),
        at(3 * DAY, "PERFUME_VIEW", perfume_id="p0002", **ben),
        at(30 * MINUTE, "PERFUME_VIEW", perfume_id="p0001", **ben),
        at(10 * DAY, "PERFUME_VIEW", perfume_id="p0003", session_id="s-anon"),
        *(
            at(4 * DAY, "PERFUME_VIEW", perfume_id=perfume, session_id="s-filler")
            for perfume in FILLER_PERFUMES
        ),
    ]


def build_site(work_dir: Path, postgres_url: str | None = None) -> Warehouse:
    """The site built by the real dbt project as of AS_OF: DuckDB, or PostgreSQL (`prod`) at the URL."""
    harness = Warehouse(work_dir, target="prod" if postgres_url else "dev", postgres_url=postgres_url)
    harness.append_events(site_events())
    harness.build(AS_OF)
    return harness


def hand_made_warehouse(work_dir: Path) -> WarehouseTarget:
    """A DuckDB file holding one snapshot mart and dbt's build record as of AS_OF, as dbt leaves
    them: enough to publish snapshots from in a test that is not about the marts' contents."""
    target = WarehouseTarget(data_dir=work_dir / "data", duckdb_path=work_dir / "warehouse.duckdb")
    as_of = AS_OF.replace(tzinfo=None)
    with duckdb.connect(str(target.duckdb_path)) as connection:
        connection.execute("create table trending_perfumes as select 'p1' as perfume_id, 1 as rank")
        connection.execute(
            "create table incremental_manifest"
            " (model_name varchar, built_at timestamp, as_of timestamp, is_full_build boolean)"
        )
        connection.execute(
            "insert into incremental_manifest values ('base_interaction_events', ?, ?, true)", [as_of, as_of]
        )
    return target


def decay(age: timedelta, half_life: timedelta) -> float:
    return 0.5 ** (age / half_life)


# trending_score = Σ weight × 0.5^(age_hours / 24): PERFUME_VIEW 1, RATING_COMPLETED 5, WISHLIST_ADD 3
P0001_SCORE = decay(2 * HOUR, DAY) + decay(HOUR, DAY) + decay(30 * MINUTE, DAY) + 5 * decay(59 * MINUTE, DAY)
P0002_SCORE = 3 * decay(50 * MINUTE, DAY) + decay(3 * DAY, DAY)
FILLER_SCORE = decay(4 * DAY, DAY)

#: `/api/trending` for the site: p0001 (3 views in 24 h, no baseline: velocity 3 / max(0, 1)),
#: p0002 (none in 24 h, baseline 1/6: velocity 0), then the fillers by id (no view in 24 h)
TRENDING = [
    {"rank": 1, "perfumeId": "p0001", "trendingScore": P0001_SCORE, "views24h": 3, "velocity": 3.0},
    {"rank": 2, "perfumeId": "p0002", "trendingScore": P0002_SCORE, "views24h": 0, "velocity": 0.0},
    *(
        {"rank": rank, "perfumeId": perfume, "trendingScore": FILLER_SCORE, "views24h": 0, "velocity": 0.0}
        for rank, perfume in enumerate(FILLER_PERFUMES, start=3)
    ),
]

P0001_STATS = {
    "perfumeId": "p0001",
    "totalViews": 3,
    "uniqueViewers": 2,  # u:u-ana, u:u-ben
    "avgViewDurationMs": 5000.0,  # (4000 + 6000) / 2; Ben's view has no duration
    "totalRatings": 1,
    "avgRating": 4.0,
    "inWishlistCount": 0,
    "inCollectionCount": 0,
    "searchClicks": 0,
    "searchImpressions": 0,
    "viewsLast7Days": 3,
    "trendingScore": P0001_SCORE,
    "lastViewedAt": AS_OF - 30 * MINUTE,
}
P0003_STATS = {
    "perfumeId": "p0003",
    "totalViews": 1,
    "uniqueViewers": 1,
    "avgViewDurationMs": None,
    "totalRatings": 0,
    "avgRating": None,
    "inWishlistCount": 0,
    "inCollectionCount": 0,
    "searchClicks": 0,
    "searchImpressions": 0,
    "viewsLast7Days": 0,
    "trendingScore": 0.0,  # not trending: its only event is 10 days old
    "lastViewedAt": AS_OF - 10 * DAY,
}

WEEK = 7 * DAY
ANA_PROFILE = {
    "userId": "u-ana",
    "totalSessions": 1,
    "pageViews30d": 2,
    "searches30d": 0,
    "perfumesViewed30d": 2,  # p0001, p0002 (any event)
    "avgSessionDurationSeconds": 4200.0,  # s-ana: -2 h to -50 min
    "totalRatings": 1,
    "avgRatingValue": 4.0,
    "collectionSize": 0,
    "wishlistSize": 1,
    "preferredHouses": ["h004", "h018"],  # affinity 1 + 1 + 5 = 7 (p0001), 3 (p0002)
    # geranium is on both (7 + 3), the other notes of p0001 have 7, of p0002 3; ties by name
    "preferredNotes": ["geranium", "magnolia", "musk", "neroli", "ylang-ylang"],
    # viewed p0001 (214.99), wishlisted p0002 (74.99)
    "preferredPriceRange": {"min": 74.99, "max": 214.99, "avg": (214.99 + 74.99) / 2},
    # Σ weight × 0.5^(age_days / 7) over the last 30 days
    "engagementScore": decay(2 * HOUR, WEEK)
    + decay(HOUR, WEEK)
    + 5 * decay(59 * MINUTE, WEEK)
    + 3 * decay(50 * MINUTE, WEEK),
    "firstSeenAt": AS_OF - 2 * HOUR,
    "lastActiveAt": AS_OF - 50 * MINUTE,
}
