"""Fixtures shared by every test area: a real PostgreSQL database of the test's own.

Tests never mock a database. Each test that needs PostgreSQL gets a freshly created database (and
drops it afterwards), so nothing depends on leftovers and parallel runs do not collide. When the
server is not reachable the test fails with what to do; it never skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import psycopg
import pytest
from dagster_dbt import DbtProject

from orchestration.dbt_project import prepare_dbt_manifest

ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _admin_connection() -> psycopg.Connection:
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:  # pragma: no cover - environment problem, not a skip
        pytest.fail(
            f"PostgreSQL is not reachable at {ADMIN_URL}: {exc}\n"
            "Start it with `bash .ci/ensure-postgres.sh` (or set TEST_POSTGRES_ADMIN_URL).",
            pytrace=False,
        )


def _url_for(database: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


def _database_factory() -> Iterator[Callable[[str], str]]:
    created: list[str] = []

    def make(purpose: str = "db") -> str:
        name = f"test_{purpose}_{uuid.uuid4().hex[:10]}"
        with _admin_connection() as admin:
            admin.execute(f'create database "{name}"')
        created.append(name)
        return _url_for(name)

    yield make
    with _admin_connection() as admin:
        for name in created:
            admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture
def make_postgres_database() -> Iterator[Callable[[str], str]]:
    """Call with a short purpose name; returns the URL of a new empty database, dropped at teardown."""
    yield from _database_factory()


@pytest.fixture(scope="module")
def make_module_postgres_database() -> Iterator[Callable[[str], str]]:
    """The same for a database that the tests of one module share (dropped after the module)."""
    yield from _database_factory()


@pytest.fixture
def postgres_url(make_postgres_database: Callable[[str], str]) -> str:
    """A fresh, empty PostgreSQL database for this test."""
    return make_postgres_database("t")


@pytest.fixture(scope="session")
def dbt_manifest() -> DbtProject:
    """`dbt parse` once per session, as `make quickstart` / `dagster dev` do before loading the
    definitions (which need the manifest)."""
    return prepare_dbt_manifest()
