"""Several ingest processes on one port, each with its own `SO_REUSEPORT` listening socket.

uvicorn's `workers=N` shares one listening socket between its processes, and whichever process
wakes first accepts: with 32 keep-alive connections we measured 27/5, 29/3 and 20/12 splits, so one
process saturated its core while the other idled. With a socket per process and `SO_REUSEPORT`,
Linux spreads new connections over the processes by a hash of the connection.

The parent only supervises: it starts the workers, replaces one that dies, and on SIGTERM/SIGINT
asks every worker to stop gracefully (uvicorn drains in-flight requests, the group-commit writer
writes what is queued), then exits.
"""

from __future__ import annotations

import errno
import multiprocessing
import signal
import socket
import sys
import time
from multiprocessing.process import BaseProcess

#: a worker that dies sooner than this after its start is broken, not unlucky: stop instead of looping
CRASH_LOOP_S = 5.0
#: how long workers get to finish in-flight requests after SIGTERM before they are killed
GRACEFUL_STOP_S = 30.0
#: every way of serving: the access log would record client addresses, and the service stores
#: and logs none (SPEC section 1)
UVICORN_OPTIONS = {"access_log": False, "proxy_headers": False, "log_level": "info"}


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


def _worker(host: str, port: int) -> None:
    import uvicorn

    sock = _listening_socket(host, port, reuse_port=True)
    sock.listen(2048)
    config = uvicorn.Config("ingest_service.app:create_app_from_env", factory=True, **UVICORN_OPTIONS)
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

    def request_stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    def start() -> tuple[BaseProcess, float]:
        process = context.Process(target=_worker, args=(host, port), name="ingest-worker")
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
    return exit_code
