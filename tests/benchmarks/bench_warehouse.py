"""Warehouse benchmark: full refresh and incremental dbt runs on DuckDB and PostgreSQL.

    python -m tests.benchmarks.bench_warehouse [--events 10000000] [--pg-events 1000000]
                                               [--skip-postgres] [--skip-duckdb]

For each engine: generate N events spread over 90 days (DuckDB SQL straight into Parquet files
of a temporary DATA_DIR; PostgreSQL `generate_series` into the raw table of a temporary
database), run `dbt run --full-refresh`, add 1% more events received after the others, run
`dbt run` again (incremental), and print wall time, dbt's own execution time and the peak memory
(max RSS) of the dbt process. Targets on 2 cores: DuckDB full refresh of 10M <= 60 s,
incremental <= 10% of it; PostgreSQL full refresh of 1M <= 60 s.
Everything is created in temporary places and removed at the end.
"""

# ruff: noqa: E501  (generated-event SQL reads best one column per line)
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import psycopg

from ingest_service.storage.locations import RawStores
from ingest_service.storage.raw_schema import POSTGRES_DDL
from orchestration.dbt_project import dbt_executable
from orchestration.warehouse import DBT_PROJECT_DIR as PROJECT_DIR
from orchestration.warehouse import WarehouseTarget

START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=90)
EVENTS_PER_FILE = 1_000_000
ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")

# (event_type, category, carries a perfume) - drawn with the weights of a perfume site's traffic
EVENT_MIX = [
    ("PAGE_VIEW", "VIEW", False),
    ("PERFUME_VIEW", "VIEW", True),
    ("PERFUME_VIEW", "VIEW", True),
    ("PERFUME_VIEW", "VIEW", True),
    ("HOUSE_VIEW", "VIEW", False),
    ("SEARCH_PERFORMED", "SEARCH", False),
    ("SEARCH_RESULT_CLICKED", "SEARCH", True),
    ("FILTER_APPLIED", "FILTER", False),
    ("RATING_COMPLETED", "RATING", True),
    ("REVIEW_SUBMITTED", "REVIEW", True),
    ("WISHLIST_ADD", "WISHLIST", True),
    ("WISHLIST_REMOVE", "WISHLIST", True),
    ("COLLECTION_ADD", "COLLECTION", True),
    ("IMAGE_VIEWED", "ENGAGEMENT", False),
    ("NOTES_EXPANDED", "ENGAGEMENT", False),
    ("SIMILAR_CLICKED", "ENGAGEMENT", True),
    ("POST_VIEW", "VIEW", False),
    ("POST_LIKE", "ENGAGEMENT", False),
]


def _case(index_expression: str, column: int) -> str:
    branches = " ".join(
        f"when {position} then '{entry[column]}'"
        if column < 2
        else f"when {position} then {str(entry[2]).lower()}"
        for position, entry in enumerate(EVENT_MIX)
    )
    return f"case {index_expression} {branches} end"


def event_rows_sql(first: int, last: int, total: int, dialect: str) -> str:
    """SELECT of generated raw events number first..last-1 of `total` (both dialects).

    Events arrive in order over 90 days; ten consecutive events make a session, half of the
    sessions belong to one of 100k users; 300 perfumes, 1000 posts; searches list 3 perfumes."""
    step_us = int(SPAN.total_seconds() * 1_000_000 / total)
    start = START.strftime("%Y-%m-%d %H:%M:%S+00")
    if dialect == "duckdb":
        numbers = f"range({first}, {last}) as numbers(i)"
        hashed = "abs(hash(i * 7919))"
        session_hash = "abs(hash(i // 10))"
        uuid_expression = "cast(uuid() as varchar)"
        micros = f"to_microseconds(i * {step_us})"
        seconds = "to_seconds"
        pad = "lpad(cast({} as varchar), 4, '0')"
    else:
        numbers = f"generate_series({first}::bigint, {last - 1}::bigint) as numbers(i)"
        hashed = "abs(hashint8(i::bigint * 7919)::bigint)"
        session_hash = "abs(hashint8(i::bigint / 10)::bigint)"
        uuid_expression = "gen_random_uuid()"
        micros = f"make_interval(secs => i * {step_us} / 1000000.0)"
        seconds = "make_interval(secs => {})"
        pad = "lpad(({})::text, 4, '0')"
    seconds_expr = (lambda value: f"{seconds}({value})") if dialect == "duckdb" else seconds.format
    mix = f"({hashed} % {len(EVENT_MIX)})"
    perfume = "'p' || " + pad.format(
        f"({hashed} // 7) % 300 + 1" if dialect == "duckdb" else f"({hashed} / 7) % 300 + 1"
    )
    listed = "'p' || " + pad.format(
        f"({hashed} // 11) % 298 + 1" if dialect == "duckdb" else f"({hashed} / 11) % 298 + 1"
    )
    int_division = "//" if dialect == "duckdb" else "/"
    json_type = "varchar" if dialect == "duckdb" else "jsonb"
    return f"""
        select
            {uuid_expression} as event_id,
            received_at,
            received_at - {seconds_expr(f"{hashed} % 120")} as occurred_at,
            's' || cast(i {int_division} 10 as varchar) as session_id,
            case when {session_hash} % 2 = 0 then 'u' || cast({session_hash} % 100000 as varchar) end as user_id,
            {_case(mix, 0)} as event_type,
            {_case(mix, 1)} as event_category,
            case when {_case(mix, 2)} then {perfume} end as perfume_id,
            case when {_case(mix, 0)} = 'HOUSE_VIEW' then 'h0' || cast({hashed} % 30 + 10 as varchar) end as house_id,
            case when {_case(mix, 0)} like 'POST_%' then 'post' || cast({hashed} % 1000 as varchar) end as post_id,
            '/page/' || cast({hashed} % 50 as varchar) as path,
            cast(null as varchar) as referrer,
            'Mozilla/5.0' as user_agent,
            case when {session_hash} % 3 = 0 then 'mobile' else 'desktop' end as device_type,
            'Chrome' as browser,
            'Linux' as os,
            {hashed} % 100 = 0 as is_bot,
            cast(case when {hashed} % 2 = 0 then {hashed} % 60000 end as integer) as duration_ms,
            cast(case when {_case(mix, 0)} = 'POST_VIEW' then {hashed} % 101 end as integer) as scroll_depth,
            case when {_case(mix, 0)} = 'RATING_COMPLETED' then cast({hashed} % 5 + 1 as double precision) end as value,
            cast(null as varchar) as source,
            cast(case when {_case(mix, 0)} = 'SEARCH_PERFORMED'
                then '{{"query":"rose","resultPerfumeIds":["' || {listed} || '","p0299","p0300"]}}'
                else '{{}}' end as {json_type}) as event_data
        from (select i, cast('{start}' as timestamptz) + {micros} as received_at from {numbers}) as generated
    """


