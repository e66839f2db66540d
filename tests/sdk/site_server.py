"""A web site for the browser tests, on its own port (so its own origin).

It serves the test pages, a `/token` endpoint (the web app's session: the Bearer token the SDK's
`getToken` fetches), the SDK files from the repository as an app bundling the npm package would
(`/bundled-sdk/…`), and — like the web app README.md describes — a same-origin proxy of `/api/*`
and `/sdk/*` to the ingest service that forwards the body, `Content-Type`, `Authorization`,
`User-Agent` and cookies. The proxy records every request (to count them) and can answer the next
ones itself (`fail_next`), as an overloaded service would: 429/503 with `Retry-After`.
"""

from __future__ import annotations

import http.client
import json
import mimetypes
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from tests.sdk.ingest_process import REPO_ROOT

PAGES_DIR = Path(__file__).resolve().parent / "pages"
SDK_DIR = REPO_ROOT / "ingest_service" / "sdk"
_FORWARDED_REQUEST_HEADERS = ("content-type", "authorization", "user-agent", "cookie", "if-none-match")
_FORWARDED_RESPONSE_HEADERS = (
    "content-type",
    "set-cookie",
    "retry-after",
    "www-authenticate",
    "etag",
    "cache-control",
)


@dataclass
class ProxiedRequest:
    at: float
    method: str
    path: str
    status: int
    authorization: str | None
    body: bytes

    @property
    def events(self) -> list[dict]:
        """The events or interactions of a tracking request's body."""
        try:
            body = json.loads(self.body)
        except ValueError:
            return []
        return body.get("events") or body.get("interactions") or []


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    path_prefix: str = "/api/"


class TestSite:
    __test__ = False  # not a pytest class

    def __init__(self, upstream: str | None = None) -> None:
        self.upstream = upstream
        self.token: Callable[[], str | None] = lambda: None
        self.requests: list[ProxiedRequest] = []
        self.faults: list[Fault] = []
        self.extra_files: dict[str, tuple[bytes, str]] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"site-{self.port}", daemon=True
        )

    def start(self) -> TestSite:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return self.origin + path

    def fail_next(self, count: int, status: int, headers: dict[str, str] | None = None) -> None:
        with self._lock:
            self.faults.extend(Fault(status, headers or {}) for _ in range(count))

    def tracking_requests(self, path: str = "/api/") -> list[ProxiedRequest]:
        with self._lock:
            return [request for request in self.requests if request.path.startswith(path)]

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.faults.clear()
        self.token = lambda: None

    # --- the HTTP side --------------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for index, fault in enumerate(self.faults):
                if path.startswith(fault.path_prefix):
                    return self.faults.pop(index)
        return None

    def _record(self, request: ProxiedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet: pytest shows failures
                pass

            def do_GET(self) -> None:
                self._dispatch()

            def do_POST(self) -> None:
                self._dispatch()

            def do_OPTIONS(self) -> None:
                self._dispatch()

            def _dispatch(self) -> None:
                path = urlsplit(self.path).path
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                if path.startswith(("/api/", "/sdk/")):
                    self._proxy(path, body)
                elif path == "/favicon.ico":
                    self._send(204, b"", {})
                elif path == "/token":
                    self._send(
                        200,
                        (site.token() or "").encode(),
                        {"Content-Type": "text/plain", "Cache-Control": "no-store"},
                    )
                else:
                    self._static(path)

            def _send(
                self, status: int, body: bytes, headers: dict[str, str] | list[tuple[str, str]]
            ) -> None:
                self.send_response(status)
                items = headers.items() if isinstance(headers, dict) else headers
                for name, value in items:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _static(self, path: str) -> None:
                if path in site.extra_files:
                    content, media_type = site.extra_files[path]
                    self._send(200, content, {"Content-Type": media_type, "Cache-Control": "no-store"})
                    return
                if path.startswith("/bundled-sdk/"):
                    base, name = SDK_DIR, path.removeprefix("/bundled-sdk/")
                elif path.startswith("/react/"):
                    base, name = PAGES_DIR, "react.html"  # the single-page app answers all of its routes
                else:
                    base, name = PAGES_DIR, path.lstrip("/") or "index.html"
                file = (base / name).resolve()
                if not file.is_file() or not file.is_relative_to(base.resolve()):
                    self._send(404, b"not found", {"Content-Type": "text/plain"})
                    return
                media_type = "text/javascript" if file.suffix == ".js" else mimetypes.guess_type(file.name)[0]
                self._send(
                    200,
                    file.read_bytes(),
                    {"Content-Type": media_type or "text/plain", "Cache-Control": "no-store"},
                )

            def _proxy(self, path: str, body: bytes) -> None:
                authorization = self.headers.get("authorization")
                fault = site._take_fault(path) if self.command == "POST" else None
                if fault is not None:
                    reply = json.dumps({"error": "injected by the test site"}).encode()
                    self._send(fault.status, reply, {"Content-Type": "application/json", **fault.headers})
                    site._record(
                        ProxiedRequest(
                            time.monotonic(), self.command, path, fault.status, authorization, body
                        )
                    )
                    return
                status, headers, reply = self._forward(body)
                site._record(
                    ProxiedRequest(time.monotonic(), self.command, path, status, authorization, body)
                )
                self._send(status, reply, headers)

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                # what the web app's proxy of /api/* must pass on: body, Content-Type, Authorization,
                # User-Agent (the service parses it) and cookies (sid, aid); and the answer's
                # Set-Cookie and Retry-After back. Not Origin: the browser's request was same-origin.
                upstream = urlsplit(site.upstream)
                headers = {
                    name: self.headers[name] for name in _FORWARDED_REQUEST_HEADERS if self.headers.get(name)
                }
                connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=30)
                try:
                    connection.request(self.command, self.path, body=body or None, headers=headers)
                    response = connection.getresponse()
                    reply = response.read()
                    kept = [
                        (name, value)
                        for name, value in response.getheaders()
                        if name.lower() in _FORWARDED_RESPONSE_HEADERS
                    ]
                    return response.status, kept, reply
                except OSError:
                    return (
                        502,
                        [("Content-Type", "application/json")],
                        b'{"error": "ingest service unreachable"}',
                    )
                finally:
                    connection.close()

        return Handler
