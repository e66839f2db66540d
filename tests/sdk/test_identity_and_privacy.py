"""Tokens, identity and privacy in Chromium: an expired token is re-asked and the batch retried
once; a token that stays refused sends the /api/analytics events anonymously while post
interactions wait for a user; reset() and the `aid` cookie; opt-out and Global Privacy Control
send nothing."""

from __future__ import annotations

import pytest

from tests.sdk.chromium import GPC_FLAGS, launch_chromium, new_context
from tests.sdk.ingest_process import make_token, new_user_id, wait_until
from tests.sdk.sdk_pages import local_storage, open_sdk_page, page_url, queued_event_ids

pytestmark = pytest.mark.slow

TRACK_TWO = (
    "[analytics.trackPerfumeView('perfume-1', '/p/1', 'feed'),"
    " analytics.trackWishlistAdd('perfume-1', '/p/1')]"
)


def _statuses(site, path):
    return [(request.status, request.authorization is not None) for request in site.tracking_requests(path)]


def test_an_expired_token_is_asked_again_and_the_batch_retried_once(site, context, ingest):
    user = new_user_id()
    expired = make_token(user, expires_in_s=-60)
    # the web app hands out its cached token, expired, until a refusal makes it refresh the session
    site.token = lambda: make_token(user) if _statuses(site, "/api/") else expired
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=200))

    event_ids = page.evaluate(TRACK_TWO)
    rows = ingest.wait_for_events(event_ids)

    assert _statuses(site, "/api/analytics") == [(401, True), (200, True)]
    assert {row["user_id"] for row in rows} == {user}


def test_a_refused_token_sends_analytics_anonymously_and_interactions_wait_for_a_user(site, context, ingest):
    user = new_user_id()
    expired = make_token(user, expires_in_s=-60)
    site.token = lambda: expired
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=200))

    event_ids = page.evaluate(TRACK_TWO)
    click_id = page.evaluate("analytics.trackClick('post-1', {source: 'feed'})")
    rows = ingest.wait_for_events(event_ids)
    page.wait_for_timeout(800)

    assert _statuses(site, "/api/analytics") == [(401, True), (200, False)], "retried once, then without it"
    anonymous_id = local_storage(page)["ia.anonymousId"]
    assert {(row["user_id"], row["anonymous_id"]) for row in rows} == {(None, anonymous_id)}
    assert site.tracking_requests("/api/track") == [], "/api/track needs a user: nothing sent"
    assert queued_event_ids(page) == [click_id]

    site.token = lambda: make_token(user)  # signed in again
    (click,) = ingest.wait_for_events([click_id])
    assert (click["event_type"], click["user_id"], click["anonymous_id"]) == (
        "POST_CLICK",
        user,
        anonymous_id,
    )


def test_reset_starts_a_new_anonymous_id_and_session(site, context, ingest):
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=200))

    before = page.evaluate("analytics.trackPageView('/before')")
    page.evaluate("analytics.reset()")
    after = page.evaluate("analytics.trackPageView('/after')")
    rows = {row["event_id"]: row for row in ingest.wait_for_events([before, after])}

    assert rows[before]["anonymous_id"] != rows[after]["anonymous_id"]
    assert rows[before]["session_id"] != rows[after]["session_id"]
    assert rows[after]["anonymous_id"] == local_storage(page)["ia.anonymousId"]


def test_the_aid_cookie_keeps_the_anonymous_id_when_storage_is_purged(site, context, ingest):
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=200))
    first = page.evaluate("analytics.trackPageView('/first')")
    (row,) = ingest.wait_for_events([first])
    cookie = wait_until(
        lambda: next((c for c in context.cookies(site.origin) if c["name"] == "aid"), None),
        5,
        "the aid cookie",
    )
    assert cookie["value"] == row["anonymous_id"]
    assert cookie["httpOnly"] is False and cookie["sameSite"] == "Lax"

    page.evaluate("localStorage.clear()")  # as Safari does to script-written storage after 7 days
    open_sdk_page(page, page_url(site, flushInterval=200))
    later = page.evaluate("analytics.trackPageView('/a-week-later')")
    (later_row,) = ingest.wait_for_events([later])

    assert later_row["anonymous_id"] == row["anonymous_id"]


