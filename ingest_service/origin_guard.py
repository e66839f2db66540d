"""SPEC §2's origin rule: with an allow-list configured, a request to `/api/*` whose `Origin` header is
present and not in the list (`Origin: null` included) is refused with 403 before anything is read
or stored — preflights too, with the contract's JSON error shape. Browsers send `Origin` on every
cross-origin request and on same-origin POSTs; a request without one (a server client, curl) is not
a browser request from another site, so it passes. With no allow-list nothing is refused.

CORS headers alone do not stop writes: a `text/plain` beacon is a "simple" request that the browser
sends without a preflight, so the server must refuse it itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import msgspec

from ingest_service.metrics import ASGIApp, Metrics, Scope

GUARDED_PREFIX = "/api/"
REFUSED_BODY = msgspec.json.encode({"error": "Origin not allowed"})


def normalized_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_guard(allowed: Iterable[str], metrics: Metrics) -> Callable[[ASGIApp], ASGIApp]:
    allowed_origins = frozenset(normalized_origin(origin) for origin in allowed)

    def middleware(app: ASGIApp) -> ASGIApp:
        async def guarded(
            scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]
        ) -> None:
            if scope["type"] == "http" and scope.get("path", "").startswith(GUARDED_PREFIX):
                origin = None
                is_preflight = False
                for name, value in scope["headers"]:
                    if name == b"origin":
                        origin = value.decode("latin-1")
                    elif name == b"access-control-request-method":
                        is_preflight = scope["method"] == "OPTIONS"
                if origin is not None and normalized_origin(origin) not in allowed_origins:
                    metrics.origin_refused.labels("preflight" if is_preflight else "request").inc()
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 403,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(REFUSED_BODY)).encode()),
                                (b"vary", b"Origin"),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": REFUSED_BODY})
                    return
            await app(scope, receive, send)

        return guarded

    return middleware
