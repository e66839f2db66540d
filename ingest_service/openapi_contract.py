"""The published OpenAPI of the ingest and read endpoints, exact (issue 9, defect 4).

Handlers read the raw body (two content types, events typed one at a time) and build their own
responses, so Litestar can describe neither. Here each operation's request body comes from the
msgspec structs of `payloads.py`, tightened with SPEC §1's rules (event type and category enums,
the ids each type needs, lengths, ranges), and every response the operation can give is listed
with its exact shape (`additionalProperties: false`, every field required), media type and
headers. `tests/ingest` validates every response it provokes against this document, and
`make fuzz-ingest` drives schemathesis with it.

Schemas are written as plain JSON Schema (2020-12, which OpenAPI 3.1 uses) and converted to
Litestar's `Schema` objects once, when the app is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)

from ingest_service.event_types import (
    EVENT_TYPES,
    INTERACTION_TYPES,
    MAX_ABS_VALUE,
    MAX_DEVICE_TYPE,
    MAX_DURATION_MS,
    MAX_ENTITY_ID,
    MAX_EVENTS_PER_REQUEST,
    MAX_SESSION_ID,
    MAX_SOURCE,
    MAX_URL,
    MAX_USER_AGENT,
    MAX_USER_ID,
    RATING_RANGE,
)
from ingest_service.payloads import (
    AnalyticsEvent,
    PerfumeStatsBody,
    PrivacyRequest,
    TrackInteraction,
    TrendingBody,
    UserProfileBody,
)

JSON = "application/json"
BODY_MEDIA_TYPES = (JSON, "text/plain")
_REF_PREFIX = "#/$defs/"

# --- request bodies -------------------------------------------------------------------------

#: one-line text: no C0/C1 control characters (text_rules)
_ONE_LINE = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
_UUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_NIL_UUID = "00000000-0000-0000-0000-000000000000"
_CAMEL_ID_FIELD = {"perfume_id": "perfumeId", "house_id": "houseId", "post_id": "postId"}


def _text(max_length: int, description: str = "", min_length: int = 1) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "minLength": min_length, "maxLength": max_length}
    schema["pattern"] = _ONE_LINE
    if description:
        schema["description"] = description
    return schema


def _uuid(description: str) -> dict[str, Any]:
    return {"type": "string", "pattern": _UUID, "not": {"const": _NIL_UUID}, "description": description}


_TIMESTAMP = {
    "anyOf": [{"type": "string", "format": "date-time"}, {"type": "number"}],
    "description": "ISO-8601 with a zone, or epoch milliseconds. More than 5 minutes ahead of the "
    "server (after the sentAt correction) is replaced by the server's time; more than 30 days old "
    "needs an X-Api-Key.",
}
_SENT_AT = {
    **_TIMESTAMP,
    "description": "When the client sent the request, by its clock: corrects every timestamp of it.",
}

_EVENT_FIELDS: dict[str, dict[str, Any]] = {
    "eventType": {"type": "string", "enum": list(EVENT_TYPES)},
    "eventCategory": {
        "type": "string",
        "enum": sorted({category for category, _ in EVENT_TYPES.values()}),
        "description": "Optional; must be the event type's category",
    },
    "eventId": _uuid("Client event id: retries reuse it"),
    "event_id": _uuid("Alias of eventId"),
    "anonymousId": _uuid("Random id the browser keeps across sessions"),
    "timestamp": _TIMESTAMP,
    "sessionId": _text(MAX_SESSION_ID),
    "userId": _text(MAX_USER_ID, "Honoured for server clients (X-Api-Key) only"),
    "perfumeId": _text(MAX_ENTITY_ID),
    "houseId": _text(MAX_ENTITY_ID),
    "postId": _text(MAX_ENTITY_ID),
    "path": _text(MAX_URL),
    "referrer": _text(MAX_URL),
    "userAgent": _text(MAX_USER_AGENT, "Honoured for server clients (X-Api-Key) only"),
    "deviceType": _text(MAX_DEVICE_TYPE),
    "duration": {"type": "integer", "minimum": 0, "maximum": MAX_DURATION_MS},
    "value": {"type": "number", "minimum": -MAX_ABS_VALUE, "maximum": MAX_ABS_VALUE},
    "eventData": {
        "type": "object",
        "description": "Custom fields, at most 8 KiB as JSON; `source` is lifted out",
    },
}

_METADATA = {
    "type": "object",
    "properties": {
        "duration": {"type": "integer", "minimum": 0, "maximum": MAX_DURATION_MS},
        "scroll_depth": {"type": "integer", "minimum": 0, "maximum": 100},
        "source": _text(MAX_SOURCE),
    },
    "description": "duration, scroll_depth and source go to their columns, the rest to event_data (≤ 8 KiB)",
}
_INTERACTION_FIELDS: dict[str, dict[str, Any]] = {
    "post_id": _text(MAX_ENTITY_ID),
    "interaction_type": {"type": "string", "enum": list(INTERACTION_TYPES)},
    "metadata": _METADATA,
    "event_id": _uuid("Client event id: retries reuse it"),
    "eventId": _uuid("Alias of event_id"),
    "anonymous_id": _uuid("Random id the browser keeps across sessions"),
    "anonymousId": _uuid("Alias of anonymous_id"),
    "timestamp": _TIMESTAMP,
    "session_id": _text(MAX_SESSION_ID),
    "user_id": _text(MAX_USER_ID, "Honoured for server clients (X-Api-Key) only; required for them"),
    "userId": _text(MAX_USER_ID, "Alias of user_id"),
    "user_agent": _text(MAX_USER_AGENT, "Honoured for server clients (X-Api-Key) only"),
    "userAgent": _text(MAX_USER_AGENT, "Alias of user_agent"),
    "path": _text(MAX_URL),
    "referrer": _text(MAX_URL),
}


def _struct_properties(struct: type[msgspec.Struct]) -> tuple[dict[str, Any], str]:
    """The struct's fields as msgspec describes them (types, nullability), and its docstring."""
    (reference,), definitions = msgspec.json.schema_components([struct], ref_template=_REF_PREFIX + "{name}")
    definition = definitions[reference["$ref"].removeprefix(_REF_PREFIX)]
    return definition["properties"], definition.get("description", "")


