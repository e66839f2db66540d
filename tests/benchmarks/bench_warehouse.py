"""Warehouse benchmark: full refresh and incremental dbt runs of every mart, on DuckDB and PostgreSQL.

    python -m tests.benchmarks.bench_warehouse [--sizes 1M,3M,10M] [--pg-sizes 1M,3M]
        [--scenarios new,late,plus1] [--new-events 100000] [--skip-duckdb] [--skip-postgres] [--quick]
    (or `make bench-warehouse ARGS="..."`)

For each engine and history size: generate the history (`warehouse_events.py`: returning
browsers with anonymous ids, logins that stitch earlier sessions, every mart's kind of event;
DuckDB SQL straight into Parquet files of a temporary DATA_DIR, PostgreSQL `generate_series`
into the raw table of a temporary database), `dbt seed`, `dbt run --full-refresh`, publish the
snapshot. Then each incremental scenario, every one from the same post-full-refresh state (a
copy of the DuckDB file and raw store, or a PostgreSQL database made from a template), adds its
events and runs `dbt run`, then publishes the snapshot:
- `new`: `--new-events` (100,000) new events received in the hour after the history: new
  sessions of returning browsers and users, some logging in for the first time;
- `late`: as many late events received in that hour that occurred inside existing sessions
  spread over the whole history;
- `plus1`: 1 % more events, the stream continued at its own pace.
Each run prints wall time, dbt's own time in models, the sum of the models' times, dbt's
start-up (process start to the first model), the dbt process's peak memory, the slowest
models, the snapshot publishing time and a sanity line read from the marts (identity_map rows,
stitched events, actors by kind: the data really exercises identity resolution). At the end: a
markdown summary table and, for each target of issue 13, whether it is met.

`--quick` runs tiny sizes (20k and 50k events of history, 20k on PostgreSQL, 2,000 new events)
to check the script in about two minutes; its figures mean nothing. Everything is created in temporary
places and removed at the end, also on failure or Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import psycopg

from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import POSTGRES_DDL, RAW_EVENTS_RELATION
from orchestration.snapshots import publish_snapshot
from orchestration.warehouse import MARTS, WarehouseTarget
from tests.benchmarks.dbt_timing import DbtRun, as_of_environment_of, run_dbt
from tests.benchmarks.warehouse_events import (
    Batch,
    History,
    continuation,
    event_rows_sql,
    history_batches,
    insert_sql,
    late_events,
    new_hour,
)
from tests.benchmarks.warehouse_report import (
    FULL_REFRESH,
    Measurement,
    References,
    find_measurement,
    print_run,
    print_summary,
    print_targets,
)

EVENTS_PER_FILE = 1_000_000
ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass(frozen=True)
class Scenario:
    key: str
    describe: Callable[[History, int], str]
    batch: Callable[[History, int], Batch]


SCENARIOS = {
    "new": Scenario(
        "new",
        lambda history, new: (
            f"{new:,} new events in a new hour (new sessions of returning browsers, some logging in)"
        ),
        lambda history, new: new_hour(history, new),
    ),
    "late": Scenario(
        "late",
        lambda history, new: f"{new:,} late events in existing sessions all over the history",
        lambda history, new: late_events(history, new),
    ),
    "plus1": Scenario(
        "plus1",
        lambda history, new: f"+1 % events ({history.events // 100:,}), the stream continued",
        lambda history, new: continuation(history, history.events // 100),
    ),
}

#: SPEC section 5 names only: the models behind the marts may change, these may not
_SANITY_QUERIES = {
    "identity_map": "select count(*) as browsers from identity_map",
    "user_behavior_profile": "select count(*) as users, coalesce(sum(stitched_events), 0) as stitched_events,"
    " count(case when stitched_events > 0 then 1 end) as stitched_users from user_behavior_profile",
    "user_item_interactions": "select substr(actor_id, 1, 2) as kind, count(distinct actor_id) as actors "
    "from user_item_interactions group by substr(actor_id, 1, 2)",
}


def _link_or_copy(source: str, destination: str) -> None:
    """Parquet files (raw store, snapshots) are written once and never changed: share them."""
    if source.endswith(".parquet"):
        os.link(source, destination)
    else:
        shutil.copy2(source, destination)


def _size(path: Path) -> str:
    total = sum(file.stat().st_size for file in path.rglob("*") if file.is_file())
    return f"{total / 1e9:.2f} GB" if total >= 1e8 else f"{total / 1e6:.0f} MB"


class Workspace:
    """One history's temporary DATA_DIR and dbt target path (DuckDB: the warehouse and the raw
    store live in DATA_DIR), kept as a saved copy after the full refresh so each scenario starts
    from the same state, at the same paths (dbt's partial parse sees the same project)."""

    engine = ""

    def __init__(self, history: History) -> None:
        self.history = history
        self.root = Path(tempfile.mkdtemp(prefix=f"bench_warehouse_{self.engine.lower()}_"))
        self.data_dir = self.root / "data"
        self.target_path = self.root / "dbt_target"
        self.saved = self.root / "saved"
        self.dirty = False
        """Whether the working state has moved on from the saved one."""

    @property
    def target(self) -> WarehouseTarget:
        return WarehouseTarget.from_env({"DATA_DIR": str(self.data_dir)})

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True)
        self.target_path.mkdir()

    def add_events(self, batches: list[Batch], name: str) -> float:
        """Write the batches' events to the raw store; returns the seconds it took."""
        raise NotImplementedError

    def dbt(self, arguments: list[str], label: str, as_of: datetime) -> DbtRun:
        environment = {**self.target.dbt_env(), **as_of_environment_of(as_of)}
        return run_dbt([*arguments, "--target", self.target.dbt_target], environment, self.target_path, label)

    def publish(self) -> float:
        """Publish the snapshot of the marts with the writer lock held, as the Dagster asset does."""
        target = self.target
        started = time.perf_counter()
        with target.writer_lock():
            report = publish_snapshot(target, on_warning=lambda message: print(f"      warning: {message}"))
        seconds = time.perf_counter() - started
        rows = sum(entry.get("rows", 0) for entry in report.manifest["marts"].values())
        print(f"      snapshot {report.build_id} published in {seconds:.2f} s ({rows:,} rows)", flush=True)
        return seconds

    def save(self) -> None:
        print(f"    saving the post-full-refresh state ({_size(self.data_dir)}) ...", flush=True)
        shutil.copytree(self.data_dir, self.saved / "data", copy_function=_link_or_copy)
        shutil.copytree(self.target_path, self.saved / "dbt_target")

    def restore(self) -> None:
        """Back to the saved state, when a scenario has run since."""
        if not self.dirty:
            return
        print("    restoring the post-full-refresh state ...", flush=True)
        for name, path in (("data", self.data_dir), ("dbt_target", self.target_path)):
            shutil.rmtree(path)
            shutil.copytree(self.saved / name, path, copy_function=_link_or_copy)
        self.dirty = False

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