#: the models of the recommender's and the retention marts (issue 12), whose share of a run is printed
RECOMMENDATION_MODELS = (
    "int_actor_item_stats",
    "user_item_interactions",
    "int_user_active_weeks",
    "weekly_retention_cohorts",
)


@dataclass
class DbtRun:
    wall_seconds: float
    dbt_seconds: float
    peak_rss_mb: float
    model_seconds: dict[str, float]
    """Execution time of each model (dbt's run_results.json); empty for commands other than run."""

    def share(self, models: tuple[str, ...]) -> tuple[float, float]:
        """(seconds, fraction of all models' seconds) spent in `models`."""
        spent = sum(self.model_seconds.get(model, 0.0) for model in models)
        return spent, spent / max(sum(self.model_seconds.values()), 1e-9)


def _model_seconds(target_path: Path) -> dict[str, float]:
    """model name → execution time in the last run (from dbt's run_results.json)."""
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    return {result["unique_id"].rsplit(".", 1)[-1]: result["execution_time"] for result in results}


def _print_slowest_models(model_seconds: dict[str, float], count: int = 6) -> None:
    for model, seconds in sorted(model_seconds.items(), key=lambda item: item[1], reverse=True)[:count]:
        print(f"      {seconds:6.1f} s  {model}")


def run_dbt(arguments: list[str], environment: dict[str, str], label: str) -> DbtRun:
    """Run dbt as a child process (its own peak memory is then measurable) and time it."""
    print(f"  {label} ...", flush=True)
    # dbt's artefacts go to the benchmark's own place, not the project's shared target/
    target_path = Path(environment["BENCH_TARGET_PATH"])
    started = time.perf_counter()
    command = [dbt_executable(), *arguments, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
               "--target-path", str(target_path)]  # fmt: skip
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        process = subprocess.Popen(
            command, env={**os.environ, **environment}, stdout=stdout, stderr=stderr, text=True
        )
        # wait4 gives this child's own peak memory (RUSAGE_CHILDREN would be the max over all runs)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        stdout.seek(0), stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    if process.returncode != 0:
        sys.exit(f"dbt {' '.join(arguments)} failed:\n{output[-4000:]}\n{errors[-2000:]}")
    finished = re.search(r"in (\d+) hours (\d+) minutes and ([\d.]+) seconds", output)
    model_seconds = _model_seconds(target_path) if arguments[0] == "run" else {}
    _print_slowest_models(model_seconds)
    in_dbt = (
        int(finished.group(1)) * 3600 + int(finished.group(2)) * 60 + float(finished.group(3))
        if finished
        else wall
    )
    return DbtRun(wall, in_dbt, usage.ru_maxrss / 1024, model_seconds)


