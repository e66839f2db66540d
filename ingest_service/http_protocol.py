"""uvicorn's httptools protocol with the guards uvicorn lacks: a read deadline, a header size limit
and a connection cap that closes idle connections first (issue 9, defect 3).

- A connection that sends nothing is idle: the keep-alive timeout closes it (uvicorn arms that
  timer only after a response).
- A request must arrive whole — request line, headers and body — within `read_timeout_s` of its
  first byte (a slowloris trickle or a stalled body): else the connection is closed (408 when
  nothing of the request reached the app yet).
- Request line and headers above `max_header_bytes` are a 431 (llhttp sets no limit itself).
- Above `max_connections` open connections, each new one closes the longest-idle connections (no
  request in the app) so a flood of idle or trickling sockets cannot use up the process's file
  descriptors and lock out `/healthz` and real clients. uvicorn's `limit_concurrency` (set just
  above the cap) answers 503 only when every connection is busy.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


@dataclass(frozen=True)
class ConnectionLimits:
    read_timeout_s: float = 10.0
    max_header_bytes: int = 32 * 1024
    max_connections: int = 4096


class _HeadersTooLarge(Exception):
    pass


def _simple_response(status: int, reason: str) -> bytes:
    body = reason.encode()
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, config: Any, server_state: Any, app_state: dict[str, Any], _loop: Any = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits: ConnectionLimits = getattr(config, "connection_limits", None) or ConnectionLimits()
        self.last_active = 0.0
        self._deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._headers_too_large = False
        self._reading_headers = False

    # --- connection ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.last_active = self.loop.time()
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive, self.timeout_keep_alive_handler
        )
        if len(self.connections) > self.limits.max_connections:
            self._close_idle_connections(len(self.connections) - self.limits.max_connections)

    def _is_idle(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _close_idle_connections(self, count: int) -> None:
        idle = [
            connection
            for connection in self.connections
            if connection is not self
            and isinstance(connection, GuardedHttpToolsProtocol)
            and connection._is_idle()
            and not connection.transport.is_closing()
        ]
        idle.sort(key=lambda connection: connection.last_active)
        for connection in idle[:count]:
            connection.transport.close()
            # counted out now, not when its connection_lost runs: limit_concurrency must not see it
            self.connections.discard(connection)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_deadline()
        super().connection_lost(exc)

    # --- reading ------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        # uvicorn's own, but a too-large header block answers 431 instead of 400
        self.last_active = self.loop.time()
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self._headers_too_large:
                self._refuse(431, "Request Header Fields Too Large")
            else:
                self.send_400_response("Invalid HTTP request received.")
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _refuse(self, status: int, reason: str) -> None:
        if not self.transport.is_closing():
            self.transport.write(_simple_response(status, reason))
            self.transport.close()

    def _count_header_bytes(self, count: int) -> None:
        self._header_bytes += count
        if self._header_bytes > self.limits.max_header_bytes:
            self._headers_too_large = True
            raise _HeadersTooLarge()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._reading_headers = True
        self._cancel_deadline()
        self._deadline = self.loop.call_later(self.limits.read_timeout_s, self._read_timed_out)

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_header_bytes(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._cancel_deadline()
        super().on_message_complete()

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _read_timed_out(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if self._reading_headers:  # nothing of the request reached the app
            self._refuse(408, "Request Timeout")
        else:  # the body stalled: the app sees a disconnect
            self.transport.close()
