"""Who is calling (SPEC section 3): a user with a verified token, a server client, or anonymous.

Only a verified identity ever becomes a `user_id`: the `sub` of an HS256 JWT signed with
`INGEST_JWT_SECRET`, or a `userId` sent by a server client holding a key of `INGEST_API_KEYS`.
A token or key that is present but wrong is a 401, never a silent fall-back to anonymous.
Neither the token, the key nor the secret is ever logged or echoed.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

import jwt

from ingest_service.errors import Unauthorized
from ingest_service.event_types import MAX_USER_ID
from ingest_service.settings import SecuritySettings
from ingest_service.text_rules import is_one_line_text


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str | None = None
    """The `sub` of a verified Bearer token."""
    is_server_client: bool = False
    """True when the request carried a valid `X-Api-Key`: may set userId / userAgent in the body."""

    @property
    def is_identified(self) -> bool:
        return self.user_id is not None or self.is_server_client


def _verify_token(token: str, secret: str | None) -> str:
    if not secret:
        raise Unauthorized("Bearer tokens are not accepted: no INGEST_JWT_SECRET is configured")
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"require": ["sub"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("Bearer token has expired") from None
    except jwt.PyJWTError:
        raise Unauthorized("Bearer token is invalid") from None
    subject = claims.get("sub")
    if (
        not isinstance(subject, str)
        or not subject
        or len(subject) > MAX_USER_ID
        or not is_one_line_text(subject)
    ):
        # a lone surrogate (PyJWT's JSON decoder lets `"\ud800"` through) could not be stored: the
        # token names no user we can record, so it is refused like any other bad token
        raise Unauthorized(
            f"Bearer token `sub` must be a non-empty string of at most {MAX_USER_ID} characters, "
            "without control characters"
        )
    return subject


def _valid_api_key(key: str, allowed: tuple[str, ...]) -> bool:
    # compare_digest against every key: timing does not reveal which key prefix matched
    matched = False
    for candidate in allowed:
        matched |= hmac.compare_digest(key.encode(), candidate.encode())
    return matched


def identify(authorization: str | None, api_key: str | None, security: SecuritySettings) -> Caller:
    """Resolve the request's headers to a Caller; raises Unauthorized for a wrong token or key."""
    is_server_client = False
    if api_key is not None:
        if not _valid_api_key(api_key.strip(), security.api_keys):
            raise Unauthorized("X-Api-Key is not valid")
        is_server_client = True
    user_id = None
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Authorization must be `Bearer <token>`")
        user_id = _verify_token(token.strip(), security.jwt_secret)
    return Caller(user_id=user_id, is_server_client=is_server_client)
