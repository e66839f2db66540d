"""The real ingest service as a process (`python -m ingest_service`) on the embedded store, for the
browser tests: stoppable and restartable on the same port and data directory (outages), and its
raw store read back through DuckDB, as the warehouse reads it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import httpx
import jwt

from tests.ingest.service_process import REPO_ROOT, free_port

JWT_SECRET = "sdk-browser-tests-secret-" + "0123456789abcdef" * 2


def make_token(sub: str, expires_in_s: int = 3600) -> str:
    """A token as the web app signs it (SPEC §3); a negative lifetime gives an expired one."""
    return jwt.encode({"sub": sub, "exp": int(time.time()) + expires_in_s}, JWT_SECRET, algorithm="HS256")


def wait_until(condition: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.1) -> Any:
    """Poll `condition` until it returns something truthy; fail saying what did not happen."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(interval_s)


class IngestProcess:
    def __init__(self, data_dir: Path, **env: str) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DATA_DIR")},
            "DATA_DIR": str(data_dir),
            "INGEST_HOST": "127.0.0.1",
            "INGEST_PORT": str(self.port),
            "INGEST_JWT_SECRET": JWT_SECRET,
            "INGEST_RATE_LIMIT_PER_MINUTE": "0",
            **env,
        }
        self.log_path = data_dir / f"ingest-{self.port}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> IngestProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ingest_service"], cwd=REPO_ROOT, env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the ingest service exited:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the ingest service did not become ready:\n{self.log()}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # --- what was stored ------------------------------------------------------------------------

    def rows(self, where: str = "true", params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Raw deliveries (every copy) as dicts, `event_data` parsed, oldest first."""
        pattern = str(self.data_dir / "raw" / "interaction_events" / "*.parquet")
        connection = duckdb.connect()
        try:
            relation = connection.execute(
                f"select * from read_parquet('{pattern}', union_by_name = true) where {where} "
                "order by received_at, occurred_at, event_id",
                params or [],
            )
            names = [column[0] for column in relation.description]
            rows = [dict(zip(names, values, strict=True)) for values in relation.fetchall()]
        finally:
            connection.close()
        for row in rows:
            row["event_data"] = json.loads(row["event_data"]) if row.get("event_data") else {}
        return rows

    def rows_for(self, event_ids: list[str]) -> list[dict[str, Any]]:
        if not event_ids:
            return []
        return self.rows("event_id in (select unnest(?))", [list(event_ids)])

    def wait_for_events(self, event_ids: list[str], timeout_s: float = 20) -> list[dict[str, Any]]:
        """Wait until every id is stored; returns the rows of those ids (duplicates included)."""
        wanted = set(event_ids)

        def all_there() -> list[dict[str, Any]] | None:
            rows = self.rows_for(list(wanted))
            return rows if {row["event_id"] for row in rows} >= wanted else None

        try:
            return wait_until(all_there, timeout_s, f"{len(wanted)} events in the raw store")
        except AssertionError:
            stored = {row["event_id"] for row in self.rows_for(list(wanted))}
            raise AssertionError(
                f"{len(wanted - stored)} of {len(wanted)} events never reached the raw store"
            ) from None

    def wait_for_events_where(
        self, where: str, params: list[Any], count: int = 1, timeout_s: float = 15
    ) -> list[dict[str, Any]]:
        """Wait until at least `count` events match `where`; returns the matching rows."""
        return wait_until(
            lambda: (rows := self.rows(where, params)) and len(rows) >= count and rows,
            timeout_s,
            f"{count} events where {where} {params}",
        )

    def privacy_actions(self) -> list[dict[str, Any]]:
        pattern = str(self.data_dir / "raw" / "user_privacy_events" / "*.parquet")
        connection = duckdb.connect()
        try:
            relation = connection.execute(f"select * from read_parquet('{pattern}', union_by_name = true)")
            names = [column[0] for column in relation.description]
            return [dict(zip(names, values, strict=True)) for values in relation.fetchall()]
        finally:
            connection.close()


def new_user_id() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"
