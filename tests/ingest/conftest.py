"""Fixtures of the ingest tests: the app on a real PostgreSQL database or a real embedded store.

`IngestHarness` runs the Litestar app in-process (Litestar's TestClient, lifespan included) and
reads back what was really stored: rows from PostgreSQL, or the Parquet files through DuckDB.
Every response a test provokes through it is checked against the published OpenAPI at teardown
(`contract_check`): a test whose responses differ from the contract fails.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import jwt
import psycopg
import pytest
from litestar.testing import TestClient

from ingest_service.app import create_app
from ingest_service.settings import Settings
from tests.ingest.contract_check import ResponseRecorder, contract_problems
from tests.ingest.service_process import Server, server_starter

JWT_SECRET = "test-secret-for-the-ingest-tests-only-" + "0123456789abcdef" * 2  # 70 bytes: fine for HS512 too
API_KEY = "server-key-1"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


def make_token(sub: str, expires_in_s: int = 3600, secret: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time()) + expires_in_s}, secret, algorithm=algorithm)


def bearer(sub: str, **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(sub, **kwargs)}"}


class IngestHarness:
    def __init__(self, client: TestClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def post(
        self,
        path: str,
        body: Any,
        headers: dict[str, str] | None = None,
        content_type: str = "application/json",
    ):
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers = {"Content-Type": content_type, "User-Agent": FIREFOX_LINUX, **(headers or {})}
        return self.client.post(path, content=content, headers=all_headers)

    def _select(self, table: str, directory: Path, id_column: str, where: str) -> list[dict[str, Any]]:
        if self.settings.database_url:
            with psycopg.connect(self.settings.database_url) as connection, connection.cursor() as cursor:
                cursor.execute(
                    f"select * from raw.{table} where {where} order by received_at, {id_column}::text"
                )
                names = [column.name for column in cursor.description]
                rows = [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
            for row in rows:
                row[id_column] = str(row[id_column])
            return rows
        pattern = str(directory / "*.parquet")
        relation = duckdb.sql(
            f"select * from read_parquet('{pattern}', union_by_name = true) where {where}"
            f" order by received_at, {id_column}"
        )
        return [dict(zip(relation.columns, values, strict=True)) for values in relation.fetchall()]

    def rows(self, where: str = "true") -> list[dict[str, Any]]:
        """Stored raw events as dicts (event_id as text, event_data as a dict), oldest first."""
        rows = self._select(
            "interaction_events", self.settings.storage.raw_stores.events_dir, "event_id", where
        )
        if not self.settings.database_url:
            for row in rows:
                row["event_data"] = json.loads(row["event_data"])
        return rows

    def rejected_rows(self, where: str = "true") -> list[dict[str, Any]]:
        """Stored rejected events (SPEC §11) as dicts, oldest first."""
        return self._select(
            "rejected_events", self.settings.storage.raw_stores.rejected_dir, "rejection_id", where
        )


def settings_for(data_dir: Path, database_url: str | None = None, **env: str) -> Settings:
    base = {
        "DATA_DIR": str(data_dir),
        "INGEST_API_KEYS": f"{API_KEY},other-key",
        "INGEST_JWT_SECRET": JWT_SECRET,
        "INGEST_RATE_LIMIT_PER_MINUTE": "0",
    }
    if database_url:
        base["DATABASE_URL"] = database_url
    base.update(env)
    return Settings.from_env(base)


@pytest.fixture
def make_harness(tmp_path: Path) -> Iterator[Callable[..., IngestHarness]]:
    """make_harness(database_url=None, **env) → a running app (closed at teardown)."""
    clients: list[TestClient] = []

    recorder = ResponseRecorder()

    def make(database_url: str | None = None, **env: str) -> IngestHarness:
        settings = settings_for(tmp_path / f"data-{uuid.uuid4().hex[:6]}", database_url, **env)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        client.event_hooks["response"] = [recorder.record]
        clients.append(client)
        return IngestHarness(client, settings)

    yield make
    document = clients[0].get("/schema/openapi.json").json() if clients else None
    for client in clients:
        client.__exit__(None, None, None)
    if document is not None:
        problems = contract_problems(document, recorder.responses)
        assert not problems, "responses that differ from the published OpenAPI:\n" + "\n".join(problems)


@pytest.fixture
def pg_ingest(make_harness: Callable[..., IngestHarness], postgres_url: str) -> IngestHarness:
    """The service on a fresh PostgreSQL database."""
    return make_harness(postgres_url)


@pytest.fixture
def embedded_ingest(make_harness: Callable[..., IngestHarness]) -> IngestHarness:
    """The service on a fresh embedded (Parquet) store."""
    return make_harness()


@pytest.fixture(params=["postgres", "embedded"])
def any_ingest(request: pytest.FixtureRequest, make_harness, make_postgres_database) -> IngestHarness:
    """The same test against both stores."""
    if request.param == "postgres":
        return make_harness(make_postgres_database("ingest"))
    return make_harness()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """start_server(file_limit=None, **env) → the real service as a process (stopped at teardown)."""
    yield from server_starter(tmp_path)