class DuckDBWorkspace(Workspace):
    engine = "DuckDB"

    def prepare(self) -> None:
        super().prepare()
        RawStores(data_dir=self.data_dir).ensure_embedded()

    def add_events(self, batches: list[Batch], name: str) -> float:
        store = RawStores(data_dir=self.data_dir).events_dir
        started = time.perf_counter()
        with duckdb.connect() as connection:
            connection.execute("set threads = 2")
            for number, batch in enumerate(batches):
                connection.execute(
                    f"copy ({event_rows_sql(batch, 'duckdb')}) "
                    f"to '{store / f'{name}-{number:04d}.parquet'}' (format parquet, compression zstd)"
                )
                _progress(batch, started)
        return time.perf_counter() - started


class PostgresWorkspace(Workspace):
    engine = "PostgreSQL"

    def __init__(self, history: History) -> None:
        super().__init__(history)
        self.database = f"bench_warehouse_{uuid.uuid4().hex[:8]}"
        self.saved_database = f"{self.database}_saved"
        base, _, _ = ADMIN_URL.rpartition("/")
        self.url = f"{base}/{self.database}"

    @property
    def target(self) -> WarehouseTarget:
        return WarehouseTarget.from_env({"DATA_DIR": str(self.data_dir), "DATABASE_URL": self.url})

    def prepare(self) -> None:
        super().prepare()
        _admin(f'create database "{self.database}"')
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(POSTGRES_DDL)

    def add_events(self, batches: list[Batch], name: str) -> float:
        started = time.perf_counter()
        with psycopg.connect(self.url, autocommit=True) as connection:
            for batch in batches:
                connection.execute(insert_sql(batch))
                _progress(batch, started)
            connection.execute(f"analyze {RAW_EVENTS_RELATION}")
        return time.perf_counter() - started

    def save(self) -> None:
        super().save()
        print(f"    saving the database as {self.saved_database} ...", flush=True)
        _copy_database(self.database, self.saved_database)

    def restore(self) -> None:
        if not self.dirty:
            return
        super().restore()
        _admin(f'drop database "{self.database}" with (force)')
        _copy_database(self.saved_database, self.database)

    def close(self) -> None:
        try:
            for database in (self.database, self.saved_database):
                _admin(f'drop database if exists "{database}" with (force)')
        finally:
            super().close()


