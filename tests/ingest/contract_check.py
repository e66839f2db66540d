"""Every response the ingest tests provoke, checked against the service's published OpenAPI
(issue 9, defect 4): a documented status code for the operation, its documented media type, and a
body valid against its documented schema. Undocumented paths may only answer 404 or 405; CORS
preflights are checked for their two possible answers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import jsonschema


@dataclass
class ResponseRecorder:
    responses: list[tuple[str, str, int, str, bytes]] = field(default_factory=list)

    def record(self, response: httpx.Response) -> None:
        response.read()
        self.responses.append(
            (
                response.request.method.lower(),
                response.request.url.path,
                response.status_code,
                response.headers.get("content-type", ""),
                response.content,
            )
        )


def documented_path(document: dict[str, Any], path: str) -> str | None:
    """The document's path that `path` is an instance of (`/api/perfumes/{perfume_id}/stats`)."""
    if path in document["paths"]:
        return path
    for template in document["paths"]:
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if "{" in template and re.fullmatch(pattern, path):
            return template
    return None


def contract_problems(
    document: dict[str, Any], responses: list[tuple[str, str, int, str, bytes]]
) -> list[str]:
    problems = []
    for method, request_path, status, content_type, body in responses:
        if request_path.startswith("/schema"):
            continue
        path = documented_path(document, request_path) or request_path
        operation = document["paths"].get(path, {}).get(method)
        where = f"{method.upper()} {path} → {status}"
        if method == "options" and path in document["paths"]:
            # a CORS preflight is the browser's protocol, not an operation: allowed (no body) or
            # refused with the contract's error shape (SPEC §2)
            refused = status == 403 and json.loads(body) == {"error": "Origin not allowed"}
            if not (refused or (status in (200, 204) and len(body) <= len(b"OK"))):
                problems.append(f"{where}: not a preflight answer ({body[:100]!r})")
            continue
        if operation is None:
            if status not in (404, 405):
                problems.append(f"{where}: undocumented operation")
            continue
        answer = operation["responses"].get(str(status))
        if answer is None:
            problems.append(f"{where}: status not documented")
            continue
        media_type = content_type.split(";", 1)[0].strip()
        content = answer.get("content", {})
        if not content:  # documented without a body (304)
            if body:
                problems.append(f"{where}: a body ({body[:100]!r}) where none is documented")
            continue
        if media_type not in content:
            problems.append(f"{where}: content type {content_type!r}, documented {sorted(content)}")
            continue
        value: Any = body.decode()
        if media_type == "application/json":
            value = json.loads(body)
        errors = sorted(
            jsonschema.Draft202012Validator(content[media_type]["schema"]).iter_errors(value), key=str
        )
        if errors:
            problems.append(f"{where}: {body[:200]!r} does not match its schema: {errors[0].message}")
    return problems
