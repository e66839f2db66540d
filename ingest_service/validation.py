"""Turn one client event (either contract) into a canonical raw row, or say which rules it breaks.

Every rule of SPEC section 1 lives here: the ids each event type needs, the category derived from
the type, ranges and sizes, timestamps, the 8 KiB `event_data`, and which body fields only a
verified identity may set. The result is a dict with the columns of `raw_schema`, ready for either
sink. One-line text with control characters, and anything PostgreSQL or UTF-8 cannot store, is
rejected here (`text_rules`), so a bad event never reaches a write.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from ingest_service.enrichment import UserAgentInfo, parse_user_agent
from ingest_service.errors import Problem, problem_from_msgspec
from ingest_service.event_types import (
    EVENT_TYPES,
    INTERACTION_TYPES,
    MAX_ABS_VALUE,
    MAX_CLOCK_SKEW_S,
    MAX_DEVICE_TYPE,
    MAX_DURATION_MS,
    MAX_ENTITY_ID,
    MAX_EVENT_AGE_WITHOUT_KEY_DAYS,
    MAX_EVENT_DATA_BYTES,
    MAX_SESSION_ID,
    MAX_SOURCE,
    MAX_URL,
    MAX_USER_AGENT,
    MAX_USER_ID,
    RATING_RANGE,
)
from ingest_service.identity import Caller
from ingest_service.payloads import AnalyticsEvent, TrackInteraction
from ingest_service.text_rules import is_one_line_text

Row = dict[str, Any]
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def new_event_id() -> str:
    """A random (version 4) UUID as text; formatting it by hand is several times faster than uuid4()."""
    digits = os.urandom(16).hex()
    variant = "89ab"[int(digits[16], 16) & 3]
    return f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:]}"


def uuid_text(value: str) -> str | None:
    """A UUID in any form `uuid.UUID` reads, as lower-case canonical text; None when it is not one."""
    if _CANONICAL_UUID.fullmatch(value):  # the usual form: skip the slower uuid.UUID parse
        return value
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_JSON_NUL = b"\\u0000"
_MAX_SKEW = timedelta(seconds=MAX_CLOCK_SKEW_S)
_MAX_AGE_WITHOUT_KEY = timedelta(days=MAX_EVENT_AGE_WITHOUT_KEY_DAYS)
NIL_UUID = "00000000-0000-0000-0000-000000000000"


class NaiveTimestamp(ValueError):
    """An ISO-8601 time without a zone: which clock it was read from is unknown."""


class UnrepresentableTimestamp(ValueError):
    """A time that exists in its own zone but not in UTC (or overflows the epoch arithmetic)."""


def parse_client_time(value: Any) -> datetime | None:
    """A client time (ISO-8601 with a zone, or epoch milliseconds) in UTC; None when unparseable.

    Raises NaiveTimestamp for a time without a zone and UnrepresentableTimestamp for one like
    `0001-01-01T00:00:00+14:00`, which is before year 1 in UTC.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return _EPOCH + timedelta(milliseconds=value)
        except (OverflowError, ValueError) as error:  # beyond year 9999, or NaN/infinity
            raise UnrepresentableTimestamp() from error
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        raise NaiveTimestamp()
    try:
        return parsed.astimezone(UTC)
    except OverflowError as error:
        raise UnrepresentableTimestamp() from error


@dataclass
class RequestContext:
    """What one request contributes to all of its events."""

    received_at: datetime
    caller: Caller
    header_user_agent: str | None
    cookie_session_id: str | None
    clock_offset: timedelta | None = None
    """`received_at − sentAt` when the request carried a usable `sentAt` (clock-skew correction)."""
    max_age_without_key: timedelta = _MAX_AGE_WITHOUT_KEY
    """How far before `received_at` a client without an API key may date an event
    (`INGEST_MAX_EVENT_AGE_DAYS`, SPEC §1's 30 days by default)."""
    generated_session_id: str | None = field(default=None)
    _user_agents: dict[str | None, UserAgentInfo] = field(default_factory=dict)

    def user_agent_info(self, user_agent: str | None) -> UserAgentInfo:
        """Events of one request share their user agent: classify it once per request."""
        info = self._user_agents.get(user_agent)
        if info is None:
            info = self._user_agents[user_agent] = parse_user_agent(user_agent)
        return info

    def fallback_session_id(self) -> str:
        """The `sid` cookie, else one new session id for the whole request (set as cookie later)."""
        if self.cookie_session_id:
            return self.cookie_session_id
        if self.generated_session_id is None:
            self.generated_session_id = uuid.uuid4().hex
        return self.generated_session_id