def _object(struct: type[msgspec.Struct], rules: dict[str, dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The struct's fields, each tightened by `rules` (null stays allowed where msgspec allows it)."""
    properties, description = _struct_properties(struct)
    tightened = {}
    for name, generated in properties.items():
        rule = rules.get(name)
        if rule is None:
            tightened[name] = {key: value for key, value in generated.items() if key != "default"}
            continue
        nullable = any(option.get("type") == "null" for option in generated.get("anyOf", []))
        tightened[name] = {"anyOf": [rule, {"type": "null"}]} if nullable else rule
    return {"type": "object", "description": description, "properties": tightened, **extra}


def _needs_per_event_type() -> list[dict[str, Any]]:
    """SPEC §1's table: for each event type, its category and the ids it needs."""
    rules = []
    for event_type, (category, needs) in EVENT_TYPES.items():
        required = [_CAMEL_ID_FIELD[column] for column in needs]
        then: dict[str, Any] = {
            "properties": {"eventCategory": {"anyOf": [{"const": category}, {"type": "null"}]}},
        }
        for field_name in required:
            then["properties"][field_name] = _text(MAX_ENTITY_ID)
        if event_type == "RATING_COMPLETED":
            low, high = RATING_RANGE
            required.append("value")
            then["properties"]["value"] = {"type": "number", "minimum": low, "maximum": high}
        if required:
            then["required"] = required
        rules.append(
            {
                "if": {"properties": {"eventType": {"const": event_type}}, "required": ["eventType"]},
                "then": then,
            }
        )
    return rules


def analytics_event_schema() -> dict[str, Any]:
    return _object(
        AnalyticsEvent, _EVENT_FIELDS, required=["eventType", "path"], allOf=_needs_per_event_type()
    )


def track_interaction_schema() -> dict[str, Any]:
    return _object(TrackInteraction, _INTERACTION_FIELDS, required=["post_id", "interaction_type"])


def _non_null_required(schema: dict[str, Any]) -> dict[str, Any]:
    """Required fields must not be null either (the service treats null as missing)."""
    properties = schema["properties"]
    for name in schema.get("required", []):
        options = properties[name].get("anyOf", [])
        if len(options) == 2 and {"type": "null"} in options:
            properties[name] = next(option for option in options if option != {"type": "null"})
    return schema


def _batch(key: str, item: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": description,
        "properties": {
            key: {"type": "array", "items": item, "maxItems": MAX_EVENTS_PER_REQUEST},
            "sentAt": _SENT_AT,
        },
        "required": [key],
    }


def analytics_body_schema() -> dict[str, Any]:
    event = _non_null_required(analytics_event_schema())
    return {
        "title": "AnalyticsRequest",
        "description": "One event, or a batch of at most 500 (at most 1 MiB, gzip or deflate allowed).",
        "anyOf": [
            {
                "type": "object",
                "description": 'One event: answered {"success": true, "eventId"} or 400 with its errors',
                "properties": {"event": event, "sentAt": _SENT_AT},
                "required": ["event"],
            },
            _batch("events", event, "A batch: answered {success, count, errors}; valid events are stored"),
        ],
    }


def track_body_schema() -> dict[str, Any]:
    interaction = _non_null_required(track_interaction_schema())
    single = {**interaction, "properties": {**interaction["properties"], "sentAt": _SENT_AT}}
    return {
        "title": "TrackRequest",
        "description": "One interaction, or a batch of at most 500.",
        "anyOf": [single, _batch("interactions", interaction, "A batch of interactions")],
    }


def privacy_body_schema() -> dict[str, Any]:
    rules = {"userId": _text(MAX_USER_ID), "user_id": _text(MAX_USER_ID)}
    return _object(PrivacyRequest, rules, title="PrivacyRequest")


# --- responses ----------------------------------------------------------------------------


def _exact(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


_UUID_TEXT = {"type": "string", "pattern": _UUID}
_BATCH_ERRORS = {
    "type": "array",
    "items": _exact({"index": {"type": "integer", "minimum": 0}, "error": {"type": "string"}}),
}
ERROR_BODY = _exact({"error": {"type": "string"}}, "What went wrong, in words")
SINGLE_EVENT_ACCEPTED = _exact({"success": {"const": True}, "eventId": _UUID_TEXT})
BATCH_ACCEPTED = _exact(
    {"success": {"const": True}, "count": {"type": "integer", "minimum": 0}, "errors": _BATCH_ERRORS}
)
SINGLE_EVENT_REJECTED = _exact(
    {"success": {"const": False}, "errors": {"type": "array", "items": {"type": "string"}, "minItems": 1}}
)
TRACK_RESULT = _exact(
    {"success": {"type": "boolean"}, "tracked": {"type": "integer", "minimum": 0}, "errors": _BATCH_ERRORS},
    "success is false when any interaction has an error",
)
PRIVACY_RESULT = _exact(
    {"success": {"const": True}, "userId": {"type": "string"}, "action": {"enum": ["opt_out", "opt_in"]}}
)
_STORES = {"enum": ["postgres", "embedded"]}


def exact_struct(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """A response struct's schema, references inlined, every object exact: the encoder writes every
    field (null ones too) and nothing else."""
    (reference,), definitions = msgspec.json.schema_components([struct], ref_template=_REF_PREFIX + "{name}")

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(child) for child in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return inline(definitions[node["$ref"].removeprefix(_REF_PREFIX)])
        node = {key: inline(value) for key, value in node.items() if key not in ("title", "default")}
        if node.get("type") == "object" and "properties" in node:
            node |= {"required": list(node["properties"]), "additionalProperties": False}
        return node

    return inline(reference)


@dataclass(frozen=True)
class Answer:
    description: str
    schema: dict[str, Any] | None
    """None: the answer has no body (304)."""
    media_type: str = JSON
    headers: tuple[str, ...] = ()


_RETRY_AFTER = "Retry-After"
_SET_COOKIE = "Set-Cookie"
_CACHING = ("ETag", "Cache-Control")
_HEADER_DESCRIPTIONS = {
    _RETRY_AFTER: "Seconds to wait before retrying",
    _SET_COOKIE: "`sid` session cookie (when the server made or refreshed the session)",
    "WWW-Authenticate": "Bearer realm",
    "ETag": "The build the answer comes from (for the profile, with a hash of the user); send it back "
    "as If-None-Match",
    "Cache-Control": "max-age = INGEST_READ_CACHE_SECONDS; public, or private for the profile",
    "Vary": "Authorization: the profile depends on the token",
}


def _errors(*extra: tuple[int, str]) -> dict[int, Answer]:
    answers = {
        400: Answer("Invalid request body", ERROR_BODY),
        401: Answer("Bad, expired or missing credentials", ERROR_BODY, headers=("WWW-Authenticate",)),
        403: Answer("Origin not in INGEST_CORS_ORIGINS", ERROR_BODY),
        413: Answer("Body above 1 MiB (decoded) or more than 500 events", ERROR_BODY),
        415: Answer(
            "Content-Type not application/json or text/plain, or an unknown Content-Encoding", ERROR_BODY
        ),
        429: Answer("Rate limit of the session, user or address", ERROR_BODY, headers=(_RETRY_AFTER,)),
        503: Answer(
            "Storage unavailable: nothing of the request was stored", ERROR_BODY, headers=(_RETRY_AFTER,)
        ),
    }
    answers.update({status: Answer(description, ERROR_BODY) for status, description in extra})
    return answers


def read_endpoint_answers() -> dict[tuple[str, str], dict[int, Answer]]:
    """The read endpoints (`ingest_service/read_api.py`): the marts' rows, 304 to a current ETag,
    503 before the first build or while the results cannot be read."""

    def answers(body: type[msgspec.Struct], extra: dict[int, Answer], private: bool = False):
        headers = (*_CACHING, "Vary") if private else _CACHING
        return {
            200: Answer(body.__doc__ or "", exact_struct(body), headers=headers),
            304: Answer("Not modified: If-None-Match names the current answer", None, headers=headers),
            403: Answer("Origin not in INGEST_CORS_ORIGINS", ERROR_BODY),
            503: Answer(
                "No build has published these results yet, or they cannot be read now",
                ERROR_BODY,
                headers=(_RETRY_AFTER,),
            ),
            **extra,
        }

    return {
        ("get", "/api/trending"): answers(
            TrendingBody, {400: Answer("limit is not an integer from 1 to 100", ERROR_BODY)}
        ),
        ("get", "/api/perfumes/{perfume_id}/stats"): answers(
            PerfumeStatsBody, {404: Answer("No stats for this perfume id", ERROR_BODY)}
        ),
        ("get", "/api/me/profile"): answers(
            UserProfileBody,
            {
                401: Answer(
                    "No, a bad or an expired Bearer token", ERROR_BODY, headers=("WWW-Authenticate",)
                ),
                404: Answer("No profile for this user (yet)", ERROR_BODY),
            },
            private=True,
        ),
    }


RESPONSES: dict[tuple[str, str], dict[int, Answer]] = {
    ("post", "/api/analytics"): {
        **_errors(),
        200: Answer(
            "Stored: one event → its id; a batch → how many were stored and each invalid event's errors",
            {"anyOf": [SINGLE_EVENT_ACCEPTED, BATCH_ACCEPTED]},
            headers=(_SET_COOKIE,),
        ),
        400: Answer(
            'The single event is invalid ({success: false, errors}), or the body is unusable ({"error"})',
            {"anyOf": [SINGLE_EVENT_REJECTED, ERROR_BODY]},
        ),
    },
    ("post", "/api/track"): {
        **_errors(),
        200: Answer("Stored, with each invalid interaction's errors", TRACK_RESULT, headers=(_SET_COOKIE,)),
    },
    ("post", "/api/privacy/opt-out"): {**_errors(), 200: Answer("Recorded", PRIVACY_RESULT)},
    ("post", "/api/privacy/opt-in"): {**_errors(), 200: Answer("Recorded", PRIVACY_RESULT)},
    ("get", "/healthz"): {200: Answer("The process is up", _exact({"status": {"const": "ok"}}))},
    ("get", "/readyz"): {
        200: Answer(
            "Storage reachable and writable", _exact({"status": {"const": "ready"}, "store": _STORES})
        ),
        503: Answer(
            "A write would fail now",
            _exact({"status": {"const": "unavailable"}, "store": _STORES}),
            headers=(_RETRY_AFTER,),
        ),
    },
    ("get", "/metrics"): {
        200: Answer("Prometheus text exposition format 0.0.4", {"type": "string"}, media_type="text/plain")
    },
    **read_endpoint_answers(),
}

REQUEST_BODIES = {
    ("post", "/api/analytics"): (analytics_body_schema, True),
    ("post", "/api/track"): (track_body_schema, True),
    ("post", "/api/privacy/opt-out"): (privacy_body_schema, False),
    ("post", "/api/privacy/opt-in"): (privacy_body_schema, False),
}


# --- JSON Schema → Litestar ---------------------------------------------------------------

_FIELD_OF_KEYWORD = {"if": "schema_if", "else": "schema_else", "not": "schema_not"}
_SUBSCHEMA_LISTS = {"all_of", "any_of", "one_of", "prefix_items"}
_SUBSCHEMA = {"items", "additional_properties", "schema_if", "then", "schema_else", "schema_not", "contains"}


def litestar_schema(node: dict[str, Any]) -> Schema:
    """A JSON Schema (no references) as Litestar's Schema; an unknown keyword fails loudly here."""
    fields: dict[str, Any] = {}
    for keyword, value in node.items():
        name = _FIELD_OF_KEYWORD.get(keyword) or re.sub(r"(?<!^)([A-Z])", r"_\1", keyword).lower()
        if name == "properties":
            value = {key: litestar_schema(child) for key, child in value.items()}
        elif name in _SUBSCHEMA_LISTS:
            value = [litestar_schema(child) for child in value]
        elif name in _SUBSCHEMA and isinstance(value, dict):
            value = litestar_schema(value)
        elif name == "type":
            value = [OpenAPIType(kind) for kind in value] if isinstance(value, list) else OpenAPIType(value)
        fields[name] = value
    return Schema(**fields)


def _response(answer: Answer) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=answer.description,
        content=None
        if answer.schema is None
        else {answer.media_type: OpenAPIMediaType(schema=litestar_schema(answer.schema))},
        headers={
            name: OpenAPIHeader(
                schema=Schema(type=OpenAPIType.STRING), description=_HEADER_DESCRIPTIONS[name]
            )
            for name in answer.headers
        }
        or None,
    )


def contract_operation(method: str, path: str) -> type[Operation]:
    """The Operation class (a handler's `operation_class`) with the contract's body and responses."""
    responses = {
        str(status): _response(answer) for status, answer in sorted(RESPONSES[(method, path)].items())
    }
    body = REQUEST_BODIES.get((method, path))
    request_body = None
    if body is not None:
        schema_of, required = body
        schema = litestar_schema(schema_of())
        request_body = RequestBody(
            required=required, content={media: OpenAPIMediaType(schema=schema) for media in BODY_MEDIA_TYPES}
        )

    @dataclass
    class ContractOperation(Operation):
        def __post_init__(self) -> None:
            self.responses = responses
            if request_body is not None:
                self.request_body = request_body

    return ContractOperation
