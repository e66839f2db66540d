"""SPEC §1's `occurred_at`: client timestamps, the `sentAt` clock-skew correction, the index rule for
events without a usable timestamp, times not representable in UTC, and the 30-day lower bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.ingest.conftest import API_KEY, bearer
from tests.ingest.test_operations import _metric

VALID = {"eventType": "PAGE_VIEW", "path": "/"}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _stored_by_path(ingest) -> dict:
    return {row["path"]: row for row in ingest.rows()}


def test_client_timestamps_in_any_zone_or_epoch_milliseconds(embedded_ingest):
    day = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=123000)
    plus_two = day.astimezone(timezone(timedelta(hours=2)))
    events = [
        {**VALID, "path": "/iso", "timestamp": plus_two.isoformat()},
        {**VALID, "path": "/z", "timestamp": _iso(day)},
        {**VALID, "path": "/epoch", "timestamp": int(day.timestamp() * 1000)},
    ]

    response = embedded_ingest.post("/api/analytics", {"events": events})

    assert response.json() == {"success": True, "count": 3, "errors": []}
    rows = _stored_by_path(embedded_ingest)
    assert rows["/iso"]["occurred_at"] == rows["/z"]["occurred_at"] == day
    assert rows["/epoch"]["occurred_at"] == day


def test_future_or_absent_timestamp_is_received_at_plus_the_index_in_microseconds(embedded_ingest):
    now = datetime.now(UTC)
    events = [
        {**VALID, "path": "/absent-0"},
        {**VALID, "path": "/soon", "timestamp": _iso(now + timedelta(minutes=4))},
        {**VALID, "path": "/future-2", "timestamp": _iso(now + timedelta(minutes=6))},
        {**VALID, "path": "/absent-3"},
    ]

    embedded_ingest.post("/api/analytics", {"events": events})

    rows = _stored_by_path(embedded_ingest)
    received_at = rows["/absent-0"]["received_at"]
    assert abs(received_at - now) < timedelta(seconds=30)
    assert rows["/absent-0"]["occurred_at"] == received_at
    assert rows["/soon"]["occurred_at"] > received_at  # less than 5 minutes ahead: kept
    assert rows["/future-2"]["occurred_at"] == received_at + timedelta(microseconds=2)
    assert rows["/absent-3"]["occurred_at"] == received_at + timedelta(microseconds=3)
    by_time = [row["path"] for row in sorted(rows.values(), key=lambda row: row["occurred_at"])]
    assert by_time == ["/absent-0", "/future-2", "/absent-3", "/soon"]


@pytest.mark.parametrize("sent_at_form", ["iso", "epoch_ms"])
def test_sent_at_corrects_the_client_clock(embedded_ingest, sent_at_form):
    # the client's clock is one hour behind: it stamped the event 10 s before it sent the batch
    now = datetime.now(UTC)
    client_sent = now - timedelta(hours=1)
    client_stamp = client_sent - timedelta(seconds=10)
    sent_at = _iso(client_sent) if sent_at_form == "iso" else int(client_sent.timestamp() * 1000)

    embedded_ingest.post(
        "/api/analytics", {"sentAt": sent_at, "events": [{**VALID, "timestamp": _iso(client_stamp)}]}
    )

    (row,) = embedded_ingest.rows()
    expected = client_stamp + (row["received_at"] - client_sent)
    assert abs(row["occurred_at"] - expected) <= timedelta(milliseconds=1)  # sentAt in ms
    assert abs(row["occurred_at"] - (row["received_at"] - timedelta(seconds=10))) < timedelta(seconds=5)


def test_sent_at_that_moves_a_timestamp_ahead_falls_back_to_received_at(embedded_ingest):
    now = datetime.now(UTC)
    # a client clock one hour ahead of ours that stamped "now": corrected, it is an hour ahead → fallback
    body = {"sentAt": _iso(now - timedelta(hours=1)), "event": {**VALID, "timestamp": _iso(now)}}

    assert embedded_ingest.post("/api/analytics", body).status_code == 200

    (row,) = embedded_ingest.rows()
    assert row["occurred_at"] == row["received_at"]


@pytest.mark.parametrize("sent_at", ["yesterday", "2026-01-01T00:00:00", {"t": 1}, True, 1e300])
def test_unusable_sent_at_is_ignored_and_counted(embedded_ingest, sent_at):
    stamp = datetime.now(UTC) - timedelta(days=1)

    response = embedded_ingest.post(
        "/api/analytics", {"sentAt": sent_at, "events": [{**VALID, "timestamp": _iso(stamp)}]}
    )

    assert response.json() == {"success": True, "count": 1, "errors": []}
    (row,) = embedded_ingest.rows()
    assert abs(row["occurred_at"] - stamp) < timedelta(milliseconds=1)  # not corrected
    metrics = embedded_ingest.client.get("/metrics").text
    assert _metric(metrics, "ingest_sent_at_ignored_total") == 1


@pytest.mark.parametrize(
    "timestamp",
    ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", 1e300, -1e300, 253402300800000 * 10],
)
def test_timestamp_not_representable_in_utc_is_that_events_error(any_ingest, timestamp):
    """Issue 9, defect 1: this was a 500, and the batch's valid events were lost."""
    response = any_ingest.post("/api/analytics", {"events": [VALID, {**VALID, "timestamp": timestamp}]})

    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "count": 1,
        "errors": [{"index": 1, "error": "events[1].timestamp: is not a time representable in UTC"}],
    }
    assert len(any_ingest.rows()) == 1

    single = any_ingest.post("/api/analytics", {"event": {**VALID, "timestamp": timestamp}})
    assert single.status_code == 400
    assert single.json() == {
        "success": False,
        "errors": ["event.timestamp: is not a time representable in UTC"],
    }


