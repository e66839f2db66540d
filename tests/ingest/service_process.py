"""The real service as a process (`python -m ingest_service`), for tests of what only a server shows:
sockets, signals, timeouts, workers. `start_server` (a fixture in conftest) starts one per call."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, process: subprocess.Popen, base_url: str, log_path: Path) -> None:
        self.process = process
        self.base_url = base_url
        self.log_path = log_path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _limit_files(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))


def server_starter(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(*, file_limit: int | None = None, **env: str) -> Server:
        """`file_limit`: the service's RLIMIT_NOFILE (soft and hard)."""
        from tests.ingest.conftest import API_KEY  # conftest imports this module

        port = int(env.pop("INGEST_PORT", 0)) or free_port()
        log_path = tmp_path / f"server-{port}.log"
        full_env = {
            **{key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DATA_DIR")},
            "INGEST_HOST": "127.0.0.1",
            "INGEST_PORT": str(port),
            "INGEST_API_KEYS": API_KEY,
            "INGEST_RATE_LIMIT_PER_MINUTE": "0",
            **env,
        }
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "ingest_service"],
                cwd=REPO_ROOT,
                env=full_env,
                stdout=log,
                stderr=log,
                preexec_fn=None if file_limit is None else lambda: _limit_files(file_limit),
            )
        server = Server(process, f"http://127.0.0.1:{port}", log_path)
        servers.append(server)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, f"the service exited:\n{server.log()}"
            try:
                if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                    return server
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"the service did not start:\n{server.log()}")

    yield start
    for server in servers:
        if server.process.poll() is None:
            server.process.terminate()
            try:
                server.process.wait(10)
            except subprocess.TimeoutExpired:
                server.process.kill()


def tcp_sockets(port: int, state: str) -> set[str]:
    """Inodes of the IPv4 TCP sockets on local `port` in `state` (0A listening, 01 established)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
            inodes.add(fields[9])
    return inodes


def socket_inodes_of(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(fd) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def children_of(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
