"""`python -m ingest_service` runs the ingest service; `python -m ingest_service migrate` creates the
PostgreSQL tables of `DATABASE_URL` (the service also does it at startup)."""

from __future__ import annotations

import argparse
import logging
import sys

from ingest_service.settings import Settings, SettingsError


def _serve(settings: Settings) -> int:
    import uvicorn

    from ingest_service.app import create_app, tune_garbage_collector
    from ingest_service.workers import reuse_port_supported, serve_workers, uvicorn_config, uvicorn_timeouts

    store = (
        "PostgreSQL (DATABASE_URL)" if settings.database_url else f"embedded store under {settings.data_dir}"
    )
    print(f"ingest service on http://{settings.server.host}:{settings.server.port} — {store}", flush=True)
    workers = settings.server.workers
    if workers > 1 and reuse_port_supported():
        # each worker process builds its own app, pool and writer from the environment
        return serve_workers(settings.server.host, settings.server.port, workers)
    tune_garbage_collector()
    server = settings.server
    if workers == 1:
        app = create_app(settings, serving=True)
        uvicorn.Server(uvicorn_config(app, server, host=server.host, port=server.port)).run()
        return 0
    # not Linux: uvicorn's shared socket, its own protocol (no read deadline), per-worker rate limits
    uvicorn.run(
        "ingest_service.app:create_app_from_env",
        factory=True,
        workers=workers,
        host=server.host,
        port=server.port,
        **uvicorn_timeouts(server),
    )
    return 0


def _migrate(settings: Settings) -> int:
    import psycopg

    from ingest_service.storage.sinks import migrate_postgres

    if not settings.database_url:
        print("DATABASE_URL is not set: the embedded store needs no migration.", file=sys.stderr)
        return 2
    try:
        with psycopg.connect(settings.database_url, connect_timeout=10) as connection:
            migrate_postgres(connection)
    except psycopg.Error as error:
        print(
            f"migration failed: {error}\nCheck that PostgreSQL is running and DATABASE_URL is right.",
            file=sys.stderr,
        )
        return 1
    print("raw.interaction_events, raw.user_privacy_events and raw.rejected_events are ready.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest_service", description=__doc__)
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"bad setting: {error}", file=sys.stderr)
        return 2
    return _serve(settings) if args.command == "serve" else _migrate(settings)


if __name__ == "__main__":
    sys.exit(main())
