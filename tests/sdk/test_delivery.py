"""Delivery in Chromium against the real service: batching by time and by size; what was queued
arrives after navigating away, reloading or closing the tab; what does not fit the keepalive
budget waits for the next page; an outage across a reload loses nothing and counts nothing twice;
429/503 `Retry-After` is honoured; two tabs share the persisted queue safely."""

from __future__ import annotations

import time

import pytest

from tests.sdk.ingest_process import make_token, new_user_id, wait_until
from tests.sdk.sdk_pages import local_storage, open_sdk_page, page_url, queued_event_ids

pytestmark = pytest.mark.slow

TRACK_THREE = "[1, 2, 3].map((n) => analytics.trackPerfumeView(`perfume-${n}`, `/perfumes/${n}`, 'feed'))"


def _posts(site, path="/api/analytics"):
    return [request for request in site.tracking_requests(path) if request.method == "POST"]


def test_events_are_batched_by_time(site, context, ingest):
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=1500))
    # an event tracked before the tab holds its queue's lock is flushed within 1 s of the claim
    # (becomeReady): wait for the claim so the interval is the only timer in play
    page.wait_for_function("window.analytics.ready === true")

    started = time.monotonic()
    event_ids = [page.evaluate("analytics.trackPageView('/a')")]
    page.wait_for_timeout(300)
    event_ids += page.evaluate(TRACK_THREE)
    ingest.wait_for_events(event_ids)

    posts = _posts(site)
    assert len(posts) == 1, "one request for the events of one interval"
    assert [event["eventId"] for event in posts[0].events] == event_ids
    waited = posts[0].at - started
    assert 1.3 <= waited <= 3.5, f"sent {waited:.2f} s after the first event (flushInterval 1.5 s)"


def test_a_full_batch_is_sent_at_once_and_the_rest_waits_for_the_interval(site, context, ingest):
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=60_000, maxBatchSize=5))

    event_ids = page.evaluate("Array.from({length: 12}, (_, n) => analytics.trackPageView(`/page/${n}`))")
    ingest.wait_for_events(event_ids[:10], timeout_s=5)
    page.wait_for_timeout(500)

    assert [len(post.events) for post in _posts(site)] == [5, 5]
    assert sorted(queued_event_ids(page)) == sorted(event_ids[10:]), "two events wait for the interval"


@pytest.mark.parametrize("leave", ["navigate", "reload", "close"])
def test_leaving_the_page_delivers_what_was_queued(site, context, ingest, leave):
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=60_000))
    event_ids = page.evaluate(TRACK_THREE)

    if leave == "navigate":
        page.goto(site.url("/other.html"))  # same origin, no SDK there: only the unload flush can send
    elif leave == "reload":
        page.reload()
    else:
        page.close(run_before_unload=True)
    rows = ingest.wait_for_events(event_ids)

    assert {row["event_id"] for row in rows} == set(event_ids)  # flushInterval 60 s: sent as the page went


def test_what_does_not_fit_the_keepalive_budget_waits_for_the_next_page(site, context, ingest):
    url = page_url(site, flushInterval=60_000, maxBatchSize=500)
    page = open_sdk_page(context.new_page(), url)
    # 200 events of ~700 bytes: about twice the 64 KiB that may be in flight when a page goes away
    event_ids = page.evaluate(
        "Array.from({length: 200}, (_, n) => analytics.track({eventType: 'IMAGE_VIEWED', path: '/gallery',"
        " eventData: {image: n, caption: 'x'.repeat(500)}}))"
    )

    page.goto(site.url("/other.html"))
    wait_until(lambda: _posts(site), 10, "the unload flush")
    page.wait_for_timeout(1000)
    sent_on_unload = sum(len(post.body) for post in _posts(site))
    stored = {row["event_id"] for row in ingest.rows_for(event_ids)}
    assert 0 < len(stored) < len(event_ids)
    assert sent_on_unload <= 64 * 1024, f"{sent_on_unload} bytes of keepalive requests"

    open_sdk_page(page, url)  # the next page of the site adopts and sends the rest
    rows = ingest.wait_for_events(event_ids)
    assert {row["event_id"] for row in rows} == set(event_ids)


