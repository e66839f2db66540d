"""The website's read endpoints (SPEC section 2), served from the published marts, never the warehouse.

- `GET /api/trending?limit=N` (default 20, 1..100) → `{"asOf", "perfumes": [{"rank", "perfumeId",
  "trendingScore", "views24h", "velocity"}]}`, by rank;
- `GET /api/perfumes/{id}/stats` → `{"asOf", …its perfume_interaction_stats row}`, 404 without a row;
- `GET /api/me/profile` → `{"asOf", …the Bearer user's own user_behavior_profile row}`: 401 without
  a verified user (there is no way to ask for anyone else's), 404 when they have no profile.

Where the rows come from: embedded mode reads the current published snapshot
(`ingest_service/storage/snapshots.py`: the whole answer from one build, re-read when `CURRENT`
moves); PostgreSQL mode (`DATABASE_URL` set) reads the marts in place in `DBT_PG_SCHEMA` through a
small pool of its own (`INGEST_READ_DATABASE_URL` may name a read-only role). `asOf` is the as_of of
the build the mart's rows come from, from the same record in both modes
(`ingest_service/storage/mart_builds.py`). Before the first build: 503 with `Retry-After`.

Caching: `Cache-Control: max-age=INGEST_READ_CACHE_SECONDS` (public for the aggregates, private
for the profile, with `Vary: Authorization`), and an `ETag` naming the build (for the profile, the
build and a hash of the user, so a browser shared by two users never revalidates one's profile
into the other's); `If-None-Match` with the current ETag answers 304 without a body.
"""

from __future__ import annotations

import asyncio
import decimal
import hashlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Protocol

import msgspec
import psycopg
import pyarrow as pa
from litestar import Litestar, Request, Response, get
from litestar.exceptions import ValidationException
from litestar.params import Parameter, PathParameter
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from ingest_service.errors import JSON, IngestError, Unauthorized
from ingest_service.identity import identify
from ingest_service.openapi_contract import contract_operation
from ingest_service.payloads import PerfumeStatsBody, TrendingBody, TrendingPerfume, UserProfileBody, camel
from ingest_service.settings import Settings
from ingest_service.storage.mart_builds import MartBuild, latest_builds, latest_builds_sql, mart_build
from ingest_service.storage.sinks import open_pool
from ingest_service.storage.snapshots import (
    SnapshotError,
    SnapshotReader,
    snapshots_dir,
)

logger = logging.getLogger("ingest_service.read_api")

TRENDING = "trending_perfumes"
PERFUME_STATS = "perfume_interaction_stats"
PROFILE = "user_behavior_profile"
READ_MARTS = (TRENDING, PERFUME_STATS, PROFILE)
DEFAULT_TRENDING_LIMIT = 20
MAX_TRENDING_LIMIT = 100
JSON_COLUMNS = ("preferred_houses", "preferred_notes", "preferred_price_range")
RETRY_AFTER_S = 30


def _plain(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def body_of(struct: type[msgspec.Struct], row: Mapping[str, Any], as_of: datetime | None = None) -> Any:
    """A mart row (snake_case columns, JSON as text or parsed) as a response struct (with `asOf`)."""
    values = {camel(name): _plain(value) for name, value in row.items()}
    for name in JSON_COLUMNS:
        if isinstance(values.get(camel(name)), str):
            values[camel(name)] = json.loads(values[camel(name)])
    if as_of is not None:
        values["asOf"] = as_of
    return msgspec.convert(values, struct)


# ---------------------------------------------------------------------------- errors


class ResultsNotBuilt(IngestError):
    """Nothing to serve yet: no build has published the mart."""

    status_code = 503

    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} are not built yet: they appear after the first pipeline run",
            {"Retry-After": str(RETRY_AFTER_S)},
        )


class ResultsUnavailable(IngestError):
    status_code = 503

    def __init__(self) -> None:
        super().__init__(
            "Results are unavailable right now; retry later", {"Retry-After": str(RETRY_AFTER_S)}
        )


class NotFound(IngestError):
    status_code = 404


# ---------------------------------------------------------------------------- where rows come from


@dataclass(frozen=True)
class Served:
    """Rows of one mart and the build they come from."""

    build: str
    """Identifies the build (the snapshot's id, or the PostgreSQL build's start): the ETag's basis."""
    as_of: datetime
    rows: list[dict[str, Any]]


class MartSource(Protocol):
    name: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def trending(self, limit: int) -> Served: ...

    async def row(self, mart: str, key: str) -> Served:
        """The row of `mart` whose key (perfume_id / user_id) is `key` (rows empty when none)."""


KEY_COLUMNS = {PERFUME_STATS: "perfume_id", PROFILE: "user_id"}


