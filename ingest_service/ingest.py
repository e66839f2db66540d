"""The ingest use cases behind the HTTP handlers: parse, identify, validate, enrich, store durably.

Handlers pass in what they read from the request (`IncomingRequest`) and send back the `Reply`;
everything the contract says about bodies, limits, identities and partial batches happens here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from ingest_service.errors import (
    InvalidBody,
    PayloadTooLarge,
    Problem,
    RateLimited,
    SingleEventInvalid,
    Unauthorized,
    UnsupportedMediaType,
)
from ingest_service.event_types import MAX_EVENTS_PER_REQUEST, MAX_SESSION_ID, MAX_USER_AGENT, MAX_USER_ID
from ingest_service.group_commit import GroupCommitWriter
from ingest_service.identity import Caller, identify
from ingest_service.metrics import Metrics
from ingest_service.payloads import (
    AnalyticsEventsBody,
    BatchAccepted,
    BatchError,
    PrivacyRequest,
    PrivacyResult,
    SingleEventAccepted,
    TrackResult,
)
from ingest_service.rate_limit import SessionRateLimiter
from ingest_service.settings import SecuritySettings
from ingest_service.storage.sinks import Sink
from ingest_service.validation import RequestContext, Row, analytics_event_to_row, track_interaction_to_row

ACCEPTED_MEDIA_TYPES = frozenset({"application/json", "text/plain"})

Normalizer = Callable[[Any, str, RequestContext], tuple[Row | None, list[Problem]]]


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    body: bytes
    content_type: str | None
    authorization: str | None
    api_key: str | None
    user_agent: str | None
    sid_cookie: str | None


@dataclass(frozen=True, slots=True)
class Reply:
    payload: msgspec.Struct
    session_cookie: str | None = None
    """A session id to (re)set as the `sid` cookie."""
    anonymous_id: str | None = None
    """The anonymous id to (re)set as the `aid` cookie (SPEC §10): the request's latest one."""


def _check_media_type(content_type: str | None) -> None:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in ACCEPTED_MEDIA_TYPES:
        raise UnsupportedMediaType("Content-Type must be application/json or text/plain")


def _decode(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):  # deep nesting, bad UTF-8
        raise InvalidBody() from None


def _decode_analytics(body: bytes) -> Any:
    """`{"events": [...]}` typed in one pass when possible (most traffic), else generic JSON."""
    try:
        typed = msgspec.json.decode(body, type=AnalyticsEventsBody)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
        return _decode(body)
    return {"events": typed.events}


def _usable_cookie(sid: str | None) -> str | None:
    if sid and len(sid) <= MAX_SESSION_ID and sid.isprintable():
        return sid
    return None


