"""The Litestar app: `create_app(settings)` wires the routes, the store and the group-commit writer.

The store (pool or directory) and the writer live for the app's lifespan, kept on `app.state`,
closed in `finally`. Handlers only translate HTTP to `IngestService` calls and back.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.config.cors import CORSConfig
from litestar.datastructures import Cookie
from litestar.openapi import OpenAPIConfig

from ingest_service.enrichment import parse_user_agent
from ingest_service.errors import JSON, StorageUnavailable, exception_handlers
from ingest_service.event_types import MAX_BODY_BYTES
from ingest_service.group_commit import GroupCommitWriter
from ingest_service.ingest import IncomingRequest, IngestService
from ingest_service.metrics import Metrics, metrics_middleware
from ingest_service.openapi_contract import contract_operation
from ingest_service.origin_guard import origin_guard
from ingest_service.rate_limit import BucketTable, RateLimiter, SharedTable
from ingest_service.read_api import READ_ROUTES, read_lifespan
from ingest_service.sdk_assets import (
    JAVASCRIPT,
    SDK_DECLARATION_PATHS,
    SDK_MODULE_PATHS,
    TYPESCRIPT,
    etag_matches,
    load_sdk_assets,
    sdk_file_operation,
)
from ingest_service.settings import SessionCookieSettings, Settings
from ingest_service.storage.sinks import make_sink

logger = logging.getLogger("ingest_service")

SESSION_COOKIE = "sid"
SESSION_COOKIE_MAX_AGE_S = 30 * 60  # refreshed on every request: a session ends after 30 idle minutes
#: SPEC §10: the anonymous id in a first-party cookie set by the server (readable by the SDK), which
#: outlives script-written storage in browsers that purge that after a week without a visit
ANONYMOUS_ID_COOKIE = "aid"
ANONYMOUS_ID_COOKIE_MAX_AGE_S = 365 * 24 * 3600


def _client_address(request: Request) -> str | None:
    header = request.app.state.client_address_header
    if header:
        value = request.headers.get(header, "")
        return value.rsplit(",", 1)[-1].strip() or None  # the entry our proxy appended
    return request.client.host if request.client else None


def _incoming(request: Request, body: bytes) -> IncomingRequest:
    headers = request.headers
    return IncomingRequest(
        body=body,
        content_type=headers.get("content-type"),
        authorization=headers.get("authorization"),
        api_key=headers.get("x-api-key"),
        user_agent=headers.get("user-agent"),
        sid_cookie=request.cookies.get(SESSION_COOKIE),
        content_encoding=headers.get("content-encoding"),
        client_address=_client_address(request),
    )


def _service(request: Request) -> IngestService:
    return request.app.state.ingest


def _first_party_cookie(
    key: str, value: str, max_age_s: int, settings: SessionCookieSettings, *, script_readable: bool
) -> Cookie:
    """`sid` and `aid` share their scope and attributes: the whole site, SameSite/Secure as configured."""
    return Cookie(
        key=key,
        value=value,
        max_age=max_age_s,
        path="/",
        httponly=not script_readable,
        samesite=settings.same_site,
        secure=settings.is_secure,
    )


def _respond(
    request: Request,
    reply_payload: msgspec.Struct,
    session_cookie: str | None,
    anonymous_id: str | None = None,
) -> Response:
    cookie_settings: SessionCookieSettings = request.app.state.session_cookie
    cookies = []
    if session_cookie:
        cookies.append(
            _first_party_cookie(
                SESSION_COOKIE,
                session_cookie,
                SESSION_COOKIE_MAX_AGE_S,
                cookie_settings,
                script_readable=False,
            )
        )
    if anonymous_id:
        # script-readable: the SDK falls back to it when the browser purged its storage
        cookies.append(
            _first_party_cookie(
                ANONYMOUS_ID_COOKIE,
                anonymous_id,
                ANONYMOUS_ID_COOKIE_MAX_AGE_S,
                cookie_settings,
                script_readable=True,
            )
        )
    return Response(msgspec.json.encode(reply_payload), status_code=200, media_type=JSON, cookies=cookies)


@post(
    "/api/analytics",
    status_code=200,
    summary="Track events (seed 004): {event} or {events: [...]}",
    description='Body: `{"event": {...}}` or `{"events": [...]}` of camelCase events, as application/json '
    "or text/plain, at most 1 MiB and 500 events. Answers after the accepted events are durable.",
    operation_class=contract_operation("post", "/api/analytics"),
    tags=["ingest"],
)
async def analytics(request: Request) -> Response:
    reply = await _service(request).analytics(_incoming(request, await request.body()))
    return _respond(request, reply.payload, reply.session_cookie, reply.anonymous_id)


@post(
    "/api/track",
    status_code=200,
    summary="Track post interactions (seed 000): one interaction or {interactions: [...]}",
    description="Needs an identified user (Bearer token, or X-Api-Key with user_id per interaction).",
    operation_class=contract_operation("post", "/api/track"),
    tags=["ingest"],
)
async def track(request: Request) -> Response:
    reply = await _service(request).track(_incoming(request, await request.body()))
    return _respond(request, reply.payload, reply.session_cookie, reply.anonymous_id)


@post(
    "/api/privacy/opt-out",
    status_code=200,
    summary="Opt a user out: their later events are dropped at ingest",
    operation_class=contract_operation("post", "/api/privacy/opt-out"),
    tags=["privacy"],
)
async def opt_out(request: Request) -> Response:
    reply = await _service(request).privacy(_incoming(request, await request.body()), "opt_out")
    return _respond(request, reply.payload, None)


@post(
    "/api/privacy/opt-in",
    status_code=200,
    summary="Opt a user back in",
    operation_class=contract_operation("post", "/api/privacy/opt-in"),
    tags=["privacy"],
)
async def opt_in(request: Request) -> Response:
    reply = await _service(request).privacy(_incoming(request, await request.body()), "opt_in")
    return _respond(request, reply.payload, None)


_SDK_DESCRIPTION = (
    "Served with a strong `ETag` (a matching `If-None-Match` answers 304) and `Cache-Control`; "
    "cross-origin imports work from the origins in `INGEST_CORS_ORIGINS`. Also installable with npm "
    "from `ingest_service/sdk`."
)


def _sdk_file(request: Request) -> Response:
    asset = request.app.state.sdk_assets[request.url.path.rsplit("/", 1)[-1]]
    if etag_matches(request.headers.get("if-none-match"), asset.etag):
        return Response(b"", status_code=304, headers=asset.headers)
    return Response(asset.body, media_type=asset.media_type, headers=asset.headers)


@get(
    SDK_MODULE_PATHS,
    summary="The browser SDK (SPEC §10): analytics.js and its React bindings, as ES modules",
    description=_SDK_DESCRIPTION,
    operation_class=sdk_file_operation(JAVASCRIPT),
    tags=["sdk"],
)
async def sdk_module(request: Request) -> Response:
    return _sdk_file(request)


@get(
    SDK_DECLARATION_PATHS,
    summary="TypeScript declarations of the browser SDK",
    description=_SDK_DESCRIPTION,
    operation_class=sdk_file_operation(TYPESCRIPT),
    tags=["sdk"],
)
async def sdk_declarations(request: Request) -> Response:
    return _sdk_file(request)


@get(
    "/healthz",
    summary="The process is up",
    tags=["operations"],
    operation_class=contract_operation("get", "/healthz"),
)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get(
    "/readyz",
    summary="Storage is reachable and a write can succeed now",
    tags=["operations"],
    operation_class=contract_operation("get", "/readyz"),
)
async def readyz(request: Request) -> Response:
    service = _service(request)
    sink = service.sink
    if not service.writer.failing and await sink.ready():
        return Response({"status": "ready", "store": sink.name}, media_type=JSON)
    return Response(
        {"status": "unavailable", "store": sink.name},
        status_code=503,
        media_type=JSON,
        headers={"Retry-After": str(StorageUnavailable.retry_after_s)},
    )


@get(
    "/metrics",
    summary="Prometheus metrics",
    tags=["operations"],
    media_type="text/plain",
    operation_class=contract_operation("get", "/metrics"),
)
async def metrics(request: Request) -> Response:
    return Response(
        _service(request).metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )


def create_app(
    settings: Settings | None = None, *, serving: bool = False, shared_rate_limits: SharedTable | None = None
) -> Litestar:
    """Build the ingest app; `settings` default to `Settings.from_env()`.

    `serving=True` (the server entry points) also tunes the garbage collector for this process.
    `shared_rate_limits`: the bucket table the worker processes of one service share.
    """
    settings = settings or Settings.from_env()
    app_metrics = Metrics()

    @asynccontextmanager
    async def store_lifespan(app: Litestar) -> AsyncIterator[None]:
        sink = make_sink(settings.storage)
        await sink.open()
        await asyncio.to_thread(parse_user_agent, "Mozilla/5.0")  # load the parser rules before traffic
        if serving:
            # The parser rules, Litestar and pyarrow are tens of thousands of long-lived objects:
            # keep them out of the collector's full passes, which otherwise stall the loop ~100 ms.
            gc.freeze()
        writer = GroupCommitWriter(
            sink,
            app_metrics,
            max_rows=settings.batching.max_batch_rows,
            max_wait_s=settings.batching.max_wait_ms / 1000.0,
            max_concurrent_writes=settings.batching.max_concurrent_writes,
        )
        writer.start()
        limiter = RateLimiter(settings.security, BucketTable(shared_rate_limits))
        app.state.ingest = IngestService(writer, sink, settings.security, app_metrics, limiter)
        logger.info("ingest service ready, store: %s", sink.name)
        try:
            yield
        finally:
            try:
                await writer.stop()
            finally:
                await sink.close()

    cors = None
    if settings.security.cors_origins:
        cors = CORSConfig(
            allow_origins=[origin.strip().rstrip("/") for origin in settings.security.cors_origins],
            allow_methods=["POST", "GET", "OPTIONS"],
            allow_headers=["content-type", "authorization"],
            allow_credentials=True,  # the `sid` cookie and the Bearer token travel with the request
            expose_headers=["Retry-After"],  # the SDK waits as long as a 429/503 asks
            max_age=600,
        )

    app = Litestar(
        route_handlers=[
            analytics,
            track,
            opt_out,
            opt_in,
            sdk_module,
            sdk_declarations,
            healthz,
            readyz,
            metrics,
            *READ_ROUTES,
        ],
        lifespan=[store_lifespan, read_lifespan(settings)],
        exception_handlers=exception_handlers(),
        cors_config=cors,
        request_max_body_size=MAX_BODY_BYTES,
        openapi_config=OpenAPIConfig(title="Interaction ingest service", version="1.0.0"),
        debug=False,
    )
    app.state.session_cookie = settings.session_cookie
    app.state.client_address_header = settings.security.client_address_header
    # Wrap the whole app, not the routes: route middleware never sees the router's own 404/405.
    handler = app.asgi_handler
    if settings.security.cors_origins:
        handler = origin_guard(settings.security.cors_origins, app_metrics)(handler)
    app.asgi_handler = metrics_middleware(app_metrics)(handler)
    app.state.sdk_assets = load_sdk_assets()
    return app


def tune_garbage_collector() -> None:
    """For a serving process: every request allocates a few hundred short-lived objects, so collect
    the young generation less often (the default, every 700 allocations, runs on almost every request)."""
    gc.set_threshold(20_000, 20, 20)


def create_app_from_env(shared_rate_limits: SharedTable | None = None) -> Litestar:
    """Factory for worker processes (`INGEST_WORKERS` > 1): each reads the environment."""
    tune_garbage_collector()
    return create_app(Settings.from_env(), serving=True, shared_rate_limits=shared_rate_limits)
