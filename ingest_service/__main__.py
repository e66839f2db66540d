"""`python -m ingest_service` runs the ingest service; `python -m ingest_service migrate` creates the
PostgreSQL tables of `DATABASE_URL` (the service also does it at startup);
`python -m ingest_service replay-rejected [--since TIME] [--dry-run]` sends the kept rejected events
through validation again once their cause is fixed (SPEC §11): accepted ones move to the raw events,
exactly once; the others stay with their new error."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import datetime

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


def _replay_rejected(settings: Settings, since: datetime | None, dry_run: bool) -> int:
    import psycopg

    from ingest_service.upkeep.errors import LifecycleError
    from ingest_service.upkeep.replay_rejected import replay_rejected

    try:
        report = replay_rejected(settings.storage.raw_stores, settings.security, since, dry_run)
    except (LifecycleError, psycopg.Error) as error:
        print(f"replay failed: {error}\nCheck DATABASE_URL / DATA_DIR and run it again.", file=sys.stderr)
        return 1
    print(
        f"{report.examined} rejected events examined ({report.store} store): "
        f"{report.written} {'would move' if dry_run else 'moved'} to the raw events, "
        f"{report.already_in_raw_events} already there, {report.dropped_opted_out} of opted-out users "
        f"dropped, {report.still_rejected} still rejected, {report.not_replayable} not replayable",
        file=sys.stderr,
    )
    print(json.dumps(report.as_dict()))
    return 0


def _since(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"needs a time zone, e.g. {text}+00:00")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ingest_service",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "migrate", "replay-rejected"]
    )
    parser.add_argument(
        "--since", type=_since, help="replay-rejected: only events received at or after this ISO-8601 time"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="replay-rejected: report what would happen, change nothing"
    )
    args = parser.parse_args(argv)
    if args.command != "replay-rejected" and (args.since or args.dry_run):
        parser.error("--since and --dry-run belong to replay-rejected")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"bad setting: {error}", file=sys.stderr)
        return 2
    if args.command == "replay-rejected":
        return _replay_rejected(settings, args.since, args.dry_run)
    return _serve(settings) if args.command == "serve" else _migrate(settings)


if __name__ == "__main__":
    sys.exit(main())