class IngestService:
    def __init__(
        self,
        writer: GroupCommitWriter,
        sink: Sink,
        security: SecuritySettings,
        metrics: Metrics,
    ) -> None:
        self.writer = writer
        self.sink = sink
        self.security = security
        self.metrics = metrics
        self.rate_limiter = SessionRateLimiter(security.rate_limit_per_minute, security.rate_limit_burst)

    # --- shared steps ---------------------------------------------------------------------------

    def _context(self, request: IncomingRequest, caller: Caller) -> RequestContext:
        user_agent = request.user_agent[:MAX_USER_AGENT] if request.user_agent else None
        return RequestContext(
            received_at=datetime.now(UTC),
            caller=caller,
            header_user_agent=user_agent,
            cookie_session_id=_usable_cookie(request.sid_cookie),
        )

    def _rate_limit(self, ctx: RequestContext, items: list[Any], session_field: str) -> None:
        if ctx.caller.is_server_client or not self.rate_limiter.enabled:
            return  # backfills and server-side tracking are trusted, and send many sessions at once
        session = ctx.cookie_session_id
        if session is None and items:
            first = items[0]
            candidate = (
                first.get(session_field) if isinstance(first, dict) else getattr(first, session_field, None)
            )
            session = candidate if isinstance(candidate, str) and candidate else None
        if session is None:
            return  # a brand-new session: its bucket would be full anyway
        wait = self.rate_limiter.acquire(session)
        if wait:
            raise RateLimited(wait)

    def _normalize(
        self, items: list[Any], labels: list[str], ctx: RequestContext, normalize: Normalizer
    ) -> tuple[list[Row], list[BatchError], list[Problem]]:
        rows: list[Row] = []
        errors: list[BatchError] = []
        problems: list[Problem] = []
        for index, (item, label) in enumerate(zip(items, labels, strict=True)):
            row, item_problems = normalize(item, label, ctx)
            if row is not None:
                rows.append(row)
                continue
            problems.extend(item_problems)
            errors.extend(BatchError(index, problem.message) for problem in item_problems)
            self.metrics.events_rejected.labels(item_problems[0].reason).inc()
        return rows, errors, problems

    async def _store(self, rows: list[Row], endpoint: str) -> None:
        await self.writer.submit(rows)  # raises StorageUnavailable → 503, nothing counted
        self.metrics.events_accepted.labels(endpoint).inc(len(rows))

    def _reply(self, payload: msgspec.Struct, ctx: RequestContext, rows: list[Row]) -> Reply:
        # set the cookie we generated; refresh the one sent so an active session keeps its id
        return Reply(
            payload,
            session_cookie=ctx.generated_session_id or ctx.cookie_session_id,
            anonymous_id=next(
                (row["anonymous_id"] for row in reversed(rows) if row.get("anonymous_id")), None
            ),
        )

    # --- POST /api/analytics ----------------------------------------------------------------

    async def analytics(self, request: IncomingRequest) -> Reply:
        _check_media_type(request.content_type)
        caller = identify(request.authorization, request.api_key, self.security)
        body = _decode_analytics(request.body)
        if not isinstance(body, dict):
            raise InvalidBody()
        ctx = self._context(request, caller)
        events = body.get("events")
        if isinstance(events, list):
            if len(events) > MAX_EVENTS_PER_REQUEST:
                raise PayloadTooLarge(
                    f"At most {MAX_EVENTS_PER_REQUEST} events per request, got {len(events)}"
                )
            self._rate_limit(ctx, events, "sessionId")
            labels = [f"events[{index}]" for index in range(len(events))]
            rows, errors, _ = self._normalize(events, labels, ctx, analytics_event_to_row)
            await self._store(rows, "/api/analytics")
            return self._reply(BatchAccepted(success=True, count=len(rows), errors=errors), ctx, rows)
        if "events" not in body and "event" in body:
            event = body["event"]
            self._rate_limit(ctx, [event], "sessionId")
            rows, _, problems = self._normalize([event], ["event"], ctx, analytics_event_to_row)
            if problems:
                raise SingleEventInvalid(problems)
            await self._store(rows, "/api/analytics")
            return self._reply(SingleEventAccepted(success=True, eventId=rows[0]["event_id"]), ctx, rows)
        raise InvalidBody()

    # --- POST /api/track --------------------------------------------------------------------

    async def track(self, request: IncomingRequest) -> Reply:
        _check_media_type(request.content_type)
        caller = identify(request.authorization, request.api_key, self.security)
        if not caller.is_identified:
            raise Unauthorized("/api/track needs an identified user: send a Bearer token (or X-Api-Key)")
        body = _decode(request.body)
        if not isinstance(body, dict):
            raise InvalidBody()
        ctx = self._context(request, caller)
        interactions = body.get("interactions")
        if isinstance(interactions, list):
            if len(interactions) > MAX_EVENTS_PER_REQUEST:
                raise PayloadTooLarge(
                    f"At most {MAX_EVENTS_PER_REQUEST} interactions per request, got {len(interactions)}"
                )
            labels = [f"interactions[{index}]" for index in range(len(interactions))]
        elif "interactions" not in body and ("interaction_type" in body or "post_id" in body):
            interactions, labels = [body], ["interaction"]
        else:
            raise InvalidBody()
        self._rate_limit(ctx, interactions, "session_id")
        rows, errors, _ = self._normalize(interactions, labels, ctx, track_interaction_to_row)
        await self._store(rows, "/api/track")
        return self._reply(TrackResult(success=not errors, tracked=len(rows), errors=errors), ctx, rows)

    # --- POST /api/privacy/opt-out and opt-in ---------------------------------------------------

    async def privacy(self, request: IncomingRequest, action: str) -> Reply:
        caller = identify(request.authorization, request.api_key, self.security)
        body = PrivacyRequest()
        if request.body.strip():
            _check_media_type(request.content_type)
            try:
                body = msgspec.json.decode(request.body, type=PrivacyRequest)
            except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
                raise InvalidBody() from None
        user_id = caller.user_id
        if caller.is_server_client and (body.userId or body.user_id):
            user_id = body.userId or body.user_id
        if user_id is None:
            raise Unauthorized(
                'a privacy request needs a Bearer token of the user, or X-Api-Key with {"userId": ...}'
            )
        if len(user_id) > MAX_USER_ID or "\x00" in user_id:
            raise InvalidBody()
        await self.sink.record_privacy_action(user_id, action)
        return Reply(PrivacyResult(success=True, userId=user_id, action=action))