class _Checker:
    """Collects the problems of one event; `label` prefixes every message (`events[3]`)."""

    __slots__ = ("label", "problems")

    def __init__(self, label: str) -> None:
        self.label = label
        self.problems: list[Problem] = []

    def fail(self, field_name: str, rule: str, reason: str) -> None:
        self.problems.append(Problem(f"{self.label}.{field_name}: {rule}", reason))

    def text(
        self, field_name: str, value: str | None, max_length: int, *, required_for: str = ""
    ) -> str | None:
        if value is None or value == "":
            if required_for:
                self.fail(field_name, f"required for {required_for}", "missing_required")
            return None
        if len(value) > max_length:
            self.fail(field_name, f"at most {max_length} characters", "too_long")
            return None
        if not is_one_line_text(value):
            self.fail(field_name, "must not contain control characters", "invalid_character")
            return None
        return value

    def integer(self, field_name: str, value: int | None, low: int, high: int) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field_name, f"expected an integer, got {type(value).__name__}", "wrong_type")
            return None
        if not low <= value <= high:
            self.fail(field_name, f"must be between {low} and {high}", "out_of_range")
            return None
        return value

    def event_id(self, field_name: str, value: str | None) -> str:
        if value is None:
            return new_event_id()
        parsed = uuid_text(value)
        if parsed is None or parsed == NIL_UUID:  # the nil UUID is what a broken generator sends
            self.fail(field_name, "must be a UUID other than the nil UUID", "invalid_event_id")
            return ""
        return parsed

    def anonymous_id(self, field_name: str, value: str | None) -> str | None:
        """SPEC §1: a random UUID kept by the browser; anything else, the nil UUID included, is an error."""
        if value is None:
            return None
        parsed = uuid_text(value)
        if parsed is None or parsed == NIL_UUID:
            self.fail(field_name, "must be a random UUID (not the nil UUID)", "invalid_anonymous_id")
            return None
        return parsed

    def occurred_at(self, value: str | int | float | None, ctx: RequestContext, index: int) -> datetime:
        """SPEC §1's `occurred_at`: the client's timestamp corrected by the request's clock skew, or
        `received_at` plus the event's index in microseconds (so a request keeps its order)."""
        fallback = ctx.received_at + timedelta(microseconds=index)
        if value is None:
            return fallback
        try:
            occurred = parse_client_time(value)
        except NaiveTimestamp:
            self.fail(
                "timestamp", "needs a time zone (ISO-8601 with zone, or epoch milliseconds)", "bad_timestamp"
            )
            return fallback
        except UnrepresentableTimestamp:
            self.fail("timestamp", "is not a time representable in UTC", "bad_timestamp")
            return fallback
        if occurred is None or occurred < _EPOCH:
            self.fail("timestamp", "must be ISO-8601 with a zone or epoch milliseconds", "bad_timestamp")
            return fallback
        if ctx.clock_offset is not None:
            try:
                occurred += ctx.clock_offset
            except OverflowError:
                self.fail("timestamp", "not representable in UTC once corrected by sentAt", "bad_timestamp")
                return fallback
        if occurred - ctx.received_at > _MAX_SKEW:
            return fallback  # a client clock ahead of ours is not trusted
        if not ctx.caller.is_server_client and ctx.received_at - occurred > ctx.max_age_without_key:
            self.fail(
                "timestamp",
                f"more than {ctx.max_age_without_key.days:g} days before the request was received "
                "(backfills need an X-Api-Key)",
                "timestamp_too_old",
            )
            return fallback
        return occurred

    def event_data(self, field_name: str, data: dict[str, Any]) -> str:
        try:
            encoded = msgspec.json.encode(data)
        except UnicodeEncodeError:  # a lone surrogate: not text either store can hold
            self.fail(field_name, "must be valid Unicode text", "invalid_character")
            return "{}"
        if len(encoded) > MAX_EVENT_DATA_BYTES:
            self.fail(field_name, f"at most {MAX_EVENT_DATA_BYTES} bytes as JSON", "event_data_too_large")
        elif _JSON_NUL in encoded:
            self.fail(field_name, "must not contain NUL characters", "invalid_character")
        return encoded.decode()


