"""Send planned deliveries to a running ingest service over HTTP, as browsers and servers would."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx
import jwt

from orchestration.sample_traffic.deliveries import TRACK_ENDPOINT, Delivery

MAX_ATTEMPTS = 4


class TrafficError(RuntimeError):
    """The ingest service refused the sample traffic; the message says what it answered."""


@dataclass
class SendReport:
    requests: int = 0
    events_sent: int = 0
    events_stored: int = 0
    rejected: list[str] = field(default_factory=list)
    throttled: int = 0


def _stored(delivery: Delivery, answer: dict) -> int:
    if delivery.endpoint == TRACK_ENDPOINT:
        return int(answer.get("tracked", 0))
    if "count" in answer:
        return int(answer["count"])
    return 1 if answer.get("success") else 0


class TrafficSender:
    def __init__(self, base_url: str, api_key: str, jwt_secret: str, timeout_s: float = 30.0) -> None:
        self.client = httpx.Client(base_url=base_url, timeout=timeout_s)
        self.api_key = api_key
        self.jwt_secret = jwt_secret
        self._tokens: dict[str, str] = {}

    def close(self) -> None:
        self.client.close()

    def _token(self, user_id: str) -> str:
        if user_id not in self._tokens:
            claims = {"sub": user_id, "exp": datetime.now(UTC) + timedelta(hours=2)}
            self._tokens[user_id] = jwt.encode(claims, self.jwt_secret, algorithm="HS256")
        return self._tokens[user_id]

    def headers(self, delivery: Delivery) -> dict[str, str]:
        session = delivery.session
        headers = {"User-Agent": session.client.user_agent}
        if delivery.via_api_key:
            headers["X-Api-Key"] = self.api_key
        elif session.user_id is not None:
            headers["Authorization"] = f"Bearer {self._token(session.user_id)}"
        return headers

    def send(self, delivery: Delivery) -> SendReport:
        """One request (retried while throttled); the outcome as a one-request report."""
        report = SendReport()
        for _attempt in range(MAX_ATTEMPTS):
            response = self.client.post(delivery.endpoint, json=delivery.body, headers=self.headers(delivery))
            if response.status_code in (429, 503):  # back off as the service asks, then retry
                report.throttled += 1
                time.sleep(min(float(response.headers.get("Retry-After", "1")), 5.0))
                continue
            break
        report.requests += 1
        report.events_sent += len(delivery.event_ids)
        if response.status_code != 200:
            raise TrafficError(
                f"POST {delivery.endpoint} answered {response.status_code}: {response.text[:300]}"
            )
        answer = response.json()
        report.events_stored += _stored(delivery, answer)
        for error in answer.get("errors", []) or []:
            report.rejected.append(f"{delivery.endpoint}: {error}")
        return report


def send_deliveries(
    base_url: str,
    deliveries: Sequence[Delivery],
    api_key: str,
    jwt_secret: str,
    on_progress: Callable[[int, int], None] | None = None,
    concurrency: int = 8,
) -> SendReport:
    """Send every delivery, `concurrency` at a time in plan order (many browsers at once, which
    also lets the service group-commit); `on_progress(done, total)` is called about every 5%."""
    sender = TrafficSender(base_url, api_key, jwt_secret)
    report = SendReport()
    step = max(1, len(deliveries) // 20)
    try:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for index, outcome in enumerate(pool.map(sender.send, deliveries), start=1):
                report.requests += outcome.requests
                report.events_sent += outcome.events_sent
                report.events_stored += outcome.events_stored
                report.rejected += outcome.rejected
                report.throttled += outcome.throttled
                if on_progress and (index % step == 0 or index == len(deliveries)):
                    on_progress(index, len(deliveries))
    finally:
        sender.close()
    return report