def test_timestamps_older_than_30_days_need_an_api_key(embedded_ingest):
    old = _iso(datetime.now(UTC) - timedelta(days=31))
    recent = _iso(datetime.now(UTC) - timedelta(days=29))

    browser = embedded_ingest.post(
        "/api/analytics",
        {
            "events": [
                {**VALID, "path": "/old", "timestamp": old},
                {**VALID, "path": "/29", "timestamp": recent},
            ]
        },
    )
    backfill = embedded_ingest.post(
        "/api/analytics",
        {"events": [{**VALID, "path": "/backfill", "timestamp": old}]},
        headers={"X-Api-Key": API_KEY},
    )

    assert browser.json() == {
        "success": True,
        "count": 1,
        "errors": [
            {
                "index": 0,
                "error": "events[0].timestamp: more than 30 days before the request was received "
                "(backfills need an X-Api-Key)",
            }
        ],
    }
    assert backfill.json()["count"] == 1
    assert set(_stored_by_path(embedded_ingest)) == {"/29", "/backfill"}


def test_naive_and_unparseable_timestamps(embedded_ingest):
    events = [
        {**VALID, "timestamp": "2026-03-04T05:06:07"},
        {**VALID, "timestamp": "last tuesday"},
        {**VALID, "timestamp": "1969-12-31T23:59:59Z"},
    ]

    errors = embedded_ingest.post("/api/analytics", {"events": events}).json()["errors"]

    assert errors == [
        {
            "index": 0,
            "error": "events[0].timestamp: needs a time zone (ISO-8601 with zone, or epoch milliseconds)",
        },
        {"index": 1, "error": "events[1].timestamp: must be ISO-8601 with a zone or epoch milliseconds"},
        {"index": 2, "error": "events[2].timestamp: must be ISO-8601 with a zone or epoch milliseconds"},
    ]


def test_track_uses_the_same_time_rules(embedded_ingest):
    now = datetime.now(UTC)
    body = {
        "sentAt": _iso(now - timedelta(hours=2)),
        "interactions": [
            {"post_id": "p1", "interaction_type": "view"},
            {
                "post_id": "p2",
                "interaction_type": "like",
                "timestamp": _iso(now - timedelta(hours=2, seconds=5)),
            },
        ],
    }

    assert embedded_ingest.post("/api/track", body, headers=bearer("u-1")).json()["tracked"] == 2

    rows = {row["post_id"]: row for row in embedded_ingest.rows()}
    received_at = rows["p1"]["received_at"]
    assert rows["p1"]["occurred_at"] == received_at
    assert abs(rows["p2"]["occurred_at"] - (received_at - timedelta(seconds=5))) < timedelta(seconds=5)