def test_opt_out_sends_nothing_more_and_tells_the_service(site, context, ingest):
    user = new_user_id()
    token = make_token(user)
    site.token = lambda: token
    url = page_url(site, flushInterval=60_000)
    page = open_sdk_page(context.new_page(), url)
    delivered = page.evaluate(TRACK_TWO)
    page.evaluate("analytics.flush()")
    ingest.wait_for_events(delivered)
    never = page.evaluate(TRACK_TWO)  # queued, not yet sent

    page.evaluate("analytics.optOut()")
    after = page.evaluate(f"[...{TRACK_TWO}, analytics.trackClick('post-1'), analytics.identify()]")
    page.evaluate("analytics.flush()")
    open_sdk_page(page, url)  # the next page of the site: still opted out
    after += page.evaluate(TRACK_TWO)
    page.goto(site.url("/other.html"))  # and its unload sends nothing either
    page.wait_for_timeout(500)

    assert after == [None] * 6
    assert ingest.rows_for(never) == []
    posts = [request for request in site.requests if request.method == "POST"]
    assert [(request.path, request.status) for request in posts] == [
        ("/api/analytics", 200),
        ("/api/privacy/opt-out", 200),
    ]
    assert posts[1].authorization == f"Bearer {token}"
    assert [
        (row["user_id"], row["action"]) for row in ingest.privacy_actions() if row["user_id"] == user
    ] == [(user, "opt_out")]


def test_opt_in_tracks_again_with_a_new_anonymous_id(site, context, ingest):
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=200))
    before = page.evaluate("analytics.trackPageView('/before')")
    (before_row,) = ingest.wait_for_events([before])

    page.evaluate("analytics.optOut()")
    assert page.evaluate("analytics.trackPageView('/while-out')") is None
    assert "ia.anonymousId" not in local_storage(page), "the ids are forgotten"
    page.evaluate("analytics.optIn()")
    again = page.evaluate("analytics.trackPageView('/again')")
    (again_row,) = ingest.wait_for_events([again])

    assert again_row["anonymous_id"] != before_row["anonymous_id"]


def test_global_privacy_control_sends_and_stores_nothing(playwright, site, ingest):
    browser = launch_chromium(playwright, GPC_FLAGS)
    try:
        context = new_context(browser)
        page = open_sdk_page(context.new_page(), page_url(site, flushInterval=200))
        assert page.evaluate("navigator.globalPrivacyControl") is True, "Chromium's own GPC is on"

        tracked = page.evaluate(f"[...{TRACK_TWO}, analytics.trackClick('post-1'), analytics.identify()]")
        page.evaluate("analytics.flush()")
        page.goto(site.url("/other.html"))
        page.wait_for_timeout(500)
        assert tracked == [None] * 4
        assert [request for request in site.requests if request.method == "POST"] == []
        assert local_storage(page) == {}

        # the SDK is what holds back: told not to respect GPC, the same browser sends
        page = open_sdk_page(page, page_url(site, flushInterval=200, respectGlobalPrivacyControl=False))
        sent = page.evaluate("analytics.trackPageView('/gpc-ignored')")
        ingest.wait_for_events([sent])
    finally:
        browser.close()


def test_a_session_ends_after_30_idle_minutes(site, context, ingest):
    context.clock.install()  # the page's clock, fast-forwarded below (timers fire as time passes)
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=200))

    first = page.evaluate("analytics.trackPageView('/first')")
    context.clock.fast_forward("29:00")
    active = page.evaluate("analytics.trackPageView('/29-minutes-later')")
    context.clock.fast_forward("30:01")
    idle = page.evaluate("analytics.trackPageView('/after-30-idle-minutes')")
    page.evaluate("analytics.flush()")
    rows = {row["event_id"]: row for row in ingest.wait_for_events([first, active, idle])}

    assert rows[first]["session_id"] == rows[active]["session_id"]
    assert rows[idle]["session_id"] != rows[active]["session_id"]
    assert rows[idle]["anonymous_id"] == rows[first]["anonymous_id"], "the same browser"
