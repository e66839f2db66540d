"""The server process against slow, silent and abusive connections, and its supervisor's death
(issue 9, defects 3 and 8): timeouts, a header limit, a connection cap that keeps /healthz
answering with a low file limit, and workers that die with a SIGKILLed supervisor."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import time

import httpx
import pytest

from tests.ingest.service_process import children_of, tcp_sockets

pytestmark = [pytest.mark.slow]


def _connect(base_url: str) -> socket.socket:
    host, port = base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.setblocking(False)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    """True once the server closed the connection (whatever it wrote before, e.g. a 408)."""
    try:
        while chunk := sock.recv(65536):
            if not chunk:
                break
        return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def _healthz_seconds(base_url: str) -> float:
    started = time.monotonic()
    assert httpx.get(f"{base_url}/healthz", timeout=5).status_code == 200
    return time.monotonic() - started


def test_trickling_and_silent_connections_are_closed_and_health_keeps_answering(start_server, tmp_path):
    server = start_server(
        DATA_DIR=str(tmp_path / "data"), INGEST_READ_TIMEOUT="2", INGEST_KEEP_ALIVE_TIMEOUT="1"
    )
    trickling = [_connect(server.base_url) for _ in range(200)]
    silent = [_connect(server.base_url) for _ in range(50)]
    for sock in trickling:
        sock.send(b"POST /api/analytics HTTP/1.1\r\nHost: x\r\n")
    started = time.monotonic()
    open_trickling = list(trickling)
    health = []
    while open_trickling and time.monotonic() - started < 8:
        for sock in open_trickling:
            with contextlib.suppress(OSError):
                sock.send(b"X: y\r\n")  # a header line every 0.25 s: never a complete request
        health.append(_healthz_seconds(server.base_url))
        time.sleep(0.25)
        open_trickling = [sock for sock in open_trickling if not _closed_by_server(sock)]
    elapsed = time.monotonic() - started

    assert not open_trickling, f"{len(open_trickling)} trickling connections still open after {elapsed:.1f} s"
    assert elapsed < 5, "the read deadline (2 s) closes a trickle"
    assert all(_closed_by_server(sock) for sock in silent), (
        "silent connections close at the keep-alive timeout"
    )
    assert max(health) < 1.0, health
    for sock in trickling + silent:
        sock.close()


def test_oversized_headers_are_a_431(start_server, tmp_path):
    server = start_server(DATA_DIR=str(tmp_path / "data"), INGEST_MAX_HEADER_BYTES="4096")

    response = httpx.get(f"{server.base_url}/healthz", headers={"X-Big": "a" * 8000})

    assert response.status_code == 431
    assert httpx.get(f"{server.base_url}/healthz", headers={"X-Fine": "a" * 2000}).status_code == 200


def test_with_a_low_file_limit_idle_connections_cannot_lock_out_health(start_server, tmp_path):
    server = start_server(file_limit=256, DATA_DIR=str(tmp_path / "data"))
    idle = [_connect(server.base_url) for _ in range(400)]  # more than the process has descriptors

    # asyncio pauses accepting for 1 s when a burst of connects exhausts the descriptors before
    # the idle ones are closed; after that, health answers at once
    timings = [_healthz_seconds(server.base_url) for _ in range(5)]
    accepted = httpx.post(
        f"{server.base_url}/api/analytics", json={"events": [{"eventType": "PAGE_VIEW", "path": "/"}]}
    )

    assert timings[0] < 2.5 and max(timings[1:]) < 0.5, timings
    assert accepted.status_code == 200
    for sock in idle:
        sock.close()


def _port_free(port: int) -> bool:
    return not tcp_sockets(port, "0A")


def test_workers_die_with_a_sigkilled_supervisor_and_a_restart_works(start_server, tmp_path):
    data_dir = str(tmp_path / "data")
    server = start_server(DATA_DIR=data_dir, INGEST_WORKERS="2")
    port = int(server.base_url.rsplit(":", 1)[1])
    deadline = time.monotonic() + 30
    while len(tcp_sockets(port, "0A")) < 2:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.1)
    workers = children_of(server.process.pid)

    os.kill(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    deadline = time.monotonic() + 15
    while any(os.path.exists(f"/proc/{pid}") for pid in workers) or not _port_free(port):
        assert time.monotonic() < deadline, "orphan workers kept serving the port"
        time.sleep(0.1)

    restarted = start_server(DATA_DIR=data_dir, INGEST_WORKERS="2", INGEST_PORT=str(port))
    assert httpx.get(f"{restarted.base_url}/healthz", timeout=5).status_code == 200
