"""Seed 000's view tracking with a real IntersectionObserver, and page views on SPA navigation."""

from __future__ import annotations

import uuid

import pytest

from tests.sdk.ingest_process import make_token, new_user_id
from tests.sdk.sdk_pages import open_sdk_page, page_url

pytestmark = pytest.mark.slow

SCROLL_TO = (
    "(id) => { document.getElementById(id).scrollIntoView({block: 'center'}); return performance.now(); }"
)
SCROLL_AWAY = "() => { window.scrollTo(0, 0); return performance.now(); }"


def _observe(page, element_id: str, options: str) -> None:
    # keep the stop function in the page: Playwright calls a function that evaluate returns
    page.evaluate(
        f"window.stopViews = analytics.observeViews(document.getElementById('{element_id}'), {options}); 0"
    )


def _look_at(page, element_id: str, milliseconds: int) -> float:
    """Bring the element into view for about `milliseconds`; returns how long it was, by the page's clock."""
    shown = page.evaluate(SCROLL_TO, element_id)
    page.wait_for_timeout(milliseconds)
    hidden = page.evaluate(SCROLL_AWAY)
    return hidden - shown


@pytest.mark.parametrize("target", ["perfume", "post"])
def test_a_glance_is_no_view_and_a_look_is_one_view_with_its_duration(site, context, ingest, target):
    user = new_user_id()
    site.token = lambda: make_token(user)  # post views go to /api/track, which needs a user
    item_id = f"{target}-{uuid.uuid4().hex[:8]}"
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=200))
    element = f"{target}-box"
    key = "postId" if target == "post" else "perfumeId"
    _observe(page, element, f"{{{key}: '{item_id}', source: 'feed'}}")
    column = f"{target}_id"

    _look_at(page, element, 300)
    page.wait_for_timeout(700)
    assert ingest.rows(f"{column} = ?", [item_id]) == [], "0.3 s in view is no view"

    looked_ms = _look_at(page, element, 1500)
    page.wait_for_timeout(700)
    _look_at(page, element, 1200)  # a second look at the same element: still one view
    page.wait_for_timeout(700)

    (row,) = ingest.rows(f"{column} = ?", [item_id])
    assert row["event_type"] == ("POST_VIEW" if target == "post" else "PERFUME_VIEW")
    assert abs(row["duration_ms"] - looked_ms) <= 150, (
        f"{row['duration_ms']} ms stored, {looked_ms:.0f} ms in view"
    )
    assert 1400 <= row["duration_ms"] <= 1800
    assert row["source"] == "feed"
    if target == "post":
        assert row["scroll_depth"] == 100, "the whole post was in view"
        assert row["user_id"] == user


def test_a_view_in_progress_is_sent_when_the_page_goes_away(site, context, ingest):
    perfume_id = f"perfume-{uuid.uuid4().hex[:8]}"
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=60_000))
    _observe(page, "perfume-box", f"{{perfumeId: '{perfume_id}'}}")

    shown = page.evaluate(SCROLL_TO, "perfume-box")
    page.wait_for_timeout(1200)
    left = page.evaluate("performance.now()")
    page.goto(site.url("/other.html"))

    (row,) = ingest.wait_for_events_where("perfume_id = ?", [perfume_id])
    assert row["event_type"] == "PERFUME_VIEW"
    assert 1200 <= row["duration_ms"] <= (left - shown) + 300


def test_spa_navigation_tracks_page_views(site, context, ingest):
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=200, autoPageViews=True))
    session = page.evaluate("JSON.parse(localStorage.getItem('ia.session')).id")

    page.evaluate("history.pushState({}, '', '/shop/perfumes')")
    page.evaluate("history.replaceState({}, '', '/shop/perfumes')")  # same path: no new page view
    page.evaluate("history.pushState({}, '', '/shop/perfumes/perfume-1')")
    page.go_back()
    page.wait_for_timeout(300)
    page.evaluate("analytics.flush()")

    rows = ingest.wait_for_events_where("session_id = ? and event_type = 'PAGE_VIEW'", [session], count=4)
    rows.sort(key=lambda row: row["occurred_at"])
    assert [row["path"] for row in rows] == [
        "/app.html",
        "/shop/perfumes",
        "/shop/perfumes/perfume-1",
        "/shop/perfumes",
    ]
    assert rows[1]["referrer"] == site.url("/app.html")
    assert rows[2]["referrer"] == site.url("/shop/perfumes")