def test_an_outage_across_a_reload_loses_nothing_and_counts_nothing_twice(cross_site, context, make_service):
    service = make_service()
    # the app bundles the SDK (served by the site), and talks to the ingest service directly
    url = page_url(
        cross_site,
        module="/bundled-sdk/analytics.js",
        endpoint=f"{service.url}/api/analytics",
        flushInterval=300,
        minRetryDelay=200,
        maxRetryDelay=2000,
    )
    page = open_sdk_page(context.new_page(), url)
    event_ids = page.evaluate(TRACK_THREE)
    service.wait_for_events(event_ids)

    service.stop()
    event_ids += page.evaluate(TRACK_THREE)
    page.wait_for_timeout(800)  # a few failed attempts
    open_sdk_page(page, url)  # reload while the service is down
    event_ids += page.evaluate("[analytics.trackPageView('/after-reload')]")
    page.wait_for_timeout(500)
    assert len(queued_event_ids(page)) == 4, "the new page holds what the old one could not send"
    service.start()
    rows = service.wait_for_events(event_ids, timeout_s=30)

    assert {row["event_id"] for row in rows} == set(event_ids), "every event, exactly once by id"
    wait_until(lambda: not queued_event_ids(page), 5, "the queue to empty")


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(site, context, ingest, status):
    # a back-off alone would retry after 50–100 ms (minRetryDelay=100): only Retry-After makes it 2 s
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=200, minRetryDelay=100))
    site.fail_next(1, status, {"Retry-After": "2"})

    event_ids = page.evaluate(TRACK_THREE)
    ingest.wait_for_events(event_ids)
    page.wait_for_timeout(300)

    posts = _posts(site)
    assert [post.status for post in posts] == [status, 200]
    assert posts[1].at - posts[0].at >= 1.9, "waited for Retry-After"
    assert [event["eventId"] for event in posts[1].events] == event_ids


def test_the_services_own_rate_limit_is_waited_out(context, make_service, make_site):
    # one request at once per session, then one every 2 s: the service answers 429 + Retry-After: 2
    service = make_service(INGEST_RATE_LIMIT_PER_MINUTE="30", INGEST_RATE_LIMIT_BURST="1")
    site = make_site(service.url)
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=200, minRetryDelay=100))

    first = page.evaluate("[analytics.trackPageView('/1')]")
    service.wait_for_events(first)
    second = page.evaluate("[analytics.trackPageView('/2')]")
    service.wait_for_events(second)

    posts = _posts(site)
    assert [post.status for post in posts] == [200, 429, 200]
    assert posts[2].at - posts[1].at >= 1.9


def test_two_tabs_share_the_queue_without_sending_an_event_twice_or_losing_one(site, context, ingest):
    first = open_sdk_page(context.new_page(), page_url(site, flushInterval=300))
    second = open_sdk_page(context.new_page(), page_url(site, flushInterval=300))

    event_ids = []
    for round_number in range(4):
        for tab in (first, second):
            event_ids += tab.evaluate(
                f"Array.from({{length: 5}}, (_, n) => analytics.trackPageView(`/r{round_number}/${{n}}`))"
            )
    rows = ingest.wait_for_events(event_ids)
    first.wait_for_timeout(700)
    assert len(ingest.rows_for(event_ids)) == len(rows) == len(event_ids), "each event sent once"
    sessions = {row["session_id"] for row in rows}
    anonymous_ids = {row["anonymous_id"] for row in rows}
    assert len(sessions) == 1 and len(anonymous_ids) == 1, "one visitor, one session across tabs"

    # a tab goes away with events its own unload could not deliver: the other tab adopts them
    leaving = open_sdk_page(context.new_page(), page_url(site, flushInterval=60_000))
    orphaned = leaving.evaluate(TRACK_THREE)
    site.fail_next(5, 503, {"Retry-After": "1"})
    leaving.close(run_before_unload=True)
    rows = ingest.wait_for_events(orphaned, timeout_s=20)
    assert {row["event_id"] for row in rows} == set(orphaned)
    wait_until(
        lambda: len([key for key in local_storage(first) if key.startswith("ia.q.")]) <= 2, 5, "queue adopted"
    )