def _admin(sql: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql)


def _copy_database(source: str, destination: str, attempts: int = 20) -> None:
    """`create database ... template`: needs no session on the source; dbt's and the publisher's
    may take a moment to end after they disconnect."""
    for attempt in range(attempts):
        try:
            _admin(f'create database "{destination}" template "{source}" strategy file_copy')
            return
        except psycopg.errors.ObjectInUse:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def _progress(batch: Batch, started: float) -> None:
    print(
        f"      {batch.last:>12,} events ({batch.kind}) after {time.perf_counter() - started:.1f} s",
        flush=True,
    )


def sanity_line(target: WarehouseTarget) -> str:
    """What the marts say about the generated data (SPEC section 5 names), with a warning for
    each sign that the data does not exercise something."""
    built = target.relations()
    missing = [mart for mart in MARTS if mart not in built]
    present = [mart for mart in MARTS if mart in built]
    counts = (
        {
            row["mart"]: row["row_count"]
            for row in target.query(
                " union all ".join(
                    f"select '{mart}' as mart, count(*) as row_count from {mart}" for mart in present
                )
            )
        }
        if present
        else {}
    )
    parts = [", ".join(f"{mart} {counts[mart]:,}" for mart in present)]
    warnings = [f"{mart} is not built" for mart in missing]
    warnings += [f"{mart} is empty" for mart in present if not counts[mart]]
    if {"identity_map", "user_behavior_profile", "user_item_interactions"} <= built:
        browsers = target.query(_SANITY_QUERIES["identity_map"])[0]["browsers"]
        profile = target.query(_SANITY_QUERIES["user_behavior_profile"])[0]
        actors = {
            row["kind"]: row["actors"] for row in target.query(_SANITY_QUERIES["user_item_interactions"])
        }
        parts.append(
            f"identity_map {browsers:,} browsers identified; stitched_events {profile['stitched_events']:,} "
            f"over {profile['stitched_users']:,} of {profile['users']:,} users; actors "
            + " ".join(f"{kind} {actors.get(kind, 0):,}" for kind in ("u:", "a:", "s:"))
        )
        warnings += ["no browser is identified (identity_map)"] if not browsers else []
        warnings += (
            ["no event is stitched (user_behavior_profile.stitched_events)"]
            if not profile["stitched_events"]
            else []
        )
        warnings += [f"no {kind} actor" for kind in ("u:", "a:", "s:") if not actors.get(kind)]
    return "; ".join(parts) + "".join(f"\n      WARNING: {warning}" for warning in warnings)


@contextmanager
def _workspace(kind: type[Workspace], history: History) -> Iterator[Workspace]:
    workspace = kind(history)
    try:
        yield workspace
    finally:
        print(
            f"    removing {workspace.root}"
            + (f" and {workspace.database}" if isinstance(workspace, PostgresWorkspace) else ""),
            flush=True,
        )
        workspace.close()


