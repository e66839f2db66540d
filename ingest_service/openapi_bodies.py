"""Request bodies in the OpenAPI document.

The handlers read the raw body (they accept `application/json` and `text/plain`, and type events one
at a time), so Litestar sees no `data` parameter to describe. The body schemas come from the msgspec
structs of `payloads.py` instead, and each handler names its body through an `operation_class`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)

from ingest_service.payloads import (
    AnalyticsEventsBody,
    AnalyticsSingleBody,
    PrivacyRequest,
    TrackBatchBody,
    TrackInteraction,
)

REF_PREFIX = "#/$defs/"
BODY_MEDIA_TYPES = ("application/json", "text/plain")

# JSON Schema keywords msgspec emits -> Litestar's Schema fields; anything else fails loudly here
_FIELD_OF_KEYWORD = {
    "anyOf": "any_of",
    "oneOf": "one_of",
    "allOf": "all_of",
    "additionalProperties": "additional_properties",
    "maxLength": "max_length",
    "minLength": "min_length",
    "maxItems": "max_items",
    "minItems": "min_items",
}


def _litestar_schema(node: dict[str, Any], definitions: dict[str, Any]) -> Schema:
    """msgspec's JSON Schema as Litestar's Schema, references inlined.

    Litestar replaces `components/schemas` with the schemas it generates itself, so a body cannot
    refer to a component of its own; our payloads are small and not recursive, so inlining is fine.
    """
    if "$ref" in node:
        return _litestar_schema(definitions[node["$ref"].removeprefix(REF_PREFIX)], definitions)
    fields: dict[str, Any] = {}
    for keyword, value in node.items():
        name = _FIELD_OF_KEYWORD.get(keyword, keyword)
        if name == "properties":
            value = {key: _litestar_schema(child, definitions) for key, child in value.items()}
        elif name in ("any_of", "one_of", "all_of"):
            value = [_litestar_schema(child, definitions) for child in value]
        elif name in ("items", "additional_properties") and isinstance(value, dict):
            value = _litestar_schema(value, definitions)
        elif name == "type":
            value = [OpenAPIType(kind) for kind in value] if isinstance(value, list) else OpenAPIType(value)
        fields[name] = value
    return Schema(**fields)


def body_schema(title: str, description: str, *alternatives: type[msgspec.Struct]) -> Schema:
    """The schema of a body that is one of `alternatives`."""
    references, definitions = msgspec.json.schema_components(alternatives, ref_template=REF_PREFIX + "{name}")
    schemas = [_litestar_schema(reference, definitions) for reference in references]
    if len(schemas) == 1:
        return schemas[0]
    # anyOf, not oneOf: a batch is also a valid single interaction (every field of one is optional)
    return Schema(title=title, description=description, any_of=schemas)


def operation_with_body(body: Schema, *, required: bool = True) -> type[Operation]:
    """An Operation class (for a handler's `operation_class`) whose request body is `body`."""

    @dataclass
    class OperationWithBody(Operation):
        def __post_init__(self) -> None:
            self.request_body = RequestBody(
                required=required,
                content={media_type: OpenAPIMediaType(schema=body) for media_type in BODY_MEDIA_TYPES},
            )

    return OperationWithBody


ANALYTICS_OPERATION = operation_with_body(
    body_schema(
        "AnalyticsRequest", "One event, or a batch of at most 500.", AnalyticsSingleBody, AnalyticsEventsBody
    )
)
TRACK_OPERATION = operation_with_body(
    body_schema(
        "TrackRequest", "One interaction, or a batch of at most 500.", TrackInteraction, TrackBatchBody
    ),
)
PRIVACY_OPERATION = operation_with_body(body_schema("PrivacyRequest", "", PrivacyRequest), required=False)
