"""SPEC section 6 on the real project: whatever the stream and however it is split into runs,
the incrementally maintained marts equal a full refresh over the same raw events and as_of.

The stream has late and out-of-order events, retried deliveries (including an "earlier"
duplicate arriving in a later run, sometimes with another session), as_of moving forwards
and backwards, opt-out, opt-in and erasure between runs, and a behaviour-bot threshold low
enough that sessions flip in and out of it.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.dbt_project.dbt_invocation import Warehouse, duckdb_warehouse, postgres_warehouse
from tests.dbt_project.event_streams import USERS, EventStream
from tests.dbt_project.mart_tables import MART_KEYS, mart_differences
from tests.dbt_project.raw_store import append_events, append_privacy_request, erase_user

# low enough that a few sessions of the random stream trip it, and stop tripping it on erasure
BOT_RULE = {
    "bot_session_min_events": 12,
    "bot_session_window_seconds": 7200,
    "exclude_behaviour_bot_sessions": True,
}
START = datetime(2026, 3, 1, tzinfo=UTC)


def _full_refresh_twin(warehouse: Warehouse, work_dir: Path) -> Warehouse:
    """A second warehouse over the same raw store, for the full refresh to compare with."""
    twin = Warehouse(
        target=warehouse.target,
        work_dir=work_dir / "twin",
        env=dict(warehouse.env),
        postgres_url=warehouse.postgres_url,
    )
    if warehouse.target == "dev":
        (work_dir / "twin").mkdir(parents=True, exist_ok=True)
        twin.env["DBT_DUCKDB_PATH"] = str(work_dir / "twin" / "warehouse.duckdb")
    else:
        twin.env["DBT_PG_SCHEMA"] = warehouse.env["DBT_PG_SCHEMA"] + "_full"
    return twin


def _run_scenario(warehouse: Warehouse, twin: Warehouse, seed: int, runs: int) -> None:
    pick = random.Random(seed)
    stream = EventStream(seed, START)
    as_of = START
    warehouse.dbt("seed")
    if warehouse.target == "dev":
        twin.manifest = warehouse.manifest  # same raw store and database name: same parsed project
    twin.dbt("seed")
    for run in range(runs):
        append_events(warehouse, stream.next_batch(pick.randint(15, 60)))
        action = pick.choice(["none", "none", "opt_out", "opt_in", "erase"])
        user = pick.choice(USERS)
        if action == "erase":
            erase_user(warehouse, user, stream.clock)
        elif action != "none":
            append_privacy_request(
                warehouse, user, action, stream.clock - timedelta(hours=pick.uniform(0, 48))
            )
        # as_of mostly follows the clock, sometimes stays behind it or moves backwards
        as_of = pick.choice([stream.clock, stream.clock - timedelta(hours=6), as_of - timedelta(hours=3)])
        as_of_text = as_of.isoformat()
        warehouse.dbt("run", as_of=as_of_text, extra_vars=BOT_RULE)
        if run in (runs // 2, runs - 1):
            twin.dbt("run", "--full-refresh", as_of=as_of_text, extra_vars=BOT_RULE)
            problems = [p for mart in MART_KEYS for p in mart_differences(warehouse, twin, mart)]
            assert not problems, f"seed {seed}, run {run}, action {action}:\n" + "\n".join(problems[:20])


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1])
def test_duckdb_incremental_runs_equal_a_full_refresh(tmp_path: Path, seed: int) -> None:
    warehouse = duckdb_warehouse(tmp_path)
    _run_scenario(warehouse, _full_refresh_twin(warehouse, tmp_path), seed, runs=6)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgres_incremental_runs_equal_a_full_refresh(tmp_path: Path, postgres_url: str) -> None:
    warehouse = postgres_warehouse(tmp_path, postgres_url)
    _run_scenario(warehouse, _full_refresh_twin(warehouse, tmp_path), seed=7, runs=3)
