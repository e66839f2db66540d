"""The ingest use cases behind the HTTP handlers: parse, identify, validate, enrich, store durably.

Handlers pass in what they read from the request (`IncomingRequest`) and send back the `Reply`;
everything the contract says about bodies, limits, identities and partial batches happens here.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from ingest_service.errors import (
    InvalidBody,
    PayloadTooLarge,
    Problem,
    RateLimited,
    RejectedByStore,
    SingleEventInvalid,
    StorageUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)
from ingest_service.event_types import (
    MAX_BODY_BYTES,
    MAX_EVENTS_PER_REQUEST,
    MAX_SESSION_ID,
    MAX_USER_AGENT,
    MAX_USER_ID,
)
from ingest_service.group_commit import GroupCommitWriter
from ingest_service.identity import Caller, identify
from ingest_service.metrics import Metrics
from ingest_service.payloads import (
    AnalyticsEvent,
    AnalyticsEventsBody,
    BatchAccepted,
    BatchError,
    PrivacyRequest,
    PrivacyResult,
    SingleEventAccepted,
    TrackResult,
)
from ingest_service.rate_limit import RateLimiter
from ingest_service.rejected_events import rejected_row
from ingest_service.settings import SecuritySettings
from ingest_service.storage.sinks import Sink
from ingest_service.text_rules import is_one_line_text, without_control_characters
from ingest_service.validation import (
    RequestContext,
    Row,
    analytics_event_to_row,
    parse_client_time,
    track_interaction_to_row,
)

ACCEPTED_MEDIA_TYPES = frozenset({"application/json", "text/plain"})
ANALYTICS = "/api/analytics"
TRACK = "/api/track"

Normalizer = Callable[[Any, int, str, RequestContext], tuple[Row | None, list[Problem]]]


@dataclass(frozen=True, slots=True)
class IncomingRequest:
    body: bytes
    content_type: str | None
    authorization: str | None
    api_key: str | None
    user_agent: str | None
    sid_cookie: str | None
    content_encoding: str | None = None
    client_address: str | None = None
    """For the rate limits only: held in memory, never stored or logged."""


@dataclass(slots=True)
class Normalized:
    """One request's events after validation."""

    rows: list[Row] = field(default_factory=list)
    errors: list[BatchError] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rejected: list[Row] = field(default_factory=list)
    """rows of `raw.rejected_events`, one per event with an error"""


def _decoded_once(decode: Callable[[], list[Any]]) -> Callable[[], list[Any]]:
    cached: list[list[Any]] = []

    def once() -> list[Any]:
        if not cached:
            cached.append(decode())
        return cached[0]

    return once


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


_UTF8_BOM = b"\xef\xbb\xbf"


def _gunzip(body: bytes) -> bytes:
    """Decompress gzip (or zlib) members, refusing more than MAX_BODY_BYTES of output (zip bombs)."""
    output = bytearray()
    while body:
        decompressor = zlib.decompressobj(wbits=47)  # 32 + 15: gzip or zlib header, detected
        try:
            output += decompressor.decompress(body, MAX_BODY_BYTES + 1 - len(output))
        except zlib.error:
            raise InvalidBody() from None
        if len(output) > MAX_BODY_BYTES:
            raise PayloadTooLarge("Request body is larger than 1 MiB once decompressed")
        if not decompressor.eof:  # truncated
            raise InvalidBody()
        body = decompressor.unused_data  # a gzip stream may hold several members
    return bytes(output)


