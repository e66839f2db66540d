"""How the sample traffic reaches the store: HTTP requests as the SDKs send them, or raw rows in bulk.

Browsers batch a session's events (seed 004's SDK flushes every few events) and send them to
`/api/analytics`, post interactions to `/api/track` (seed 000); logged-in users carry a Bearer token.
Some batches arrive late (after later ones), some are retried with the same event ids, and a share
of logged-in activity is backfilled by a server client with an API key. The bulk path writes the
same events as raw rows with the same delivery quirks, for volumes HTTP would make slow.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from orchestration.sample_traffic.generator import POST_EVENT_TYPES, SampleEvent, SampleSession, SampleTraffic

ANALYTICS_ENDPOINT = "/api/analytics"
TRACK_ENDPOINT = "/api/track"
SDK_BATCH_SIZE = 8


@dataclass(frozen=True)
class Delivery:
    endpoint: str
    body: dict[str, Any]
    session: SampleSession
    via_api_key: bool
    """A server client (X-Api-Key) sending on the user's behalf; else the browser itself."""
    event_ids: tuple[str, ...]
    kind: str = "batch"
    """`batch`, `late` (held back, sent after later batches) or `retry` (same ids again)."""


def iso_timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def analytics_event(event: SampleEvent, session: SampleSession, via_api_key: bool) -> dict[str, Any]:
    """Seed 004's camelCase event; only a server client may name the user and the user agent."""
    body: dict[str, Any] = {
        "eventId": event.event_id,
        "eventType": event.event_type,
        "eventCategory": event.event_category,
        "sessionId": session.session_id,
        "timestamp": iso_timestamp(event.occurred_at),
        "path": event.path or "/",
    }
    if session.anonymous_id is not None:
        body["anonymousId"] = session.anonymous_id
    optional = {
        "perfumeId": event.perfume_id,
        "houseId": event.house_id,
        "referrer": event.referrer,
        "duration": event.duration_ms,
        "value": event.value,
    }
    body |= {name: value for name, value in optional.items() if value is not None}
    event_data = dict(event.event_data)
    if event.source is not None:
        event_data["source"] = event.source
    if event.scroll_depth is not None:
        event_data["scroll_depth"] = event.scroll_depth
    if event_data:
        body["eventData"] = event_data
    if via_api_key:
        body["userId"] = session.user_id
        body["userAgent"] = session.client.user_agent
    return body


def track_interaction(event: SampleEvent, session: SampleSession, via_api_key: bool) -> dict[str, Any]:
    """Seed 000's snake_case post interaction."""
    metadata: dict[str, Any] = dict(event.event_data)
    for name, value in (
        ("duration", event.duration_ms),
        ("scroll_depth", event.scroll_depth),
        ("source", event.source),
    ):
        if value is not None:
            metadata[name] = value
    body: dict[str, Any] = {
        "event_id": event.event_id,
        "post_id": event.post_id,
        "interaction_type": event.event_type.removeprefix("POST_").lower(),
        "session_id": session.session_id,
        "timestamp": iso_timestamp(event.occurred_at),
        "metadata": metadata,
    }
    if session.anonymous_id is not None:
        body["anonymous_id"] = session.anonymous_id
    if via_api_key:
        body["user_id"] = session.user_id
        body["user_agent"] = session.client.user_agent
    return body


def _batches(session: SampleSession) -> list[tuple[str, list[SampleEvent]]]:
    """A session's events in SDK-sized batches, one endpoint per batch, in time order."""
    batches: list[tuple[str, list[SampleEvent]]] = []
    for event in session.events:
        endpoint = TRACK_ENDPOINT if event.event_type in POST_EVENT_TYPES else ANALYTICS_ENDPOINT
        if batches and batches[-1][0] == endpoint and len(batches[-1][1]) < SDK_BATCH_SIZE:
            batches[-1][1].append(event)
        else:
            batches.append((endpoint, [event]))
    return batches


def _body(
    endpoint: str, events: list[SampleEvent], session: SampleSession, via_api_key: bool
) -> dict[str, Any]:
    if endpoint == TRACK_ENDPOINT:
        interactions = [track_interaction(event, session, via_api_key) for event in events]
        return interactions[0] if len(interactions) == 1 else {"interactions": interactions}
    analytics = [analytics_event(event, session, via_api_key) for event in events]
    return {"event": analytics[0]} if len(analytics) == 1 else {"events": analytics}


def plan_deliveries(
    traffic: SampleTraffic,
    seed: int = 7,
    late_share: float = 0.05,
    retry_share: float = 0.04,
    server_share: float = 0.1,
) -> list[Delivery]:
    rng = random.Random(seed)
    on_time: list[Delivery] = []
    held_back: list[Delivery] = []
    retries: list[Delivery] = []
    for session in traffic.sessions:
        via_api_key = session.user_id is not None and rng.random() < server_share
        for endpoint, events in _batches(session):
            delivery = Delivery(
                endpoint=endpoint,
                body=_body(endpoint, events, session, via_api_key),
                session=session,
                via_api_key=via_api_key,
                event_ids=tuple(event.event_id for event in events),
            )
            if rng.random() < late_share:
                held_back.append(Delivery(**{**delivery.__dict__, "kind": "late"}))
            else:
                on_time.append(delivery)
            if rng.random() < retry_share:
                retries.append(Delivery(**{**delivery.__dict__, "kind": "retry"}))
    # Late batches arrive after everything else; retries after the batch they repeat.
    return on_time + held_back + retries


def raw_rows(
    traffic: SampleTraffic, seed: int = 7, late_share: float = 0.05, duplicate_share: float = 0.03
) -> list[dict[str, Any]]:
    """The events as the ingest service would store them, for bulk loading (`bulk_load`)."""
    rng = random.Random(seed)
    rows = []
    for session in traffic.sessions:
        for event in session.events:
            delay = timedelta(seconds=rng.uniform(0.05, 3))
            if rng.random() < late_share:
                delay += timedelta(minutes=rng.uniform(5, 300))
            received_at = min(event.occurred_at + delay, traffic.now)
            row = {
                "event_id": event.event_id,
                "received_at": received_at,
                "occurred_at": event.occurred_at,
                "session_id": session.session_id,
                "user_id": session.user_id,
                "anonymous_id": session.anonymous_id,
                "event_type": event.event_type,
                "event_category": event.event_category,
                "perfume_id": event.perfume_id,
                "house_id": event.house_id,
                "post_id": event.post_id,
                "path": event.path,
                "referrer": event.referrer,
                "user_agent": session.client.user_agent,
                "device_type": session.client.device_type,
                "browser": session.client.browser,
                "os": session.client.os,
                "is_bot": session.client.is_bot,
                "duration_ms": event.duration_ms,
                "scroll_depth": event.scroll_depth,
                "value": event.value,
                "source": event.source,
                "event_data": event.event_data,
            }
            rows.append(row)
            if rng.random() < duplicate_share:  # a client retry: same id, delivered again later
                rows.append(
                    row
                    | {"received_at": min(received_at + timedelta(seconds=rng.uniform(1, 60)), traffic.now)}
                )
    return rows