def test_events_the_service_refuses_are_dropped_and_reported_the_rest_stored(site, context, ingest):
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=60_000))
    event_ids = page.evaluate(
        "[analytics.trackPageView('/ok/1'),"
        " analytics.track({eventType: 'RATING_COMPLETED', perfumeId: 'perfume-1', value: 9}),"  # value 1..5
        " analytics.track({eventType: 'IMAGE_VIEWED', eventData: {blob: 'x'.repeat(1100000)}}),"  # > 1 MiB
        " analytics.trackPageView('/ok/2')]"
    )
    page.evaluate("analytics.flush()")
    rows = ingest.wait_for_events([event_ids[0], event_ids[3]])
    page.wait_for_timeout(300)

    assert {row["path"] for row in rows} == {"/ok/1", "/ok/2"}
    assert ingest.rows_for(event_ids[1:3]) == []
    errors = page.evaluate("window.sdkErrors")
    reported = {error["events"][0]["eventId"]: (error["reason"], error["message"]) for error in errors}
    # the first request held /ok/1 and the rating; the oversized event went alone
    assert reported[event_ids[1]] == (
        "rejected",
        "events[1].value: must be between 1 and 5 for RATING_COMPLETED",
    )
    assert reported[event_ids[2]][0] == "refused" and "413" in reported[event_ids[2]][1]
    assert queued_event_ids(page) == [], "neither is retried"
    statuses = [post.status for post in _posts(site)]
    assert statuses.count(413) == 1 and len(statuses) == 3, "the oversized event was sent alone, once"


def test_without_fetch_keepalive_the_unload_flush_uses_send_beacon(site, context, ingest):
    # a browser without `keepalive` (Firefox before 133): the SDK's fallback is navigator.sendBeacon
    context.add_init_script("delete Request.prototype.keepalive")
    user = new_user_id()
    site.token = lambda: make_token(user)
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=60_000))
    event_ids = page.evaluate(TRACK_THREE)
    click = page.evaluate("analytics.trackClick('post-1')")

    page.goto(site.url("/other.html"))
    rows = ingest.wait_for_events(event_ids)

    (beacon,) = _posts(site)
    assert beacon.authorization is None, "a beacon cannot carry the token"
    assert {row["user_id"] for row in rows} == {None}, "so the events went anonymously"
    assert site.tracking_requests("/api/track") == [] and ingest.rows_for([click]) == []
    open_sdk_page(page, page_url(site, flushInterval=200))  # the next page sends the interaction
    (row,) = ingest.wait_for_events([click])
    assert row["user_id"] == user


def test_after_shutdown_nothing_is_sent_and_the_queue_waits_for_the_next_page(site, context, ingest):
    page = open_sdk_page(context.new_page(), page_url(site, flushInterval=500))
    event_ids = page.evaluate(TRACK_THREE)
    page.evaluate("analytics.shutdown()")
    page.wait_for_timeout(1000)  # no timer left
    page.goto(site.url("/other.html"))  # and no listener: no unload flush
    page.wait_for_timeout(500)
    assert _posts(site) == []

    open_sdk_page(page, page_url(site, flushInterval=200))  # the next page adopts the persisted queue
    rows = ingest.wait_for_events(event_ids)
    assert {row["event_id"] for row in rows} == set(event_ids)
