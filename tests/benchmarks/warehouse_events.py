"""Generated raw events for the warehouse benchmark: a history and the batches that follow it.

All generation is one SQL query per batch, in either dialect (DuckDB `range` → Parquet,
PostgreSQL `generate_series` → the raw table), so 10M events take seconds, not minutes.

The site the history describes (90 days, ten consecutive events per session):
- most sessions come from a **returning browser** (an `anonymous_id` kept across sessions): browser
  `b` visits once in every block of `browsers` consecutive sessions (session `s` belongs to browser
  `s * P mod browsers`, a permutation, so a browser's visits are scattered over the whole history);
  its visit number is `s div browsers` (about four visits in the history);
- 70 % of those browsers belong to a user (users have ~1.5 browsers each: returning users across
  devices); the user logs in on visit 0..4 of that browser: earlier visits are anonymous, the login
  visit has four anonymous events, a `USER_IDENTIFIED` event carrying both ids, then events with the
  user id; later visits carry the user id throughout. Visit 4 is after the history, so a fifth of
  those browsers log in for the first time in the batches that follow (an identity change that
  moves their earlier events from an `a:` actor to a `u:` one);
- the other 30 % never log in (one `a:` actor over all their sessions);
- 10 % of sessions are one-off browsers, 2 % sessions without an anonymous id that log in midway
  (stitched by session), 2 % anonymous sessions without any id (`s:` actors), 1 % crawler sessions
  (`is_bot`, removed by staging).
Event types follow `EVENT_MIX`; every mart gets rows: perfumes (300, the catalog's), houses (the
catalog's 30), posts (1000), ratings, wishlists, collections, searches listing `resultPerfumeIds`.

The batches after the history (`Batch`): its continuation (`stream`: "+1 %"), a new hour of new
sessions from the returning browsers (`new_hour`), and late events received now that occurred
inside existing sessions all over the history (`late`).
"""

# ruff: noqa: E501  (generated-event SQL reads best one column per line)
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ingest_service.event_types import EVENT_TYPES
from ingest_service.storage.raw_schema import RAW_EVENT_COLUMN_NAMES, RAW_EVENTS_RELATION

START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=90)
SESSION_EVENTS = 10
#: visits of a returning browser inside the history (the next one is after it)
VISITS_PER_BROWSER = 4
#: position (0-based) of the USER_IDENTIFIED event in a login session
LOGIN_POSITION = 4
#: late events per existing session they land in (positions 1, 3, 5, 7, 9 of the session)
LATE_EVENTS_PER_SESSION = 5
#: primes: `s * prime mod n` permutes 0..n-1 for every n below them
BROWSER_PRIME = 2_147_483_647
LATE_SESSION_PRIME = 1_000_000_007
#: event numbers of the later batches start here, so their hashes differ from the history's
NEW_HOUR_EVENT_OFFSET = 10**12
LATE_EVENT_OFFSET = 2 * 10**12
NEW_EVENTS_WINDOW = timedelta(hours=1)

#: event types drawn uniformly from this list (repeats weight the common ones)
EVENT_MIX = (
    "PAGE_VIEW", "PERFUME_VIEW", "PERFUME_VIEW", "PERFUME_VIEW", "HOUSE_VIEW",
    "SEARCH_PERFORMED", "SEARCH_RESULT_CLICKED", "FILTER_APPLIED", "RATING_COMPLETED",
    "REVIEW_SUBMITTED", "WISHLIST_ADD", "WISHLIST_REMOVE", "COLLECTION_ADD", "IMAGE_VIEWED",
    "NOTES_EXPANDED", "SIMILAR_CLICKED", "POST_VIEW", "POST_VIEW", "POST_CLICK", "POST_LIKE",
    "POST_SHARE",
)  # fmt: skip
LOGIN_EVENT = "USER_IDENTIFIED"