def _enriched(row: Row, info: UserAgentInfo, user_agent: str | None, client_device_type: str | None) -> Row:
    row["user_agent"] = user_agent
    row["device_type"] = client_device_type or info.device_type
    row["browser"] = info.browser
    row["os"] = info.os
    row["is_bot"] = info.is_bot
    return row


def _check_type_and_ids(check: _Checker, event_type: str | None, type_field: str, ids: dict[str, Any]) -> str:
    """Validate event_type and the ids it needs; returns the derived category ('' when unknown)."""
    if not event_type:
        check.fail(type_field, "required", "missing_required")
        return ""
    spec = EVENT_TYPES.get(event_type)
    if spec is None:
        check.fail(type_field, f"unknown event type {event_type[:64]!r}", "unknown_event_type")
        return ""
    category, needed = spec
    for column in needed:
        field_name, value = ids[column]
        if value is None or value == "":  # lengths are checked once, where the row is built
            check.fail(field_name, f"required for {event_type}", "missing_required")
    return category


def _source_from(check: _Checker, container: str, data: dict[str, Any]) -> str | None:
    source = data.pop("source", None)
    if source is None:
        return None
    if not isinstance(source, str):
        check.fail(f"{container}.source", f"expected a string, got {type(source).__name__}", "wrong_type")
        return None
    return check.text(f"{container}.source", source, MAX_SOURCE)


def _search_data(check: _Checker, data: dict[str, Any]) -> None:
    query = data.get("query")
    if query is not None and not isinstance(query, str):
        check.fail("eventData.query", f"expected a string, got {type(query).__name__}", "wrong_type")
    result_ids = data.get("resultPerfumeIds")
    if result_ids is not None and not (
        isinstance(result_ids, list)
        and all(isinstance(item, str) and 0 < len(item) <= MAX_ENTITY_ID for item in result_ids)
    ):
        check.fail(
            "eventData.resultPerfumeIds",
            f"must be a list of perfume ids (strings of 1..{MAX_ENTITY_ID} characters)",
            "wrong_type",
        )


def analytics_event_to_row(
    raw: Any, index: int, label: str, ctx: RequestContext
) -> tuple[Row | None, list[Problem]]:
    """One `/api/analytics` event (seed 004) → (row, []) or (None, problems)."""
    try:
        event = raw if type(raw) is AnalyticsEvent else msgspec.convert(raw, AnalyticsEvent)
    except msgspec.ValidationError as error:
        return None, [problem_from_msgspec(label, error)]
    check = _Checker(label)
    category = _check_type_and_ids(
        check,
        event.eventType,
        "eventType",
        {
            "perfume_id": ("perfumeId", event.perfumeId),
            "house_id": ("houseId", event.houseId),
            "post_id": ("postId", event.postId),
        },
    )
    if event.eventCategory is not None and category and event.eventCategory != category:
        check.fail(
            "eventCategory",
            f"{event.eventCategory[:32]!r} disagrees with eventType {event.eventType} (category {category})",
            "category_mismatch",
        )
    value = event.value
    if event.eventType == "RATING_COMPLETED":
        low, high = RATING_RANGE
        if value is None:
            check.fail("value", "required for RATING_COMPLETED", "missing_required")
        elif not low <= value <= high:
            check.fail("value", f"must be between {low:g} and {high:g} for RATING_COMPLETED", "out_of_range")
    elif value is not None and not -MAX_ABS_VALUE <= value <= MAX_ABS_VALUE:
        check.fail("value", f"must be between {-MAX_ABS_VALUE:g} and {MAX_ABS_VALUE:g}", "out_of_range")
    data = dict(event.eventData or {})
    source = _source_from(check, "eventData", data)
    if event.eventType == "SEARCH_PERFORMED":
        _search_data(check, data)
    caller = ctx.caller
    user_id = caller.user_id
    user_agent = ctx.header_user_agent
    if caller.is_server_client:
        user_id = check.text("userId", event.userId, MAX_USER_ID) or user_id
        user_agent = event.userAgent or user_agent
    row: Row = {
        "event_id": check.event_id("eventId", event.eventId or event.event_id),
        "received_at": ctx.received_at,
        "occurred_at": check.occurred_at(event.timestamp, ctx, index),
        "session_id": check.text("sessionId", event.sessionId, MAX_SESSION_ID) or ctx.fallback_session_id(),
        "user_id": user_id,
        "event_type": event.eventType,
        "event_category": category,
        "perfume_id": check.text("perfumeId", event.perfumeId, MAX_ENTITY_ID),
        "house_id": check.text("houseId", event.houseId, MAX_ENTITY_ID),
        "post_id": check.text("postId", event.postId, MAX_ENTITY_ID),
        "path": check.text("path", event.path, MAX_URL, required_for="/api/analytics"),
        "referrer": check.text("referrer", event.referrer, MAX_URL),
        "duration_ms": check.integer("duration", event.duration, 0, MAX_DURATION_MS),
        "scroll_depth": None,
        "value": value,
        "source": source,
        "event_data": check.event_data("eventData", data),
        "anonymous_id": check.anonymous_id("anonymousId", event.anonymousId),
    }
    user_agent = check.text("userAgent", user_agent, MAX_USER_AGENT)
    device_type = check.text("deviceType", event.deviceType, MAX_DEVICE_TYPE)
    if check.problems:
        return None, check.problems
    return _enriched(row, ctx.user_agent_info(user_agent), user_agent, device_type), []


