"""Health, readiness, metrics, CORS, settings and the migrate command."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from ingest_service.settings import Settings, SettingsError
from tests.conftest import ADMIN_URL

PAGE = {"eventType": "PAGE_VIEW", "path": "/"}


def _metric(text: str, name: str, **labels: str) -> float:
    label_text = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{re.escape(name)}{re.escape('{' + label_text + '}') if labels else ''} ([0-9.e+]+)$"
    match = re.search(pattern, text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def test_health_and_metrics_count_requests_events_and_rejections(embedded_ingest):
    embedded_ingest.post(
        "/api/analytics", {"events": [PAGE, PAGE, {"eventType": "PERFUME_VIEW", "path": "/"}]}
    )
    embedded_ingest.post("/api/analytics", {"events": [{"path": "/"}]})
    embedded_ingest.client.get("/api/analytics")

    assert embedded_ingest.client.get("/healthz").json() == {"status": "ok"}
    assert embedded_ingest.client.get("/readyz").json() == {"status": "ready", "store": "embedded"}
    response = embedded_ingest.client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert _metric(text, "ingest_requests_total", endpoint="/api/analytics", status="200") == 2
    assert _metric(text, "ingest_requests_total", endpoint="/api/analytics", status="405") == 1
    assert _metric(text, "ingest_events_accepted_total", endpoint="/api/analytics") == 2
    assert _metric(text, "ingest_events_rejected_total", reason="missing_required") == 2
    assert _metric(text, "ingest_request_duration_seconds_count", endpoint="/api/analytics") == 3
    assert "ingest_storage_errors_total 0.0" in text


@pytest.mark.postgres
def test_postgres_missing_at_startup_is_503_then_recovers_when_it_appears(make_harness):
    name = f"test_late_{uuid.uuid4().hex[:10]}"
    url = ADMIN_URL.rpartition("/")[0] + f"/{name}"
    harness = make_harness(url, INGEST_DB_CONNECT_TIMEOUT="0.5")
    try:
        assert harness.client.get("/healthz").status_code == 200  # the process is up regardless
        ready = harness.client.get("/readyz")
        down = harness.post("/api/analytics", {"events": [PAGE]})
        assert ready.status_code == 503 and ready.headers["Retry-After"]
        assert down.status_code == 503 and int(down.headers["Retry-After"]) >= 1
        assert "nothing of this request was stored" in down.json()["error"]

        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'create database "{name}"')
        deadline, status = time.monotonic() + 20, None
        while time.monotonic() < deadline and status != 200:
            time.sleep(0.3)
            status = harness.post("/api/analytics", {"events": [PAGE]}).status_code
        assert status == 200, "the service recovered by itself and created its tables"
        assert harness.client.get("/readyz").status_code == 200
        assert len(harness.rows()) == 1
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def test_settings_defaults_and_environment(tmp_path: Path):
    defaults = Settings.from_env({})
    assert (defaults.server.host, defaults.server.port) == ("127.0.0.1", 8000)
    assert defaults.database_url is None and defaults.retention_days == 90
    assert defaults.data_dir.name == "data"

    settings = Settings.from_env(
        {
            "INGEST_HOST": "0.0.0.0",
            "INGEST_PORT": "9000",
            "DATABASE_URL": "postgresql://u@db/x",
            "DATA_DIR": str(tmp_path),
            "INGEST_API_KEYS": " a, b ,,",
            "INGEST_JWT_SECRET": "s3cret",
            "INGEST_CORS_ORIGINS": "https://a.example,https://b.example",
            "RETENTION_DAYS": "30",
        }
    )
    assert (settings.server.host, settings.server.port, settings.retention_days) == ("0.0.0.0", 9000, 30)
    assert settings.security.api_keys == ("a", "b")
    assert settings.storage.raw_stores.events_dir == tmp_path / "raw" / "interaction_events"
    assert settings.storage.raw_stores.privacy_dir == tmp_path / "raw" / "user_privacy_events"
    assert "s3cret" not in repr(settings) and "'a'" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"INGEST_PORT": "http"}, "INGEST_PORT"),
        ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS"),
        ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ],
)
def test_bad_settings_say_which_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


@pytest.mark.postgres
def test_migrate_command_creates_the_tables(postgres_url):
    result = subprocess.run(
        [sys.executable, "-m", "ingest_service", "migrate"],
        env={"DATABASE_URL": postgres_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    with psycopg.connect(postgres_url) as connection:
        tables = {
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            )
        }
        indexes = {
            row[0] for row in connection.execute("select indexname from pg_indexes where schemaname = 'raw'")
        }
    assert tables == {"interaction_events", "user_privacy_events", "rejected_events", "erased_events"}
    assert "interaction_events_received_at_idx" in indexes


@pytest.mark.postgres
def test_connections_killed_while_idle_do_not_fail_the_next_request(pg_ingest):
    assert pg_ingest.post("/api/analytics", {"events": [PAGE]}).status_code == 200
    database = pg_ingest.settings.database_url.rsplit("/", 1)[1]
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:  # e.g. a server restart or a failover
        killed = admin.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = %s", (database,)
        ).fetchone()[0]
    assert killed >= 1

    response = pg_ingest.post("/api/analytics", {"events": [PAGE, PAGE]})

    assert response.status_code == 200, response.text
    assert len(pg_ingest.rows()) == 3
