"""The real service (`python -m ingest_service` under uvicorn) under concurrent load.

- PostgreSQL made unavailable mid-load (connections refused and killed, then allowed again): the
  service answers 503 + Retry-After, never loses an acknowledged event, and recovers by itself.
- Embedded store read by DuckDB while the service writes, then the service killed with SIGKILL:
  every read succeeds, no half-written file is ever visible, every acknowledged event is there.
- No client address in the logs.
"""

from __future__ import annotations

import os
import re
import signal
import threading
import time
import uuid
from pathlib import Path

import duckdb
import httpx
import psycopg
import pytest

from ingest_service.workers import CRASH_LOOP_S
from tests.conftest import ADMIN_URL
from tests.ingest.conftest import API_KEY
from tests.ingest.service_process import children_of, socket_inodes_of, tcp_sockets

pytestmark = [pytest.mark.slow]
#: reconnection attempts are at most ~1 s apart (RECONNECT_SERIES_S): 0.1–0.3 s measured, also with
#: both cores busy; 4.5 s with psycopg_pool's uncapped backoff; the rest is slack for a loaded machine
RECOVERY_BOUND_S = 4.0


class Load:
    """Threads posting batches with fresh event ids; remembers which ids were acknowledged."""

    def __init__(self, base_url: str, threads: int = 3, batch: int = 10) -> None:
        self.base_url = base_url
        self.batch = batch
        self.acked: set[str] = set()
        self.refused: set[str] = set()
        self.statuses: list[int] = []
        self.retry_after: list[str | None] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=30, headers={"X-Api-Key": API_KEY}) as client:
            while not self._stop.is_set():
                ids = [str(uuid.uuid4()) for _ in range(self.batch)]
                events = [
                    {"eventType": "PERFUME_VIEW", "perfumeId": "p-1", "path": "/p/1", "eventId": event_id}
                    for event_id in ids
                ]
                try:
                    response = client.post("/api/analytics", json={"events": events})
                except httpx.TransportError:
                    # the server was killed mid-request: unanswered, so neither acked nor refused
                    continue
                with self._lock:
                    self.statuses.append(response.status_code)
                    if response.status_code == 200:
                        assert response.json()["count"] == self.batch
                        self.acked.update(ids)
                    else:
                        self.refused.update(ids)
                        self.retry_after.append(response.headers.get("Retry-After"))
                if response.status_code != 200:
                    time.sleep(0.1)


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql)


@pytest.mark.postgres
def test_postgres_outage_mid_load_is_503_then_recovers_without_losing_acknowledged_events(
    start_server, make_postgres_database
):
    url = make_postgres_database("outage")
    database = url.rsplit("/", 1)[1]
    server = start_server(DATABASE_URL=url, INGEST_DB_CONNECT_TIMEOUT="1")

    with Load(server.base_url) as load:
        time.sleep(1.0)
        acked_before_outage = len(load.acked)
        _admin(f'alter database "{database}" allow_connections false')
        _admin(f"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{database}'")
        time.sleep(2.5)
        ready_during = httpx.get(f"{server.base_url}/readyz", timeout=10).status_code
        # a longer outage: an uncapped reconnection backoff (1, 2, 4, 8 s…) would now wait seconds
        time.sleep(6.0)
        _admin(f'alter database "{database}" allow_connections true')
        statuses_at_return = len(load.statuses)
        returned_at = time.monotonic()

        # "by itself": no restart, no admin action; a few seconds, however long the outage was
        def recovered() -> bool:
            return 200 in load.statuses[statuses_at_return:]

        while time.monotonic() - returned_at < RECOVERY_BOUND_S and not recovered():
            time.sleep(0.1)
        recovery_s = time.monotonic() - returned_at
        print(f"recovered {recovery_s:.1f} s after storage returned")
        time.sleep(0.5)

    assert acked_before_outage > 0
    assert ready_during == 503
    assert set(load.statuses) == {200, 503}, "only acknowledgements and 503s"
    assert all(value and int(value) >= 1 for value in load.retry_after)
    assert recovered(), f"not recovered {RECOVERY_BOUND_S} s after storage returned"
    assert recovery_s < RECOVERY_BOUND_S
    assert httpx.get(f"{server.base_url}/readyz", timeout=10).status_code == 200
    with psycopg.connect(url) as connection:
        stored = {str(row[0]) for row in connection.execute("select event_id from raw.interaction_events")}
    assert load.acked <= stored, "an acknowledged event was lost"
    assert not (load.refused & stored), "events answered 503 must not count as stored"
    assert server.process.poll() is None
    metrics = httpx.get(f"{server.base_url}/metrics").text
    assert re.search(r"^ingest_storage_errors_total [1-9]", metrics, re.MULTILINE)