def track_interaction_to_row(
    raw: Any, index: int, label: str, ctx: RequestContext
) -> tuple[Row | None, list[Problem]]:
    """One `/api/track` interaction (seed 000) → (row, []) or (None, problems)."""
    try:
        interaction = raw if type(raw) is TrackInteraction else msgspec.convert(raw, TrackInteraction)
    except msgspec.ValidationError as error:
        return None, [problem_from_msgspec(label, error)]
    check = _Checker(label)
    event_type = None
    if not interaction.interaction_type:
        check.fail("interaction_type", f"required, one of {', '.join(INTERACTION_TYPES)}", "missing_required")
    else:
        event_type = INTERACTION_TYPES.get(interaction.interaction_type)
        if event_type is None:
            check.fail(
                "interaction_type",
                f"must be one of {', '.join(INTERACTION_TYPES)}, got {interaction.interaction_type[:32]!r}",
                "unknown_event_type",
            )
    post_id = check.text(
        "post_id", interaction.post_id, MAX_ENTITY_ID, required_for=event_type or "/api/track"
    )
    metadata = dict(interaction.metadata or {})
    duration = metadata.pop("duration", None)
    scroll_depth = metadata.pop("scroll_depth", None)
    source = _source_from(check, "metadata", metadata)
    caller = ctx.caller
    user_id = caller.user_id
    user_agent = ctx.header_user_agent
    if caller.is_server_client:
        user_id = check.text("user_id", interaction.user_id or interaction.userId, MAX_USER_ID) or user_id
        user_agent = interaction.user_agent or interaction.userAgent or user_agent
    if user_id is None:
        # a server client reached here without a user for this interaction
        check.fail("user_id", "required: /api/track records interactions of identified users", "missing_user")
    row: Row = {
        "event_id": check.event_id("event_id", interaction.event_id or interaction.eventId),
        "received_at": ctx.received_at,
        "occurred_at": check.occurred_at(interaction.timestamp, ctx, index),
        "session_id": check.text("session_id", interaction.session_id, MAX_SESSION_ID)
        or ctx.fallback_session_id(),
        "user_id": user_id,
        "event_type": event_type,
        "event_category": EVENT_TYPES[event_type][0] if event_type else "",
        "perfume_id": None,
        "house_id": None,
        "post_id": post_id,
        "path": check.text("path", interaction.path, MAX_URL),
        "referrer": check.text("referrer", interaction.referrer, MAX_URL),
        "duration_ms": check.integer("metadata.duration", duration, 0, MAX_DURATION_MS),
        "scroll_depth": check.integer("metadata.scroll_depth", scroll_depth, 0, 100),
        "value": None,
        "source": source,
        "event_data": check.event_data("metadata", metadata),
        "anonymous_id": check.anonymous_id(
            "anonymous_id", interaction.anonymous_id or interaction.anonymousId
        ),
    }
    user_agent = check.text("user_agent", user_agent, MAX_USER_AGENT)
    if check.problems:
        return None, check.problems
    return _enriched(row, ctx.user_agent_info(user_agent), user_agent, None), []