@dataclass(frozen=True)
class _IndexedSnapshot:
    build_id: str
    as_of: Mapping[str, datetime]
    tables: Mapping[str, pa.Table]
    trending: list[dict[str, Any]]
    positions: Mapping[str, Mapping[str, int]]


def _positions(table: pa.Table, column: str) -> dict[str, int]:
    return {key: index for index, key in enumerate(table[column].to_pylist())}


class SnapshotSource:
    """The current published snapshot, indexed by key once per build (embedded mode)."""

    name = "snapshot"

    def __init__(self, data_dir: Path) -> None:
        self.reader = SnapshotReader(snapshots_dir(data_dir), READ_MARTS)
        self._lock = threading.Lock()
        self._indexed: _IndexedSnapshot | None = None

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    def _load(self) -> _IndexedSnapshot | None:
        with self._lock:
            snapshot = self.reader.current()
            if snapshot is None:
                self._indexed = None
            elif self._indexed is None or self._indexed.build_id != snapshot.build_id:
                present = [mart for mart in READ_MARTS if snapshot.has(mart)]
                trending = snapshot.tables[TRENDING].sort_by("rank") if TRENDING in present else None
                self._indexed = _IndexedSnapshot(
                    build_id=snapshot.build_id,
                    as_of={mart: snapshot.mart_as_of(mart) for mart in present},
                    tables={mart: snapshot.tables[mart] for mart in present},
                    trending=trending.slice(0, MAX_TRENDING_LIMIT).to_pylist() if trending else [],
                    positions={
                        mart: _positions(snapshot.tables[mart], column)
                        for mart, column in KEY_COLUMNS.items()
                        if mart in present
                    },
                )
            return self._indexed

    async def _current(self, mart: str) -> _IndexedSnapshot:
        fresh, _ = self.reader.cached()
        indexed = self._indexed if fresh else None
        if indexed is None:
            try:
                indexed = await asyncio.to_thread(self._load)
            except SnapshotError as error:
                logger.error("cannot read the published snapshot: %s", error)
                raise ResultsUnavailable() from error
        if indexed is None or mart not in indexed.tables:
            raise ResultsNotBuilt(f"{mart} results")
        return indexed

    async def trending(self, limit: int) -> Served:
        indexed = await self._current(TRENDING)
        return Served(indexed.build_id, indexed.as_of[TRENDING], indexed.trending[:limit])

    async def row(self, mart: str, key: str) -> Served:
        indexed = await self._current(mart)
        position = indexed.positions[mart].get(key)
        rows = [] if position is None else indexed.tables[mart].slice(position, 1).to_pylist()
        return Served(indexed.build_id, indexed.as_of[mart], rows)


_POSTGRES_DOWN = (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout, OSError)


class PostgresSource:
    """The marts in place in PostgreSQL (`DBT_PG_SCHEMA`), through a small pool of their own."""

    name = "postgres"

    def __init__(self, database_url: str, schema: str, pool_size: int, timeout_s: float) -> None:
        self._database_url = database_url
        self._schema = schema
        self._pool_size = pool_size
        self._timeout_s = timeout_s
        self._pool: AsyncConnectionPool | None = None

    async def open(self) -> None:
        self._pool = await open_pool(
            self._database_url,
            self._pool_size,
            self._timeout_s,
            "reads",
            row_factory=dict_row,
            application_name="ingest_service_reads",
            # the answers are in UTC, and this pool never writes (whatever role it connects as)
            options="-c timezone=UTC -c default_transaction_read_only=on",
        )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    def _relation(self, mart: str) -> str:
        return f'"{self._schema}"."{mart}"'

    async def _served(self, mart: str, sql: str, parameters: tuple[Any, ...]) -> Served:
        try:
            async with self._pool.connection() as connection:
                state = await connection.execute(latest_builds_sql(self._schema))
                builds = latest_builds(await state.fetchall())
                rows = await (await connection.execute(sql, parameters)).fetchall()
        except psycopg.errors.UndefinedTable as error:  # the schema, the state table or the mart
            raise ResultsNotBuilt(f"{mart} results") from error
        except _POSTGRES_DOWN as error:
            logger.warning("PostgreSQL marts unreachable: %s", type(error).__name__)
            raise ResultsUnavailable() from error
        except psycopg.Error as error:  # e.g. a read role without the grants of the README
            logger.error("reading %s from PostgreSQL failed: %s", mart, error)
            raise ResultsUnavailable() from error
        build = mart_build(builds, mart)
        if build is None:
            raise ResultsNotBuilt(f"{mart} results")
        return Served(_build_label(build), build.as_of, rows)

    async def trending(self, limit: int) -> Served:
        sql = f"select * from {self._relation(TRENDING)} order by rank limit %s"
        return await self._served(TRENDING, sql, (limit,))

    async def row(self, mart: str, key: str) -> Served:
        sql = f"select * from {self._relation(mart)} where {KEY_COLUMNS[mart]} = %s"
        return await self._served(mart, sql, (key,))


