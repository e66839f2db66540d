"""The lifecycle jobs' view of the stores: the same environment as the ingest service and dbt.

Fields left unset are taken from the environment when a run starts (never at import), with the
ingest service's `Settings.from_env()`, so the jobs act on exactly the stores the service writes.
"""

from __future__ import annotations

import os

import dagster as dg

from ingest_service.lifecycle.stores import RawStores
from ingest_service.lifecycle.warehouse import WarehouseLocation
from ingest_service.settings import Settings


class LifecycleStores(dg.ConfigurableResource):
    """Raw stores and warehouse the lifecycle jobs act on."""

    data_dir: str | None = None
    """Root of the embedded store and the DuckDB warehouse; default `DATA_DIR` (or `data/`)."""
    database_url: str | None = None
    """PostgreSQL raw store and warehouse; default `DATABASE_URL` (unset → embedded + DuckDB)."""

    def settings(self) -> Settings:
        env = dict(os.environ)
        if self.data_dir is not None:
            env["DATA_DIR"] = self.data_dir
        if self.database_url is not None:
            env["DATABASE_URL"] = self.database_url
        return Settings.from_env(env)

    def raw_stores(self) -> RawStores:
        settings = self.settings()
        return RawStores(database_url=settings.database_url, data_dir=settings.data_dir.resolve())

    def warehouse(self) -> WarehouseLocation:
        settings = self.settings()
        return WarehouseLocation.from_env(settings.data_dir, settings.database_url)

    def exports_dir(self):
        return self.settings().data_dir.resolve() / "exports"
