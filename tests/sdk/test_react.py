"""The React bindings with real React 19 (from npm) in Chromium, under StrictMode: one PAGE_VIEW
per route, ONE PERFUME_VIEW per perfume page carrying how long it was shown (seed 004's hook sent
two and dropped the duration), seed 000's ref-returning post hook; and the declarations type-check."""

from __future__ import annotations

import uuid

import pytest

from tests.sdk.ingest_process import make_token, new_user_id
from tests.sdk.react_app_build import bundle_react_app, typecheck

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def react_bundle(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return bundle_react_app(tmp_path_factory.mktemp("react-app"))


def test_hooks_track_pages_one_perfume_view_with_its_duration_and_post_views(
    site, context, ingest, react_bundle
):
    site.extra_files["/react-app.js"] = (react_bundle, "text/javascript")
    user = new_user_id()
    site.token = lambda: make_token(user)
    perfume_id = f"perfume-{uuid.uuid4().hex[:8]}"
    post_id = f"post-{uuid.uuid4().hex[:8]}"
    page = context.new_page()
    page.goto(site.url("/react/home"))
    page.wait_for_function("window.sdkReady === true && typeof window.navigate === 'function'")

    shown = page.evaluate(f"navigate('/react/perfume/{perfume_id}')")
    page.wait_for_timeout(1200)
    page.click("#wishlist")
    left = page.evaluate(f"navigate('/react/feed/{post_id}')")
    page.wait_for_selector("#post-card")
    post_shown = page.evaluate(
        "document.getElementById('post-card').scrollIntoView({block: 'center'}); performance.now()"
    )
    page.wait_for_timeout(1300)
    post_left = page.evaluate("window.scrollTo(0, 0); performance.now()")

    views = ingest.wait_for_events_where("post_id = ?", [post_id])
    session = views[0]["session_id"]
    rows = ingest.rows("session_id = ?", [session])
    page.wait_for_timeout(500)

    page_views = [
        row["path"]
        for row in sorted(rows, key=lambda row: row["occurred_at"])
        if row["event_type"] == "PAGE_VIEW"
    ]
    assert page_views == ["/react/home", f"/react/perfume/{perfume_id}", f"/react/feed/{post_id}"], (
        "StrictMode: once each"
    )
    (perfume_view,) = [row for row in rows if row["event_type"] == "PERFUME_VIEW"]
    assert perfume_view["perfume_id"] == perfume_id and perfume_view["source"] == "detail_page"
    assert abs(perfume_view["duration_ms"] - (left - shown)) <= 150, "shown from mount to unmount"
    (wishlist,) = [row for row in rows if row["event_type"] == "WISHLIST_ADD"]
    assert (wishlist["perfume_id"], wishlist["path"]) == (perfume_id, f"/react/perfume/{perfume_id}")
    (post_view,) = [row for row in rows if row["event_type"] == "POST_VIEW"]
    assert abs(post_view["duration_ms"] - (post_left - post_shown)) <= 150
    assert (post_view["source"], post_view["scroll_depth"], post_view["user_id"]) == ("feed", 100, user)
    assert {row["user_id"] for row in rows} == {user}


def test_the_declarations_type_check_against_the_seed_calls():
    typecheck()  # fails the test with tsc's messages
