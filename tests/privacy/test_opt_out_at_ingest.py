"""An opted-out user's events never reach storage through the real ingest app, and opting in resumes it."""

from __future__ import annotations

import duckdb
import jwt
import psycopg
import pytest
from litestar.testing import TestClient

from ingest_service.app import create_app
from ingest_service.settings import SecuritySettings, Settings, StorageSettings
from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import RAW_EVENT_COLUMN_NAMES
from orchestration.lifecycle.cli import main
from tests.support.mentions import parquet_mentions

SECRET = "test-secret-for-privacy-tests-only-32b"


def _headers(user_id: str) -> dict[str, str]:
    token = jwt.encode({"sub": user_id}, SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def _send_page_views(settings: Settings, users: list[str], session_suffix: str) -> None:
    with TestClient(app=create_app(settings)) as client:
        for user_id in users:
            response = client.post(
                "/api/analytics",
                json={
                    "events": [
                        {"eventType": "PAGE_VIEW", "path": "/p", "sessionId": f"{user_id}-{session_suffix}"}
                    ]
                },
                headers=_headers(user_id),
            )
            # answered as an accepted event, whether or not it was kept (SPEC 7, issue 5)
            assert response.status_code == 200, response.text
            assert response.json()["success"] is True


def _stored_users(stores: RawStores) -> list[tuple[str, str]]:
    if stores.database_url:
        with psycopg.connect(stores.database_url) as connection:
            return sorted(connection.execute("select user_id, session_id from raw.interaction_events"))
    return sorted(
        duckdb.sql(
            f"select user_id, session_id from read_parquet('{stores.events_dir}/*.parquet')"
        ).fetchall()
    )


@pytest.fixture(params=["embedded", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request, tmp_path, monkeypatch) -> Settings:
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    if database_url:
        monkeypatch.setenv("DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    return Settings(
        storage=StorageSettings(database_url=database_url, data_dir=tmp_path),
        security=SecuritySettings(jwt_secret=SECRET),
    )


def test_opted_out_events_are_acknowledged_but_never_stored(settings):
    stores = RawStores(database_url=settings.database_url, data_dir=settings.data_dir)
    _send_page_views(settings, ["alice", "bob"], "before")  # the service creates its store here

    assert main(["opt-out", "bob"]) == 0
    _send_page_views(settings, ["alice", "bob"], "out")
    assert main(["opt-in", "bob"]) == 0
    _send_page_views(settings, ["bob"], "back")

    assert _stored_users(stores) == [
        ("alice", "alice-before"),
        ("alice", "alice-out"),
        ("bob", "bob-back"),
        ("bob", "bob-before"),
    ]


def test_no_ip_address_is_stored_anywhere(tmp_path):
    """SPEC 1 / seed 000 "Not collected": the caller's address never reaches a stored row."""
    settings = Settings(
        storage=StorageSettings(data_dir=tmp_path), security=SecuritySettings(jwt_secret=SECRET)
    )
    address = "203.0.113.77"
    with TestClient(app=create_app(settings)) as client:
        response = client.post(
            "/api/analytics",
            json={"event": {"eventType": "PAGE_VIEW", "path": "/", "sessionId": "s-ip"}},
            headers={
                **_headers("carol"),
                "X-Forwarded-For": address,
                "X-Real-IP": address,
                "Forwarded": f"for={address}",
            },
        )
    assert response.status_code == 200, response.text
    stores = RawStores(database_url=None, data_dir=tmp_path)
    assert _stored_users(stores) == [("carol", "s-ip")]
    assert parquet_mentions(stores.events_dir, address) == 0
    assert not {"ip", "ip_address", "client_ip", "location", "fingerprint"} & set(RAW_EVENT_COLUMN_NAMES)