def bench_history(
    kind: type[Workspace], events: int, scenarios: list[str], new_events: int, results: list[Measurement]
) -> None:
    """One history on one engine: the full refresh, then each scenario from the same state."""
    history = History(events)
    with _workspace(kind, history) as workspace:
        engine = workspace.engine
        print(
            f"\n{engine}: {events:,} events of history ({history.sessions:,} sessions, "
            f"{history.browsers:,} returning browsers, {history.users:,} users) in {workspace.root}",
            flush=True,
        )
        workspace.prepare()
        print("    generating the history ...", flush=True)
        generated = workspace.add_events(history_batches(history, EVENTS_PER_FILE), "history")
        seed = workspace.dbt(["seed"], "dbt seed (the first parse: a full one)", history.end)
        print(f"      wall {seed.wall_seconds:.1f} s · start-up {seed.startup_seconds:.1f} s (to the seeds)")

        def measure(
            run: str, added: int, arguments: list[str], as_of: datetime, label: str, generate_seconds: float
        ) -> None:
            dbt_run = workspace.dbt(arguments, label, as_of)
            full = None if run == FULL_REFRESH else find_measurement(results, engine, events, FULL_REFRESH)
            print_run(dbt_run, added, generate_seconds, full)
            published = workspace.publish()
            results.append(Measurement(engine, events, run, added, dbt_run, published, generate_seconds))
            print(f"      sanity: {sanity_line(workspace.target)}", flush=True)

        measure(
            FULL_REFRESH,
            events,
            ["run", "--full-refresh"],
            history.end,
            "dbt run --full-refresh",
            generated,
        )
        if scenarios:
            workspace.save()
        for key in scenarios:
            scenario = SCENARIOS[key]
            workspace.restore()
            batch = scenario.batch(history, new_events)
            description = scenario.describe(history, new_events)
            print(f"  {engine} {events:,}, scenario {key}: {description}", flush=True)
            seconds = workspace.add_events([batch], key)
            workspace.dirty = True
            measure(
                key,
                batch.last - batch.first,
                ["run"],
                batch.as_of,
                f"dbt run (incremental, {key})",
                seconds,
            )


def _count(text: str) -> int:
    """`1000000`, `1_000_000`, `1M` or `20k`."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 1_000, "m": 1_000_000}.get(text[-1:], 1)
    return int(float(text[:-1] if factor > 1 else text) * factor)


def _counts(text: str) -> list[int]:
    return [_count(part) for part in text.split(",") if part.strip()]


def _scenarios(text: str) -> list[str]:
    keys = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [key for key in keys if key not in SCENARIOS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown scenario {', '.join(unknown)} (choose from {', '.join(SCENARIOS)})"
        )
    return keys


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=_counts, help="DuckDB histories (default 1M,3M,10M; e.g. 30M)")
    parser.add_argument("--pg-sizes", type=_counts, help="PostgreSQL histories (default 1M,3M)")
    parser.add_argument(
        "--scenarios",
        type=_scenarios,
        default=list(SCENARIOS),
        help=f"incremental scenarios after each full refresh (default {','.join(SCENARIOS)})",
    )
    parser.add_argument(
        "--new-events", type=_count, help="events of the new and late scenarios (default 100000)"
    )
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes (20k/50k, 2k new): checks the script in ~2 minutes"
    )
    arguments = parser.parse_args()
    quick = arguments.quick
    sizes = arguments.sizes or ([20_000, 50_000] if quick else [1_000_000, 3_000_000, 10_000_000])
    pg_sizes = arguments.pg_sizes or ([20_000] if quick else [1_000_000, 3_000_000])
    new_events = arguments.new_events or (2_000 if quick else 100_000)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)

    results: list[Measurement] = []
    started = time.perf_counter()
    interrupted = False
    try:
        if not arguments.skip_duckdb:
            for events in sizes:
                bench_history(DuckDBWorkspace, events, arguments.scenarios, new_events, results)
        if not arguments.skip_postgres:
            for events in pg_sizes:
                bench_history(PostgresWorkspace, events, arguments.scenarios, new_events, results)
    except KeyboardInterrupt:
        interrupted = True
        print("\ninterrupted: the temporary places are removed; the figures so far are below", flush=True)
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nbenchmark took {time.perf_counter() - started:.0f} s "
          f"(its own process peaked at {own_peak:,.0f} MB, not counted in dbt's peak)")  # fmt: skip
    if results:
        print_summary(results)
        references = (
            References.quick_sizes(sizes, pg_sizes, new_events)
            if quick
            else References(new_events=new_events)
        )
        print_targets(results, references)
    if interrupted:
        raise SystemExit(130)


if __name__ == "__main__":
    main()
