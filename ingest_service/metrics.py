"""Prometheus metrics of one app instance (its own registry, so tests can build many apps).

Labels are bounded sets (endpoint templates, status codes, rule names): never a user, a session,
a path sent by a client or an address.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

_KNOWN_PATHS = frozenset(
    {
        "/api/analytics",
        "/api/track",
        "/api/privacy/opt-out",
        "/api/privacy/opt-in",
        "/healthz",
        "/readyz",
        "/metrics",
    }
)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ingest_requests_total",
            "HTTP requests by endpoint and status",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ingest_request_duration_seconds",
            "Time from request start to response start",
            ["endpoint"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=self.registry,
        )
        self.events_received = Counter(
            "ingest_events_received_total",
            "Events in requests whose body could be read (accepted, rejected or failed)",
            ["endpoint"],
            registry=self.registry,
        )
        self.events_failed = Counter(
            "ingest_events_failed_total",
            "Valid events of requests answered 5xx (storage unavailable): not stored, the client retries",
            ["endpoint"],
            registry=self.registry,
        )
        self.events_accepted = Counter(
            "ingest_events_accepted_total",
            "Events acknowledged as stored",
            ["endpoint"],
            registry=self.registry,
        )
        self.events_rejected = Counter(
            "ingest_events_rejected_total",
            "Events refused, by the rule they broke",
            ["reason"],
            registry=self.registry,
        )
        self.events_dropped_opted_out = Counter(
            "ingest_events_dropped_opted_out_total",
            "Accepted events not stored because their user opted out",
            registry=self.registry,
        )
        self.sent_at_ignored = Counter(
            "ingest_sent_at_ignored_total",
            "Requests whose sentAt was unusable, so their timestamps were not skew-corrected",
            registry=self.registry,
        )
        self.rejected_events_written = Counter(
            "ingest_rejected_events_written_total",
            "Rejected events kept in raw.rejected_events (SPEC §11)",
            registry=self.registry,
        )
        self.rejected_events_lost = Counter(
            "ingest_rejected_events_lost_total",
            "Rejected events that could not be kept (their write failed)",
            registry=self.registry,
        )
        self.rows_written = Counter(
            "ingest_storage_rows_written_total",
            "Raw event rows written to the store (for the storage growth rate)",
            registry=self.registry,
        )
        self.origin_refused = Counter(
            "ingest_origin_refused_total",
            "Requests to /api/* refused (403) because their Origin is not allowed, preflights apart",
            ["request"],  # preflight | request
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "ingest_rate_limited_total",
            "Requests refused with 429",
            ["endpoint_group"],  # ingest | privacy
            registry=self.registry,
        )
        self.storage_errors = Counter(
            "ingest_storage_errors_total", "Writes the store could not make durable", registry=self.registry
        )
        self.write_seconds = Histogram(
            "ingest_storage_write_duration_seconds",
            "Duration of one group-commit write",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=self.registry,
        )
        self.write_rows = Histogram(
            "ingest_storage_write_rows",
            "Rows per group-commit write",
            buckets=(1, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000),
            registry=self.registry,
        )

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def metrics_middleware(metrics: Metrics) -> Callable[[ASGIApp], ASGIApp]:
    """Raw ASGI middleware: counts every request (also Litestar's own 404/405/413) and times it."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def wrapped(
            scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
        ) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            path = scope.get("path", "")
            endpoint = path if path in _KNOWN_PATHS else "other"
            started = time.perf_counter()
            status = 500

            async def send_and_record(message: Any) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
                await send(message)

            try:
                await app(scope, receive, send_and_record)
            finally:
                metrics.requests.labels(endpoint, str(status)).inc()

        return wrapped

    return middleware
