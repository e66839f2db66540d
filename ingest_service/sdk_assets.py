"""The browser SDK's files (SPEC §10), as the ingest service serves them at `GET /sdk/<name>`.

The files live in `ingest_service/sdk/` (also an npm package). They are read once when the app is
built, each with a strong ETag of its content, so a browser revalidates with `If-None-Match` and
gets a 304 when nothing changed. URLs are not versioned, hence a short `max-age`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    Schema,
)

SDK_DIR = Path(__file__).resolve().parent / "sdk"

#: JavaScript is `text/javascript` (RFC 9239; the framework adds `charset=utf-8` to text types); the
#: declarations are TypeScript source, which with `nosniff` a browser never runs as a script.
JAVASCRIPT = "text/javascript"
TYPESCRIPT = "application/typescript; charset=utf-8"
#: served name → media type
SDK_FILES: dict[str, str] = {
    "analytics.js": JAVASCRIPT,
    "react.js": JAVASCRIPT,
    "analytics.d.ts": TYPESCRIPT,
    "react.d.ts": TYPESCRIPT,
}
SDK_MODULE_PATHS = [f"/sdk/{name}" for name, media_type in SDK_FILES.items() if media_type == JAVASCRIPT]
SDK_DECLARATION_PATHS = [f"/sdk/{name}" for name, media_type in SDK_FILES.items() if media_type == TYPESCRIPT]
CACHE_CONTROL = "public, max-age=300"


@dataclass(frozen=True, slots=True)
class SdkAsset:
    body: bytes
    media_type: str
    etag: str

    @property
    def headers(self) -> dict[str, str]:
        return {"ETag": self.etag, "Cache-Control": CACHE_CONTROL, "X-Content-Type-Options": "nosniff"}


def load_sdk_assets(directory: Path = SDK_DIR) -> dict[str, SdkAsset]:
    """Every served file of `directory`; a missing one is an error at start-up, not a 404 later."""
    assets = {}
    for name, media_type in SDK_FILES.items():
        path = directory / name
        try:
            body = path.read_bytes()
        except OSError as error:
            raise RuntimeError(
                f"the browser SDK file {path} cannot be read ({error}); reinstall the package"
            ) from None
        assets[name] = SdkAsset(body, media_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"')
    return assets


_HEADER_DESCRIPTIONS = {
    "ETag": "Strong entity tag of the file's content",
    "Cache-Control": f"`{CACHE_CONTROL}`",
    "X-Content-Type-Options": "`nosniff`",
}


def sdk_file_operation(media_type: str) -> type[Operation]:
    """The OpenAPI operation of `GET /sdk/<file>` (a handler's `operation_class`): the file, or 304."""
    headers = {
        name: OpenAPIHeader(schema=Schema(type=OpenAPIType.STRING), description=description)
        for name, description in _HEADER_DESCRIPTIONS.items()
    }
    responses = {
        "200": OpenAPIResponse(
            description="The file",
            content={media_type.split(";")[0]: OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
            headers=headers,
        ),
        "304": OpenAPIResponse(
            description="Not modified: If-None-Match matched the ETag (no body)", headers=headers
        ),
    }

    @dataclass
    class SdkFileOperation(Operation):
        def __post_init__(self) -> None:
            self.responses = responses

    return SdkFileOperation


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """`If-None-Match` (a list of entity tags, or `*`) against our ETag, by weak comparison (RFC 9110)."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == etag:
            return True
    return False