def decoded_body(body: bytes, content_encoding: str | None) -> bytes:
    """The body as JSON bytes: `Content-Encoding: gzip`/`deflate` undone (the 1 MiB limit applies
    to the decoded body), a leading UTF-8 byte order mark dropped; another encoding is a 415."""
    for encoding in reversed([part.strip().lower() for part in (content_encoding or "").split(",")]):
        if encoding in ("gzip", "x-gzip", "deflate"):
            body = _gunzip(body)
        elif encoding not in ("", "identity"):
            raise UnsupportedMediaType("Content-Encoding must be gzip, deflate or identity")
    return body[len(_UTF8_BOM) :] if body.startswith(_UTF8_BOM) else body


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
    return {"events": typed.events, "sentAt": typed.sentAt}


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
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        self.writer = writer
        self.sink = sink
        self.security = security
        self.metrics = metrics
        self.rate_limiter = rate_limiter or RateLimiter(security)

    # --- shared steps ---------------------------------------------------------------------------

    def _context(self, request: IncomingRequest, caller: Caller, body: dict[str, Any]) -> RequestContext:
        user_agent = None
        if request.user_agent:  # only read, never the client's data: cleaned rather than refused
            user_agent = without_control_characters(request.user_agent)[:MAX_USER_AGENT] or None
        received_at = datetime.now(UTC)
        return RequestContext(
            received_at=received_at,
            caller=caller,
            header_user_agent=user_agent,
            cookie_session_id=_usable_cookie(request.sid_cookie),
            clock_offset=self._clock_offset(body.get("sentAt"), received_at),
            max_age_without_key=self.security.max_event_age_without_key,
        )

    def _clock_offset(self, sent_at: Any, received_at: datetime) -> timedelta | None:
        """`received_at − sentAt` (SPEC §1); an unusable `sentAt` is ignored, as PostHog does (Segment
        does not say), and counted: the events are then taken as the client's clock has them."""
        if sent_at is None:
            return None
        try:
            sent = parse_client_time(sent_at)
        except ValueError:  # naive, or not representable in UTC
            sent = None
        if sent is None:
            self.metrics.sent_at_ignored.inc()
            return None
        return received_at - sent

    def _rate_limit(
        self, ctx: RequestContext, request: IncomingRequest, items: list[Any], field: str
    ) -> None:
        if ctx.caller.is_server_client or not self.rate_limiter.enabled:
            return  # backfills and server-side tracking are trusted, and send many sessions at once
        sessions: dict[str, int] = {}
        for item in items:
            session = item.get(field) if isinstance(item, dict) else getattr(item, field, None)
            if not isinstance(session, str) or not session:
                session = ctx.cookie_session_id
            if session is not None:  # else a brand-new session: its bucket would be full anyway
                sessions[session] = sessions.get(session, 0) + 1
        wait = self.rate_limiter.ingest_wait(ctx.caller.user_id, sessions, request.client_address, len(items))
        if wait:
            self.metrics.rate_limited.labels("ingest").inc()
            raise RateLimited(wait)

    def _normalize(
        self,
        items: list[Any],
        labels: list[str],
        ctx: RequestContext,
        normalize: Normalizer,
        endpoint: str,
        items_as_sent: Callable[[], list[Any]] | None = None,
    ) -> Normalized:
        """Validate every item; `items_as_sent` gives the items as decoded JSON when `items` are
        typed structs (the fast path), for the rejected events' `event` column."""
        result = Normalized()
        self.metrics.events_received.labels(endpoint).inc(len(items))
        for index, (item, label) in enumerate(zip(items, labels, strict=True)):
            row, item_problems = normalize(item, index, label, ctx)
            if row is not None:
                result.rows.append(row)
                continue
            result.problems.extend(item_problems)
            result.errors.extend(BatchError(index, problem.message) for problem in item_problems)
            self.metrics.events_rejected.labels(item_problems[0].reason).inc()
            if items_as_sent is not None:
                item = items_as_sent()[index]
            result.rejected.append(rejected_row(item, item_problems, ctx, endpoint, index, label))
        return result

    async def _store(self, normalized: Normalized, endpoint: str) -> None:
        rows = normalized.rows
        try:
            await self.writer.submit(rows, normalized.rejected)
        except StorageUnavailable:  # → 503, nothing of the request counts as stored
            self.metrics.events_failed.labels(endpoint).inc(len(rows))
            raise
        except RejectedByStore:  # → 400 for this request only
            self.metrics.events_rejected.labels("refused_by_store").inc(len(rows))
            raise
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
        raw_body = decoded_body(request.body, request.content_encoding)
        body = _decode_analytics(raw_body)
        if not isinstance(body, dict):
            raise InvalidBody()
        ctx = self._context(request, caller, body)
        events = body.get("events")
        if isinstance(events, list):
            if len(events) > MAX_EVENTS_PER_REQUEST:
                raise PayloadTooLarge(
                    f"At most {MAX_EVENTS_PER_REQUEST} events per request, got {len(events)}"
                )
            self._rate_limit(ctx, request, events, "sessionId")
            labels = [f"events[{index}]" for index in range(len(events))]
            as_sent = None
            if events and type(events[0]) is AnalyticsEvent:  # typed on the fast path: decode again
                as_sent = _decoded_once(lambda: _decode(raw_body)["events"])
            result = self._normalize(events, labels, ctx, analytics_event_to_row, ANALYTICS, as_sent)
            await self._store(result, ANALYTICS)
            return self._reply(
                BatchAccepted(success=True, count=len(result.rows), errors=result.errors), ctx, result.rows
            )
        if "events" not in body and "event" in body:
            event = body["event"]
            self._rate_limit(ctx, request, [event], "sessionId")
            result = self._normalize([event], ["event"], ctx, analytics_event_to_row, ANALYTICS)
            await self._store(result, ANALYTICS)  # a rejected event is kept before the 400
            if result.problems:
                raise SingleEventInvalid(result.problems)
            return self._reply(
                SingleEventAccepted(success=True, eventId=result.rows[0]["event_id"]), ctx, result.rows
            )
        raise InvalidBody()

    # --- POST /api/track --------------------------------------------------------------------

    async def track(self, request: IncomingRequest) -> Reply:
        _check_media_type(request.content_type)
        caller = identify(request.authorization, request.api_key, self.security)
        if not caller.is_identified:
            raise Unauthorized("/api/track needs an identified user: send a Bearer token (or X-Api-Key)")
        body = _decode(decoded_body(request.body, request.content_encoding))
        if not isinstance(body, dict):
            raise InvalidBody()
        ctx = self._context(request, caller, body)
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
        self._rate_limit(ctx, request, interactions, "session_id")
        result = self._normalize(interactions, labels, ctx, track_interaction_to_row, TRACK)
        await self._store(result, TRACK)
        errors = result.errors
        return self._reply(
            TrackResult(success=not errors, tracked=len(result.rows), errors=errors), ctx, result.rows
        )

    # --- POST /api/privacy/opt-out and opt-in ---------------------------------------------------

    async def privacy(self, request: IncomingRequest, action: str) -> Reply:
        caller = identify(request.authorization, request.api_key, self.security)
        body = PrivacyRequest()
        raw_body = decoded_body(request.body, request.content_encoding)
        if raw_body.strip():
            _check_media_type(request.content_type)
            try:
                body = msgspec.json.decode(raw_body, type=PrivacyRequest)
            except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError, RecursionError):
                raise InvalidBody() from None
        user_id = caller.user_id
        if caller.is_server_client and (body.userId or body.user_id):
            user_id = body.userId or body.user_id
        if user_id is None:
            raise Unauthorized(
                'a privacy request needs a Bearer token of the user, or X-Api-Key with {"userId": ...}'
            )
        if not user_id or len(user_id) > MAX_USER_ID or not is_one_line_text(user_id):
            raise InvalidBody()
        if not caller.is_server_client:  # a server client acts for many users: trusted, like at ingest
            wait = self.rate_limiter.privacy_wait(user_id, request.client_address)
            if wait:
                self.metrics.rate_limited.labels("privacy").inc()
                raise RateLimited(wait)
        await self.sink.record_privacy_action(user_id, action)
        return Reply(PrivacyResult(success=True, userId=user_id, action=action))