def _build_label(build: MartBuild) -> str:
    return "pg-" + build.built_at.strftime("%Y%m%dT%H%M%S.%fZ")


def make_source(settings: Settings) -> MartSource:
    read = settings.read
    if settings.storage.uses_postgres and read.database_url:
        return PostgresSource(read.database_url, read.marts_schema, read.pool_size,
                              settings.storage.connect_timeout_s)  # fmt: skip
    return SnapshotSource(settings.storage.data_dir)


def read_lifespan(settings: Settings) -> Callable[[Litestar], Any]:
    """The read source of the app (`app.state.reads`), opened and closed with it."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        source = make_source(settings)
        await source.open()
        app.state.reads = ReadEndpoints(source, settings)
        try:
            yield
        finally:
            await source.close()

    return lifespan


# ---------------------------------------------------------------------------- HTTP


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = [candidate.strip().removeprefix("W/") for candidate in header.split(",")]
    return "*" in candidates or etag in candidates


class ReadEndpoints:
    def __init__(self, source: MartSource, settings: Settings) -> None:
        self.source = source
        self.settings = settings

    def respond(self, request: Request, body: msgspec.Struct, etag: str, private: bool = False) -> Response:
        scope = "private" if private else "public"
        headers = {"ETag": etag, "Cache-Control": f"{scope}, max-age={self.settings.read.cache_max_age_s}"}
        if private:
            headers["Vary"] = "Authorization"
        if _etag_matches(request.headers.get("if-none-match"), etag):
            return Response(b"", status_code=304, headers=headers)
        return Response(msgspec.json.encode(body), media_type=JSON, headers=headers)


def _reads(request: Request) -> ReadEndpoints:
    return request.app.state.reads


LIMIT_RULE = f"limit: must be an integer from 1 to {MAX_TRENDING_LIMIT} (default {DEFAULT_TRENDING_LIMIT})"


def _limit_error(_: Request, __: ValidationException) -> Response:
    # `limit` is the only parameter Litestar validates on these routes; its message names no rule
    return Response({"error": LIMIT_RULE}, status_code=400, media_type=JSON)


def _read_route(path: str, openapi_path: str, summary: str, **options: Any) -> Callable[[Any], Any]:
    """`@get` for a read endpoint, documented by the contract (`openapi_contract.RESPONSES`)."""
    operation = contract_operation("get", openapi_path)
    return get(path, summary=summary, operation_class=operation, tags=["read"], **options)


@_read_route(
    "/api/trending",
    "/api/trending",
    "Trending perfumes, by rank",
    description="From the latest published build: the top `limit` perfumes of `trending_perfumes`.",
    exception_handlers={ValidationException: _limit_error},
)
async def trending(
    request: Request,
    limit: int = Parameter(
        default=DEFAULT_TRENDING_LIMIT, ge=1, le=MAX_TRENDING_LIMIT, description="How many perfumes (1..100)"
    ),
) -> Response:
    reads = _reads(request)
    served = await reads.source.trending(limit)
    body = TrendingBody(as_of=served.as_of, perfumes=[body_of(TrendingPerfume, row) for row in served.rows])
    return reads.respond(request, body, f'"{served.build}"')


@_read_route(
    "/api/perfumes/{perfume_id:str}/stats", "/api/perfumes/{perfume_id}/stats", "One perfume's stats"
)
async def perfume_stats(
    request: Request, perfume_id: Annotated[str, PathParameter(description="The perfume's id")]
) -> Response:
    reads = _reads(request)
    served = await reads.source.row(PERFUME_STATS, perfume_id)
    if not served.rows:
        raise NotFound(f"no stats for perfume {perfume_id[:64]!r}")
    body = body_of(PerfumeStatsBody, served.rows[0], served.as_of)
    return reads.respond(request, body, f'"{served.build}"')


@_read_route(
    "/api/me/profile",
    "/api/me/profile",
    "The caller's own behaviour profile",
    description="Needs `Authorization: Bearer <token>`; answers that user's profile and nobody else's.",
)
async def my_profile(request: Request) -> Response:
    reads = _reads(request)
    # X-Api-Key is not asked for: a server client is nobody's "me"
    caller = identify(request.headers.get("authorization"), None, reads.settings.security)
    if caller.user_id is None:
        raise Unauthorized("a Bearer token is needed: the profile is the token's user's own")
    served = await reads.source.row(PROFILE, caller.user_id)
    if not served.rows:
        raise NotFound("no profile for this user yet")
    whose = hashlib.sha256(caller.user_id.encode()).hexdigest()[:16]
    body = body_of(UserProfileBody, served.rows[0], served.as_of)
    return reads.respond(request, body, f'"{served.build}-{whose}"', private=True)


READ_ROUTES = [trending, perfume_stats, my_profile]
