"""Every seed-named call of the SDK, made in Chromium against the real service, stored with the
columns SPEC §1 derives from it; one session and one anonymous id for the visit, client timestamps
in call order, the Bearer user on every event; and the module loaded cross-origin."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.sdk.chromium import DESKTOP_CHROME_UA
from tests.sdk.ingest_process import make_token, new_user_id, wait_until
from tests.sdk.sdk_pages import local_storage, open_sdk_page, page_url

pytestmark = pytest.mark.slow

# (the call as a page would make it, the columns SPEC §1 stores for it)
SEED_CALLS = [
    (
        "analytics.trackPageView('/perfumes')",
        {"event_type": "PAGE_VIEW", "event_category": "VIEW", "path": "/perfumes"},
    ),
    (
        "analytics.trackPerfumeView('perfume-1', '/perfumes/perfume-1', 'search')",
        {
            "event_type": "PERFUME_VIEW",
            "event_category": "VIEW",
            "perfume_id": "perfume-1",
            "source": "search",
        },
    ),
    (
        "analytics.trackSearch('rose oud', {gender: 'unisex'}, 2, '/search', ['perfume-1', 'perfume-2'])",
        {
            "event_type": "SEARCH_PERFORMED",
            "event_category": "SEARCH",
            "path": "/search",
            "event_data": {
                "query": "rose oud",
                "filters": {"gender": "unisex"},
                "resultsCount": 2,
                "resultPerfumeIds": ["perfume-1", "perfume-2"],
            },
        },
    ),
    (
        "analytics.trackWishlistAdd('perfume-2', '/perfumes/perfume-2', 'detail_page')",
        {
            "event_type": "WISHLIST_ADD",
            "event_category": "WISHLIST",
            "perfume_id": "perfume-2",
            "source": "detail_page",
        },
    ),
    (
        "analytics.trackWishlistRemove('perfume-2', '/wishlist')",
        {
            "event_type": "WISHLIST_REMOVE",
            "event_category": "WISHLIST",
            "perfume_id": "perfume-2",
            "path": "/wishlist",
        },
    ),
    (
        "analytics.trackCollectionAdd('perfume-3', '/perfumes/perfume-3')",
        {"event_type": "COLLECTION_ADD", "event_category": "COLLECTION", "perfume_id": "perfume-3"},
    ),
    (
        "analytics.trackRating({perfumeId: 'perfume-3', ratings: {overall: 4, longevity: 5},"
        " timeToComplete: 3200, path: '/perfumes/perfume-3/rate'})",
        {
            "event_type": "RATING_COMPLETED",
            "event_category": "RATING",
            "perfume_id": "perfume-3",
            "value": 4.0,
            "event_data": {"ratings": {"overall": 4, "longevity": 5}, "timeToComplete": 3200},
        },
    ),
    (
        "analytics.trackReview('perfume-3', '/perfumes/perfume-3/review', {words: 120})",
        {
            "event_type": "REVIEW_SUBMITTED",
            "event_category": "REVIEW",
            "perfume_id": "perfume-3",
            "event_data": {"words": 120},
        },
    ),
    (
        "analytics.track({eventType: 'HOUSE_VIEW', eventCategory: 'VIEW', path: '/houses/house-1',"
        " houseId: 'house-1', duration: 2500})",
        {"event_type": "HOUSE_VIEW", "event_category": "VIEW", "house_id": "house-1", "duration_ms": 2500},
    ),
    (
        "analytics.trackClick('post-1', {source: 'feed'})",
        {
            "event_type": "POST_CLICK",
            "event_category": "ENGAGEMENT",
            "post_id": "post-1",
            "source": "feed",
            "path": "/app.html",
        },
    ),
    (
        "analytics.trackLike('post-1', {source: 'feed'})",
        {"event_type": "POST_LIKE", "event_category": "ENGAGEMENT", "post_id": "post-1", "source": "feed"},
    ),
    (
        "analytics.trackShare('post-1', {source: 'feed', method: 'clipboard'})",
        {
            "event_type": "POST_SHARE",
            "event_category": "ENGAGEMENT",
            "post_id": "post-1",
            "event_data": {"method": "clipboard"},
        },
    ),
    (
        "analytics.identify()",
        {"event_type": "USER_IDENTIFIED", "event_category": "ENGAGEMENT", "path": "/app.html"},
    ),
]


def test_every_seed_call_is_stored_with_its_columns(site, context, ingest):
    user = new_user_id()
    token = make_token(user)
    site.token = lambda: token
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=60_000))

    calls = "[" + ", ".join(call for call, _ in SEED_CALLS) + "]"
    event_ids = page.evaluate(calls)
    sent = {
        event["eventId"] if "eventId" in event else event["event_id"]: event for event in _queued_events(page)
    }
    page.evaluate("analytics.flush()")
    rows = ingest.wait_for_events(event_ids)

    assert len(rows) == len(SEED_CALLS), "each event stored once"
    by_id = {row["event_id"]: row for row in rows}
    storage = local_storage(page)
    for event_id, (call, expected) in zip(event_ids, SEED_CALLS, strict=True):
        row = by_id[event_id]
        for column, value in expected.items():
            assert row[column] == value, f"{call}: {column}"
        assert row["user_id"] == user, f"{call}: the Bearer user"
        assert row["session_id"] == storage["ia.session"]["id"]
        assert row["anonymous_id"] == storage["ia.anonymousId"]
        # what the service derives from the browser's own request (SPEC §1)
        assert (row["browser"], row["os"], row["device_type"], row["is_bot"]) == (
            "Chrome",
            "Linux",
            "desktop",
            False,
        )
        assert row["user_agent"] == DESKTOP_CHROME_UA
        client_time = datetime.fromisoformat(sent[event_id]["timestamp"])
        assert abs(row["occurred_at"] - client_time) < timedelta(seconds=2), (
            "the client's timestamp (skew-corrected)"
        )
    stamps = [sent[event_id]["timestamp"] for event_id in event_ids]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps), "client timestamps in call order"
    # each request is shifted by its own received_at − sentAt (SPEC §1), so the order holds per request
    for received_at in {row["received_at"] for row in rows}:
        in_request = [event_id for event_id in event_ids if by_id[event_id]["received_at"] == received_at]
        by_time = sorted(in_request, key=lambda event_id: by_id[event_id]["occurred_at"])
        assert by_time == in_request, "occurred_at keeps the call order within a request"


def _queued_events(page) -> list[dict]:
    return [
        item["event"]
        for key, queue in local_storage(page).items()
        if key.startswith("ia.q.")
        for item in queue
    ]


def test_a_page_on_another_origin_imports_the_module_from_the_service_and_sends_to_it(
    cross_site, context, ingest
):
    page = context.new_page()
    console_errors: list[str] = []
    page.on(
        "console", lambda message: console_errors.append(message.text) if message.type == "error" else None
    )
    url = page_url(
        cross_site,
        module=f"{ingest.url}/sdk/analytics.js",
        endpoint=f"{ingest.url}/api/analytics",
        flushInterval=200,
    )
    open_sdk_page(page, url)

    event_ids = page.evaluate(
        "[analytics.trackPageView('/cross'), analytics.trackPerfumeView('perfume-9', '/cross/p', 'ad')]"
    )
    rows = ingest.wait_for_events(event_ids)

    assert {row["path"] for row in rows} == {"/cross", "/cross/p"}
    assert console_errors == []
    # the service's `aid` cookie is first-party to the service's origin: the page sees its own storage
    assert wait_until(
        lambda: any(cookie["name"] == "aid" for cookie in context.cookies(ingest.url)), 5, "aid cookie"
    )


def test_a_page_on_an_origin_not_allowed_cannot_import_the_module(context, ingest, make_site):
    stranger = make_site(None)  # an origin that is not in INGEST_CORS_ORIGINS
    page = context.new_page()
    page.goto(page_url(stranger, module=f"{ingest.url}/sdk/analytics.js"))
    page.wait_for_timeout(500)

    assert page.evaluate("window.sdkReady === true") is False, "CORS blocks the module for other origins"


@pytest.mark.parametrize("skew", [timedelta(hours=-1), timedelta(hours=3)])
def test_a_wrong_browser_clock_is_corrected_by_sent_at(site, context, ingest, skew):
    # the page's Date runs `skew` off the real time (timers run normally): every request carries
    # sentAt from that clock, and the service shifts the events by received_at − sentAt (SPEC §1)
    context.clock.install(time=datetime.now(UTC) + skew)
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=200))

    before = datetime.now(UTC)
    event_ids = page.evaluate("[analytics.trackPageView('/skewed/1'), analytics.trackPageView('/skewed/2')]")
    rows = ingest.wait_for_events(event_ids)

    bodies = [
        json.loads(post.body) for post in site.tracking_requests("/api/analytics") if post.method == "POST"
    ]
    sent_at = datetime.fromisoformat(bodies[0]["sentAt"])
    assert abs(sent_at - (before + skew)) < timedelta(seconds=30), "sentAt is the browser's clock"
    by_id = {row["event_id"]: row for row in rows}
    for event_id in event_ids:
        assert abs(by_id[event_id]["occurred_at"] - before) < timedelta(seconds=5), "corrected to real time"
    assert by_id[event_ids[0]]["occurred_at"] < by_id[event_ids[1]]["occurred_at"]