def _report(engine: str, events: int, full: DbtRun, incremental: DbtRun, generated_seconds: float) -> None:
    ratio = incremental.wall_seconds / full.wall_seconds
    print(f"\n{engine}: {events:,} events generated in {generated_seconds:.1f} s")
    print(f"  full refresh : {full.wall_seconds:6.1f} s wall, {full.dbt_seconds:6.1f} s in dbt models")
    print(
        f"  incremental  : {incremental.wall_seconds:6.1f} s wall, {incremental.dbt_seconds:6.1f} s in dbt models"
        f"  (+1% events; {ratio:.0%} of the full refresh wall time)"
    )
    print(f"  peak memory of dbt: {max(full.peak_rss_mb, incremental.peak_rss_mb):,.0f} MB (max RSS)")
    for label, run in (("full refresh", full), ("incremental", incremental)):
        seconds, fraction = run.share(RECOMMENDATION_MODELS)
        print(
            f"  user_item_interactions + weekly_retention_cohorts (with their intermediates) in the {label}: "
            f"{seconds:.1f} s, {fraction:.0%} of the models' time"
        )


def bench_duckdb(events: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_warehouse_") as data_dir:
        stores = RawStores(data_dir=Path(data_dir))
        store = stores.events_dir
        store.mkdir(parents=True)
        stores.privacy_dir.mkdir(parents=True)
        print(f"DuckDB: generating {events:,} events into {store} ...", flush=True)
        started = time.perf_counter()
        total = events + events // 100
        with duckdb.connect() as connection:
            connection.execute("set threads = 2")
            for first in range(0, events, EVENTS_PER_FILE):
                last = min(first + EVENTS_PER_FILE, events)
                connection.execute(
                    f"copy ({event_rows_sql(first, last, total, 'duckdb')}) "
                    f"to '{store / f'{first:012d}.parquet'}' (format parquet, compression zstd)"
                )
            connection.execute(
                "copy (select 'nobody' as user_id, 'opt_in' as action, "
                f"cast('{START.isoformat()}' as timestamptz) as requested_at) "
                f"to '{stores.privacy_dir / 'log.parquet'}' (format parquet)"
            )
        generated = time.perf_counter() - started
        target = WarehouseTarget.from_env({"DATA_DIR": data_dir})
        environment = {**target.dbt_env(), "BENCH_TARGET_PATH": str(Path(data_dir) / "dbt_target")}
        end_of_first = START + SPAN * events / total
        run_dbt(["seed"], environment, "dbt seed (and parse)")
        full = run_dbt(
            ["run", "--full-refresh", "--vars", f"{{as_of: '{end_of_first.isoformat()}'}}"],
            environment,
            "dbt run --full-refresh",
        )
        with duckdb.connect() as connection:
            connection.execute(
                f"copy ({event_rows_sql(events, total, total, 'duckdb')}) "
                f"to '{store / 'incremental.parquet'}' (format parquet, compression zstd)"
            )
        incremental = run_dbt(
            ["run", "--vars", f"{{as_of: '{(START + SPAN).isoformat()}'}}"],
            environment,
            "dbt run (incremental, +1%)",
        )
        _report("DuckDB", events, full, incremental, generated)


def bench_postgres(events: int) -> None:
    database = f"bench_warehouse_{uuid.uuid4().hex[:8]}"
    base, _, _ = ADMIN_URL.rpartition("/")
    url = f"{base}/{database}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'create database "{database}"')
    target_dir = tempfile.mkdtemp(prefix="bench_warehouse_target_")
    try:
        print(
            f"\nPostgreSQL: generating {events:,} events into {database}.raw.interaction_events ...",
            flush=True,
        )
        total = events + events // 100
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(POSTGRES_DDL)
            connection.execute(
                f"insert into raw.interaction_events {event_rows_sql(0, events, total, 'postgres')}"
            )
            connection.execute("analyze raw.interaction_events")
        generated = time.perf_counter() - started
        target = WarehouseTarget.from_env({"DATA_DIR": target_dir, "DATABASE_URL": url})
        environment = {**target.dbt_env(), "BENCH_TARGET_PATH": target_dir}
        end_of_first = START + SPAN * events / total
        run_dbt(["seed", "--target", "prod"], environment, "dbt seed (and parse)")
        full = run_dbt(
            [
                "run",
                "--target",
                "prod",
                "--full-refresh",
                "--vars",
                f"{{as_of: '{end_of_first.isoformat()}'}}",
            ],
            environment,
            "dbt run --full-refresh",
        )
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(
                f"insert into raw.interaction_events {event_rows_sql(events, total, total, 'postgres')}"
            )
        incremental = run_dbt(
            ["run", "--target", "prod", "--vars", f"{{as_of: '{(START + SPAN).isoformat()}'}}"],
            environment,
            "dbt run (incremental, +1%)",
        )
        _report("PostgreSQL", events, full, incremental, generated)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'drop database if exists "{database}" with (force)')
        shutil.rmtree(target_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=10_000_000, help="DuckDB events (default 10M)")
    parser.add_argument("--pg-events", type=int, default=1_000_000, help="PostgreSQL events (default 1M)")
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    arguments = parser.parse_args()
    if not arguments.skip_duckdb:
        bench_duckdb(arguments.events)
    if not arguments.skip_postgres:
        bench_postgres(arguments.pg_events)


if __name__ == "__main__":
    main()
