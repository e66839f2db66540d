"""Which dbt build a mart comes from: its `as_of` and when that build started, read from the warehouse.

dbt records every build of an incremental model and mart in the model `incremental_manifest`
(`model_name`, `built_at` = the dbt run's start, `as_of` = the run's `as_of`, or its start when
unset; see `dbt_project/models/incremental/` and `dbt_project/macros/incremental_state.sql`).
That table is the one record, inside the warehouse,
of the moment the marts were computed at, so both readers take a mart's `as_of` from it: the
published snapshots (`orchestration/snapshots.py`, written into their manifest) and the read
endpoints in PostgreSQL mode (`ingest_service/read_api.py`), which read the marts in place.

The rule, per mart:
- the mart's own latest row, when the mart records its builds (`record_build()` as a
  post-hook: `sessions` does; every mart should);
- else the latest row of any model: the as_of of the newest dbt run. Every run builds staging's
  incremental models, so that row is the run that just finished; it is the mart's own as_of
  whenever that run built the mart (every job of this project selects whole upstream chains, and
  the snapshot asset runs right after the marts it publishes). A mart that the newest run did not
  build (the hourly job leaves `user_behavior_profile` alone) would be stamped with that newer
  as_of, which is why every mart should record its own builds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

BUILD_STATE_TABLE = "incremental_manifest"


def latest_builds_sql(schema: str | None = None) -> str:
    """The latest recorded build of every model; `schema` qualifies the table (None: search path).

    Plain SQL that DuckDB and PostgreSQL both run; the table holds a few rows per dbt run."""
    table = f'"{schema}".{BUILD_STATE_TABLE}' if schema else BUILD_STATE_TABLE
    return f"""
select model_name, built_at, as_of from (
    select model_name, built_at, as_of,
        row_number() over (partition by model_name order by built_at desc, as_of desc) as recency
    from {table}
) as latest
where recency = 1
"""


@dataclass(frozen=True)
class MartBuild:
    """The build a mart's rows come from."""

    as_of: datetime
    """The moment the mart was computed at (UTC)."""
    built_at: datetime
    """When that dbt run started (UTC): identifies the build."""
    recorded: bool
    """True when the mart recorded this build itself; False when it is the newest run's (see above)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "built_at": self.built_at.isoformat(),
            "as_of_recorded_by_mart": self.recorded,
        }


def _utc(value: datetime) -> datetime:
    # the state table holds UTC `timestamp`s without a zone
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def latest_builds(rows: Iterable[Mapping[str, Any]]) -> dict[str, MartBuild]:
    """model name → its latest build, from the rows of `latest_builds_sql()`."""
    return {
        str(row["model_name"]): MartBuild(_utc(row["as_of"]), _utc(row["built_at"]), recorded=True)
        for row in rows
    }


def newest_run(builds: Mapping[str, MartBuild]) -> MartBuild | None:
    """The newest dbt run recorded (None before the first build)."""
    if not builds:
        return None
    newest = max(builds.values(), key=lambda build: (build.built_at, build.as_of))
    return MartBuild(as_of=newest.as_of, built_at=newest.built_at, recorded=False)


def mart_build(builds: Mapping[str, MartBuild], mart: str) -> MartBuild | None:
    """The build `mart`'s rows come from, by the module docstring's rule; None before the first build."""
    return builds.get(mart) or newest_run(builds)