@dataclass(frozen=True)
class History:
    """The shape of a generated history of `events` events (module docstring)."""

    events: int

    @property
    def sessions(self) -> int:
        """Sessions with at least one event of the history (the last one may be short)."""
        return math.ceil(self.events / SESSION_EVENTS)

    @property
    def complete_sessions(self) -> int:
        return self.events // SESSION_EVENTS

    @property
    def browsers(self) -> int:
        return max(1, self.sessions // VISITS_PER_BROWSER)

    @property
    def users(self) -> int:
        return max(1, self.browsers * 7 // 15)

    @property
    def step_us(self) -> int:
        """Microseconds between two consecutive events' `received_at`."""
        return max(1, int(SPAN.total_seconds() * 1_000_000) // self.events)

    def received_at(self, index: int) -> datetime:
        return START + timedelta(microseconds=index * self.step_us)

    @property
    def end(self) -> datetime:
        """Just after the last event of the history: the full refresh's `as_of`."""
        return self.received_at(self.events)


@dataclass(frozen=True)
class Batch:
    """Events `first`..`last - 1` of one kind: `stream` (the history and its continuation),
    `new_hour` (new sessions in the hour after the history) or `late` (received in that hour,
    occurred inside existing sessions)."""

    history: History
    kind: str
    first: int
    last: int
    count: int = 0
    """All events of the `new_hour`/`late` batch this part belongs to (spreads them over the hour)."""

    @property
    def as_of(self) -> datetime:
        """Just after the batch's last event: the `as_of` of the run that follows it."""
        if self.kind == "stream":
            return self.history.received_at(self.last)
        return self.history.end + NEW_EVENTS_WINDOW


def history_batches(history: History, per_batch: int) -> list[Batch]:
    return [Batch(history, "stream", first, min(first + per_batch, history.events))
            for first in range(0, history.events, per_batch)]  # fmt: skip


def continuation(history: History, events: int) -> Batch:
    """The next `events` events of the same stream (received later at the history's pace)."""
    return Batch(history, "stream", history.events, history.events + events)


def new_hour(history: History, events: int) -> Batch:
    return Batch(history, "new_hour", 0, events, events)


def late_events(history: History, events: int) -> Batch:
    return Batch(history, "late", 0, events, events)


@dataclass(frozen=True)
class _Dialect:
    name: str

    @property
    def duckdb(self) -> bool:
        return self.name == "duckdb"

    def numbers(self, first: int, last: int) -> str:
        if self.duckdb:
            return f"range({first}, {last}) as numbers(i)"
        return f"generate_series({first}::bigint, {last - 1}::bigint) as numbers(i)"

    def hash(self, expression: str) -> str:
        """A non-negative 64-bit (DuckDB) or 31-bit (PostgreSQL) hash of a bigint."""
        if self.duckdb:
            return f"hash({expression})"
        return f"abs(hashint8(({expression})::bigint)::bigint)"

    def div(self, dividend: str, divisor: str | int) -> str:
        return f"(({dividend}) {'//' if self.duckdb else '/'} {divisor})"

    def plus_micros(self, timestamp: datetime, micros: str) -> str:
        literal = timestamp.strftime("%Y-%m-%d %H:%M:%S.%f+00")
        if self.duckdb:
            return f"(cast('{literal}' as timestamptz) + to_microseconds({micros}))"
        return f"(cast('{literal}' as timestamptz) + make_interval(secs => ({micros}) / 1000000.0))"

    def minus_seconds(self, timestamp: str, seconds: str) -> str:
        if self.duckdb:
            return f"({timestamp} - to_seconds({seconds}))"
        return f"({timestamp} - make_interval(secs => {seconds}))"

    @property
    def uuid(self) -> str:
        return "cast(uuid() as varchar)" if self.duckdb else "gen_random_uuid()"

    @property
    def json_type(self) -> str:
        return "varchar" if self.duckdb else "jsonb"


def _numbered_sql(batch: Batch, dialect: _Dialect) -> str:
    """session number s, position k, event number e (hash seed), received_at and the time slot
    the event occurred at (before the client's jitter) of each event of the batch."""
    history = batch.history
    div = dialect.div
    hour_step_us = max(1, int(NEW_EVENTS_WINDOW.total_seconds() * 1_000_000) // max(batch.count, 1))
    if batch.kind == "stream":
        session, position, event = div("i", SESSION_EVENTS), f"i % {SESSION_EVENTS}", "i"
        received = slot = dialect.plus_micros(START, f"i * {history.step_us}")
    elif batch.kind == "new_hour":
        session = f"{history.sessions} + {div('i', SESSION_EVENTS)}"
        position, event = f"i % {SESSION_EVENTS}", f"i + {NEW_HOUR_EVENT_OFFSET}"
        received = slot = dialect.plus_micros(history.end, f"(i + 1) * {hour_step_us}")
    elif batch.kind == "late":
        # scattered over the complete sessions of the history; odd positions, never the login one
        session = f"({div('i', LATE_EVENTS_PER_SESSION)} * {LATE_SESSION_PRIME}) % {max(history.complete_sessions, 1)}"
        position, event = f"(i % {LATE_EVENTS_PER_SESSION}) * 2 + 1", f"i + {LATE_EVENT_OFFSET}"
        received = dialect.plus_micros(history.end, f"(i + 1) * {hour_step_us}")
        slot = dialect.plus_micros(
            START, f"(({session}) * {SESSION_EVENTS} + {position}) * {history.step_us}"
        )
    else:
        raise ValueError(f"unknown batch kind {batch.kind!r}")
    return f"""
        select {session} as s, {position} as k, {event} as e, {received} as received_at, {slot} as slot_at
        from {dialect.numbers(batch.first, batch.last)}"""


def _case(expression: str, mapping: dict[int, str]) -> str:
    return (
        f"case {expression} "
        + " ".join(f"when {key} then {value}" for key, value in mapping.items())
        + " end"
    )


def event_rows_sql(batch: Batch, dialect_name: str) -> str:
    """SELECT of the batch's raw events, columns in `RAW_EVENT_COLUMN_NAMES` order."""
    dialect = _Dialect(dialect_name)
    history, div = batch.history, dialect.div
    mix = dict(enumerate(EVENT_MIX))
    quoted = {position: f"'{event_type}'" for position, event_type in mix.items()}
    category = {position: f"'{EVENT_TYPES[event_type][0]}'" for position, event_type in mix.items()}

    def needs(column: str) -> str:
        return " or ".join(
            f"event_type = '{name}'" for name in sorted(set(EVENT_MIX)) if column in EVENT_TYPES[name][1]
        )

    def padded(expression: str, width: int) -> str:
        return f"lpad(cast({expression} as varchar), {width}, '0')"

    # session kinds by r = hash(session) % 100: <2 login without a browser id, <4 anonymous without
    # any id, 4 crawler, <15 one-off browser, else a returning browser (module docstring)
    returning_user_browser = "(r >= 15 and hb % 10 < 7)"
    login_visit = f"({div('hb', 10)} % 5)"
    return f"""
    select
        {dialect.uuid} as event_id,
        received_at,
        {dialect.minus_seconds("slot_at", "he % 120")} as occurred_at,
        's' || cast(s as varchar) as session_id,
        case when logged_in then 'u' || cast(user_number as varchar) end as user_id,
        event_type,
        case when identifies then '{EVENT_TYPES[LOGIN_EVENT][0]}' else {_case("mix", category)} end as event_category,
        case when {needs("perfume_id")} then 'p' || {padded(f"{div('he', 7)} % 300 + 1", 4)} end as perfume_id,
        case when {needs("house_id")} then 'h' || {padded(f"{div('he', 13)} % 30 + 1", 3)} end as house_id,
        case when {needs("post_id")} then 'post' || cast({div("he", 17)} % 1000 as varchar) end as post_id,
        '/page/' || cast(he % 50 as varchar) as path,
        cast(null as varchar) as referrer,
        case when r = 4 then 'Googlebot/2.1 (+http://www.google.com/bot.html)' else 'Mozilla/5.0' end as user_agent,
        case when r = 4 then 'unknown' when hs % 3 = 0 then 'mobile' else 'desktop' end as device_type,
        case when r = 4 then 'Googlebot' else 'Chrome' end as browser,
        case when r = 4 then 'unknown' else 'Linux' end as os,
        r = 4 as is_bot,
        cast(case when he % 2 = 0 then he % 60000 end as integer) as duration_ms,
        cast(case when event_type = 'POST_VIEW' then he % 101 end as integer) as scroll_depth,
        case when event_type = 'RATING_COMPLETED' then cast(he % 5 + 1 as double precision) end as value,
        cast(null as varchar) as source,
        cast(case when event_type = 'SEARCH_PERFORMED'
            then '{{"query":"rose","resultPerfumeIds":["p' || {padded(f"{div('he', 11)} % 298 + 1", 4)} || '","p0299","p0300"]}}'
            else '{{}}' end as {dialect.json_type}) as event_data,
        case when r >= 15 then '00000000-0000-4000-8000-' || {padded("b", 12)}
             when r >= 5 then '00000000-0000-4000-9000-' || {padded("s", 12)} end as anonymous_id
    from (
        select *, case when identifies then '{LOGIN_EVENT}' else {_case("mix", quoted)} end as event_type
        from (
            select
                *,
                he % {len(EVENT_MIX)} as mix,
                case when r < 2 then k >= {LOGIN_POSITION}
                     when {returning_user_browser} then visit > {login_visit} or (visit = {login_visit} and k >= {LOGIN_POSITION})
                     else false end as logged_in,
                (r < 2 or ({returning_user_browser} and visit = {login_visit})) and k = {LOGIN_POSITION} as identifies,
                case when r < 2 then {div("hs", 100)} % {history.users} else {div("hb", 50)} % {history.users} end as user_number
            from (
                select *, hs % 100 as r, {dialect.hash("b * 3 + 2")} as hb
                from (
                    select
                        *,
                        {dialect.hash("e * 7919")} as he,
                        {dialect.hash("s * 2 + 1")} as hs,
                        (s * {BROWSER_PRIME}) % {history.browsers} as b,
                        {div("s", history.browsers)} as visit
                    from ({_numbered_sql(batch, dialect)}) as numbered
                ) as hashed
            ) as browsed
        ) as identified
    ) as typed
    """


def insert_sql(batch: Batch) -> str:
    """INSERT of the batch into PostgreSQL's raw events table."""
    return f"insert into {RAW_EVENTS_RELATION} ({', '.join(RAW_EVENT_COLUMN_NAMES)}) {event_rows_sql(batch, 'postgres')}"
