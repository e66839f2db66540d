"""Every client-facing error shape and message, in one place.

Per-event problems carry the contract's message (`events[3].perfumeId: required for PERFUME_VIEW`)
and a short `reason` used as the Prometheus label of rejected events. Request-level failures are
exceptions turned into responses by `exception_handlers()`, so a handler never builds an error
body itself and nothing malformed ever reaches a 500.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException

logger = logging.getLogger("ingest_service")

JSON = "application/json"
INVALID_BODY = "Invalid request body"


@dataclass(frozen=True, slots=True)
class Problem:
    """One rule broken by one event."""

    message: str
    reason: str


# --- request-level failures -------------------------------------------------------------------


class IngestError(Exception):
    """A request-level failure with its HTTP status, JSON body and headers."""

    status_code = 400

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        return {"error": self.message}


class InvalidBody(IngestError):
    def __init__(self) -> None:
        super().__init__(INVALID_BODY)


class SingleEventInvalid(IngestError):
    """`{"event": ...}` whose one event breaks a rule: 400 with the contract's shape."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems

    def body(self) -> dict[str, object]:
        return {"success": False, "errors": [problem.message for problem in self.problems]}


class Unauthorized(IngestError):
    status_code = 401

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="ingest"'})


class PayloadTooLarge(IngestError):
    status_code = 413


class UnsupportedMediaType(IngestError):
    status_code = 415


class RateLimited(IngestError):
    status_code = 429

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "Too many requests or events from this session, user or address; retry later",
            headers={"Retry-After": str(retry_after_s)},
        )


class RejectedByStore(IngestError):
    """The store refused a value that validation let through: a 400 for that request only."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"Events could not be stored: {detail}")


class StorageUnavailable(IngestError):
    """Storage could not make the request durable: nothing of the request counts as stored."""

    status_code = 503
    retry_after_s = 2

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "Storage is unavailable; nothing of this request was stored, retry later",
            headers={"Retry-After": str(self.retry_after_s)},
        )
        self.detail = detail


# --- msgspec validation errors → contract messages --------------------------------------------

_MSGSPEC_ERROR = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_TYPE_WORDS = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "object": "an object",
    "array": "an array",
    "null": "null",
    "int | float | str": "epoch milliseconds or an ISO-8601 string",
}


def _type_words(spec: str) -> str:
    spec = spec.replace(" | null", "")
    return _TYPE_WORDS.get(spec, spec)


def problem_from_msgspec(label: str, error: msgspec.ValidationError) -> Problem:
    """msgspec's `Expected `str | null`, got `int` - at `$.perfumeId`` → the contract's message:

    `events[0].perfumeId: expected a string, got int`.
    """
    match = _MSGSPEC_ERROR.match(str(error))
    what = match.group("what") if match else str(error)
    path = (match.group("path") or "") if match else ""
    expected = re.match(r"Expected `(?P<expected>[^`]*)`, got `(?P<got>[^`]*)`", what)
    if expected:
        what = f"expected {_type_words(expected.group('expected'))}, got {expected.group('got')}"
        reason = "wrong_type"
    else:
        what = what[:1].lower() + what[1:]
        reason = "invalid"
    if what.startswith("expected an object") and not path:
        what = "must be an object"
    return Problem(f"{label}{path}: {what}", reason)


# --- responses ---------------------------------------------------------------------------------


def _ingest_error_response(_: Request, exc: IngestError) -> Response:
    return Response(exc.body(), status_code=exc.status_code, headers=exc.headers, media_type=JSON)


def _http_exception_response(_: Request, exc: HTTPException) -> Response:
    # Litestar's own 4xx (405, 413 from the body limit, 404, 400 on a bad header…) keep their
    # status; the body says what went wrong in the same `{"error": ...}` shape as ours.
    status = exc.status_code
    if status == 413:
        message = "Request body is larger than 1 MiB"
    elif status >= 500:
        logger.error("internal error: %s", exc.detail)
        message = "Internal server error"
    else:
        message = exc.detail or "Bad request"
    return Response({"error": message}, status_code=status, headers=exc.headers, media_type=JSON)


def _unexpected_response(_: Request, exc: Exception) -> Response:
    logger.exception("unexpected error while handling a request", exc_info=exc)
    return Response({"error": "Internal server error"}, status_code=500, media_type=JSON)


def exception_handlers() -> dict[type[Exception], object]:
    return {
        IngestError: _ingest_error_response,
        HTTPException: _http_exception_response,
        Exception: _unexpected_response,
    }
