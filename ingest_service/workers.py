"""Several ingest processes on one port, each with its own `SO_REUSEPORT` listening socket.

uvicorn's `workers=N` shares one listening socket between its processes, and whichever process
wakes first accepts: with 32 keep-alive connections we measured 27/5, 29/3 and 20/12 splits, so one
process saturated its core while the other idled. With a socket per process and `SO_REUSEPORT`,
Linux spreads new connections over the processes by a hash of the connection.

The parent only supervises: it starts the workers, replaces one that dies, and on SIGTERM/SIGINT
asks every worker to stop gracefully (uvicorn drains in-flight requests, the group-commit writer
writes what is queued), then exits. Workers die with it even when it is SIGKILLed. It also owns
the rate limits' shared bucket table (`rate_limit.py`).
"""

from __future__ import annotations

import ctypes
import errno
import functools
import multiprocessing
import os
import resource
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess

import uvicorn

from ingest_service.http_protocol import ConnectionLimits, GuardedHttpToolsProtocol
from ingest_service.rate_limit import SharedTable
from ingest_service.settings import ServerSettings, Settings

#: a worker that dies sooner than this after its start is broken, not unlucky: stop instead of looping
CRASH_LOOP_S = 5.0
#: how long workers get to finish in-flight requests after SIGTERM before they are killed
GRACEFUL_STOP_S = 30.0
#: every way of serving: the access log would record client addresses, and the service stores
#: and logs none (SPEC section 1)
UVICORN_OPTIONS = {"access_log": False, "proxy_headers": False, "log_level": "info"}
#: file descriptors kept free of client connections (pool, store files, logs, accept itself)
RESERVED_FILE_DESCRIPTORS = 64
MOST_CONNECTIONS = 10_000


def max_connections(server: ServerSettings) -> int:
    if server.max_connections:
        return server.max_connections
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MOST_CONNECTIONS
    return max(16, min(MOST_CONNECTIONS, soft - RESERVED_FILE_DESCRIPTORS))


def uvicorn_timeouts(server: ServerSettings) -> dict[str, object]:
    """The options every way of serving sets (also uvicorn's own multi-process fallback)."""
    return {
        **UVICORN_OPTIONS,
        "timeout_keep_alive": server.keep_alive_timeout_s,
        # answers 503 only when every connection is busy: idle ones are closed first (http_protocol)
        "limit_concurrency": max_connections(server) + 1,
        "h11_max_incomplete_event_size": server.max_header_bytes,  # if h11 is ever used
    }


def uvicorn_config(app: object, server: ServerSettings, **options: object) -> uvicorn.Config:
    """A uvicorn Config with the guarded protocol (read deadline, header limit, connection cap)."""
    config = uvicorn.Config(app, http=GuardedHttpToolsProtocol, **uvicorn_timeouts(server), **options)
    config.connection_limits = ConnectionLimits(  # read by GuardedHttpToolsProtocol
        read_timeout_s=server.read_timeout_s,
        max_header_bytes=server.max_header_bytes,
        max_connections=max_connections(server),
    )
    return config


def reuse_port_supported() -> bool:
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def _listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


PR_SET_PDEATHSIG = 1
#: how often a worker checks that its supervisor still lives (the fallback to PR_SET_PDEATHSIG)
PARENT_CHECK_S = 1.0


def _die_with_parent(parent_pid: int) -> None:
    """Stop this worker when the supervisor dies, even by SIGKILL (no chance to stop us itself).

    Linux delivers SIGTERM (uvicorn's graceful stop) on the parent's death with PR_SET_PDEATHSIG; a
    thread watching getppid() covers other systems and the race where the parent died before the
    prctl call. Without this, orphans kept serving the port and a restart failed with "in use".
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below still applies

    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os.kill(os.getpid(), signal.SIGTERM)
                return
            time.sleep(PARENT_CHECK_S)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def _worker(host: str, port: int, parent_pid: int, shared_rate_limits: SharedTable) -> None:
    from ingest_service.app import create_app_from_env

    _die_with_parent(parent_pid)
    sock = _listening_socket(host, port, reuse_port=True)
    sock.listen(2048)
    config = uvicorn_config(
        functools.partial(create_app_from_env, shared_rate_limits), Settings.from_env().server, factory=True
    )
    uvicorn.Server(config).run(sockets=[sock])


def port_free(host: str, port: int) -> bool:
    """Whether nothing listens on host:port; every worker sharing it would otherwise join a stranger."""
    try:
        _listening_socket(host, port, reuse_port=False).close()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            return False
        raise
    return True


def serve_workers(host: str, port: int, count: int) -> int:
    """Run `count` worker processes until SIGTERM/SIGINT; returns the exit code."""
    if not port_free(host, port):
        print(f"{host}:{port} is in use; stop what listens there or set INGEST_PORT.", file=sys.stderr)
        return 1
    context = multiprocessing.get_context("spawn")  # no event loop, pool or lock inherited by a fork
    stopping = False
    shared_rate_limits = SharedTable.create()  # the rate limits hold across the workers

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(
            target=_worker, args=(host, port, os.getpid(), shared_rate_limits), name="ingest-worker"
        )
        process.start()
        return process, time.monotonic()

    workers = [start() for _ in range(count)]
    exit_code = 0
    while not stopping:
        time.sleep(0.2)
        for index, (process, started_at) in enumerate(workers):
            if process.is_alive() or stopping:
                continue
            if time.monotonic() - started_at < CRASH_LOOP_S:
                print(f"a worker exited at start (code {process.exitcode}); stopping", file=sys.stderr)
                stopping, exit_code = True, 1
                break
            print(f"an ingest worker died (code {process.exitcode}); starting another.", file=sys.stderr)
            workers[index] = start()
    for process, _ in workers:
        if process.is_alive():
            process.terminate()  # SIGTERM: uvicorn's graceful shutdown
    deadline = time.monotonic() + GRACEFUL_STOP_S
    for process, _ in workers:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
    shared_rate_limits.remove()
    return exit_code