def test_embedded_store_is_read_by_duckdb_while_writing_and_survives_a_kill(start_server, tmp_path):
    data_dir = tmp_path / "data"
    server = start_server(DATA_DIR=str(data_dir))
    glob = str(data_dir / "raw" / "interaction_events" / "*.parquet")
    counts: list[int] = []

    with Load(server.base_url) as load:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            # a fresh connection each time, like a dbt run starting while the service writes
            total, distinct = (
                duckdb.connect()
                .execute(f"select count(*), count(distinct event_id) from read_parquet('{glob}')")
                .fetchone()
            )
            assert total == distinct
            counts.append(total)
            time.sleep(0.05)
        server.process.send_signal(signal.SIGKILL)  # mid-write, no chance to clean up
    server.process.wait(10)

    assert counts == sorted(counts) and counts[-1] > 0
    stored = {
        row[0] for row in duckdb.connect().execute(f"select event_id from read_parquet('{glob}')").fetchall()
    }
    assert load.acked <= stored
    assert load.acked, "the load made progress"


def test_no_client_address_is_logged(start_server, tmp_path):
    server = start_server(DATA_DIR=str(tmp_path / "data"))
    with httpx.Client(base_url=server.base_url) as client:
        client.post("/api/analytics", json={"events": [{"eventType": "PAGE_VIEW", "path": "/"}]})
        client.post("/api/analytics", content=b"{", headers={"Content-Type": "application/json"})
        client.get("/nowhere")
    log = server.log()
    assert "ingest service on" in log  # the log was captured
    for line in log.splitlines():
        assert not re.search(r"\b\d{1,3}(\.\d{1,3}){3}:\d+ - \"", line), line  # uvicorn's access-log form


@pytest.mark.postgres
def test_several_workers_share_connections_evenly_and_stop_together(start_server, make_postgres_database):
    url = make_postgres_database("workers")
    server = start_server(DATABASE_URL=url, INGEST_WORKERS="2")
    port = int(server.base_url.rsplit(":", 1)[1])
    deadline = time.monotonic() + 30
    while len(tcp_sockets(port, "0A")) < 2:  # every worker has its own listening socket
        assert time.monotonic() < deadline, f"two listening sockets expected:\n{server.log()}"
        time.sleep(0.1)
    started = time.monotonic()  # every worker is listening, so the supervisor started them before this
    listening = tcp_sockets(port, "0A")
    workers = [pid for pid in children_of(server.process.pid) if socket_inodes_of(pid) & listening]
    assert len(workers) == 2

    clients = [httpx.Client(base_url=server.base_url, headers={"X-Api-Key": API_KEY}) for _ in range(64)]
    acked = set()
    try:
        for client in clients:  # 64 keep-alive connections, each left open
            event_id = str(uuid.uuid4())
            event = {"eventType": "PAGE_VIEW", "path": "/", "eventId": event_id}
            assert client.post("/api/analytics", json={"events": [event]}).status_code == 200
            acked.add(event_id)
        established = tcp_sockets(port, "01")
        per_worker = [len(socket_inodes_of(pid) & established) for pid in workers]
        assert sum(per_worker) == 64
        # one shared socket gave splits like 27/5 of 32; by hash, fewer than 16 of 64 has odds under 1e-4
        assert min(per_worker) >= 16, per_worker
    finally:
        for client in clients:
            client.close()

    # a worker that dies (after its start-up: an early death is a crash loop and stops the service)
    # is replaced, and the port keeps answering meanwhile
    time.sleep(max(0.0, CRASH_LOOP_S + 0.5 - (time.monotonic() - started)))
    os.kill(workers[0], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        listening = tcp_sockets(port, "0A")
        replacements = [
            pid
            for pid in children_of(server.process.pid)
            if pid not in workers and socket_inodes_of(pid) & listening
        ]
        if replacements:
            break
        assert time.monotonic() < deadline, f"the dead worker was not replaced:\n{server.log()}"
        time.sleep(0.1)
    event_id = str(uuid.uuid4())
    event = {"eventType": "PAGE_VIEW", "path": "/", "eventId": event_id}
    response = httpx.post(
        f"{server.base_url}/api/analytics", json={"events": [event]}, headers={"X-Api-Key": API_KEY}
    )
    assert response.status_code == 200
    acked.add(event_id)
    assert "not reachable" not in server.log(), "workers creating the tables at once must not collide"

    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(30) == 0
    survivors = [pid for pid in [*workers, *replacements] if Path(f"/proc/{pid}").exists()]
    assert not survivors, "a worker outlived the service"
    with psycopg.connect(url) as connection:
        stored = {str(row[0]) for row in connection.execute("select event_id from raw.interaction_events")}
    assert acked <= stored
