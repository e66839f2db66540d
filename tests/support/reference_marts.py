"""SPEC section 5 in plain Python: the marts the dbt project must produce, computed the slow obvious way.

This is the warehouse tests' oracle. It is written from SPEC.md alone (never from the dbt models), with
plain dicts and lists, one function per mart, each rule quoted beside the code that applies it. The
tests feed the same raw rows to this module and to dbt and compare the tables row by row.

Input: raw event rows (mappings with the columns of `ingest_service.storage.raw_schema`, timestamps
as timezone-aware datetimes, `event_data` a dict or JSON text), privacy-log rows, the catalog and
weights (`load_catalog` reads dbt's seed CSVs), and `as_of`.

Choices where the spec leaves room (also listed in the warehouse README section):
- the opt-out state is the user's latest `opt_out`/`opt_in` row in the whole log (SPEC 7: "all of
  their data disappears from the marts at the next run"), whatever `as_of` is; `erase` rows do not
  change it;
- deduplication happens on the raw rows first (earliest `received_at` per `event_id`, then the
  spec's tie-break), the bot / opt-out / `as_of` filters after it;
- a "search" whose `resultPerfumeIds` count is a `SEARCH_PERFORMED` event; an id listed twice in one
  search counts one impression;
- "wishlisted" in `preferred_price_range` means the user has any `WISHLIST_ADD` of the perfume;
  "viewed" means a `PERFUME_VIEW`.
"""

from __future__ import annotations

import csv
import json
import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

Row = dict[str, Any]

#: SPEC 1: event_type -> event_category (the staging rows carry both; tests build rows with this).
EVENT_CATEGORIES: dict[str, str] = {
    "PAGE_VIEW": "VIEW",
    "PERFUME_VIEW": "VIEW",
    "HOUSE_VIEW": "VIEW",
    "SEARCH_PERFORMED": "SEARCH",
    "SEARCH_RESULT_CLICKED": "SEARCH",
    "FILTER_APPLIED": "FILTER",
    "RATING_COMPLETED": "RATING",
    "REVIEW_SUBMITTED": "REVIEW",
    "WISHLIST_ADD": "WISHLIST",
    "WISHLIST_REMOVE": "WISHLIST",
    "COLLECTION_ADD": "COLLECTION",
    "IMAGE_VIEWED": "ENGAGEMENT",
    "NOTES_EXPANDED": "ENGAGEMENT",
    "SIMILAR_CLICKED": "ENGAGEMENT",
    "POST_VIEW": "VIEW",
    "POST_CLICK": "ENGAGEMENT",
    "POST_LIKE": "ENGAGEMENT",
    "POST_SHARE": "ENGAGEMENT",
    "USER_IDENTIFIED": "ENGAGEMENT",
}

#: Key columns of each mart, in the order the comparison helper sorts and reports them.
MART_KEYS: dict[str, tuple[str, ...]] = {
    "stg_interaction_events": ("event_id",),
    "sessions": ("session_id",),
    "perfume_interaction_stats": ("perfume_id",),
    "trending_perfumes": ("perfume_id",),
    "user_behavior_profile": ("user_id",),
    "post_engagement": ("post_id",),
    "user_engagement_30d": ("user_id", "event_type"),
    "identity_map": ("anonymous_id",),
    "user_item_interactions": ("actor_id", "item_type", "item_id"),
    "weekly_retention_cohorts": ("cohort_week", "week_offset"),
}

#: Columns holding JSON (compared parsed).
JSON_COLUMNS = frozenset({"preferred_houses", "preferred_notes", "preferred_price_range", "event_data"})


@dataclass(frozen=True)
class Catalog:
    weights: dict[str, float]
    perfume_house: dict[str, str]
    perfume_price: dict[str, float | None]
    perfume_notes: dict[str, frozenset[str]]


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def load_catalog(seeds_dir: Path) -> Catalog:
    """Read the dbt seeds as data: `event_weights`, `perfumes`, `perfume_notes`."""
    weights = {row["event_type"]: float(row["weight"]) for row in _read_csv(seeds_dir / "event_weights.csv")}
    perfumes = _read_csv(seeds_dir / "perfumes.csv")
    notes: dict[str, set[str]] = defaultdict(set)
    for row in _read_csv(seeds_dir / "perfume_notes.csv"):
        notes[row["perfume_id"]].add(row["note"])
    return Catalog(
        weights=weights,
        perfume_house={row["perfume_id"]: row["house_id"] for row in perfumes if row["house_id"]},
        perfume_price={
            row["perfume_id"]: (float(row["price_usd"]) if row["price_usd"] not in ("", None) else None)
            for row in perfumes
        },
        perfume_notes={perfume_id: frozenset(values) for perfume_id, values in notes.items()},
    )


# --------------------------------------------------------------------------------------------------
# small shared rules
# --------------------------------------------------------------------------------------------------


def order_key(event: Mapping[str, Any]) -> tuple[datetime, datetime, str]:
    """SPEC 5: "Ties are broken by `occurred_at`, then `received_at`, then `event_id`"."""
    return (event["occurred_at"], event["received_at"], str(event["event_id"]))


def received_order_key(event: Mapping[str, Any]) -> tuple[datetime, datetime, str]:
    """SPEC 5, anonymous_user: "the first event **received** (order: received_at, then occurred_at,
    then event_id)"."""
    return (event["received_at"], event["occurred_at"], str(event["event_id"]))


def actor(event: Mapping[str, Any]) -> str:
    """The event's actor, resolved by `stage_events` (see `Identities.actor`)."""
    return event["actor_id"]


def resolved_user(event: Mapping[str, Any]) -> str | None:
    """The event's resolved user, set by `stage_events` (see `Identities.resolved_user`)."""
    return event["resolved_user_id"]


def in_last(event: Mapping[str, Any], as_of: datetime, span: timedelta) -> bool:
    """SPEC 5: "Every 'last N days' window below is (as_of - N days, as_of]"."""
    return as_of - span < event["occurred_at"] <= as_of


def age_hours(event: Mapping[str, Any], as_of: datetime) -> float:
    """SPEC 5: "Ages are as_of - occurred_at in fractional hours or days"."""
    return (as_of - event["occurred_at"]) / timedelta(hours=1)


def mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def result_perfume_ids(event: Mapping[str, Any]) -> list[str]:
    """`event_data.resultPerfumeIds` of a search, [] when absent or not a list of ids."""
    ids = event["event_data"].get("resultPerfumeIds")
    if not isinstance(ids, list):
        return []
    return [str(value) for value in ids if value is not None]


def rank_by_affinity(affinity: Mapping[str, float], limit: int) -> list[str]:
    """SPEC 5: "up to N ... with positive affinity, by affinity desc then id asc, [] when none"."""
    positive = [(key, score) for key, score in affinity.items() if score > 0]
    positive.sort(key=lambda item: (-item[1], item[0]))
    return [key for key, _ in positive[:limit]]


# --------------------------------------------------------------------------------------------------
# identity resolution (SPEC 5, "Identity resolution (stitching)")
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identities:
    """Who is who over one set of events."""

    session_users: dict[str, str | None]
    """SPEC: "`session_user(s)` is the user_id of the earliest event of s that has one; when none
    has, it is anonymous_user(a) for the anonymous_id a of the earliest event of s that has one"."""
    session_anonymous_ids: dict[str, str | None]
    """The anonymous_id of the session's earliest event that has one."""
    claims: dict[str, Row]
    """anonymous_id → the event that gave anonymous_user(a): "the first event received ... that
    carries both anonymous_id = a and a user_id"."""

    def anonymous_user(self, anonymous_id: str | None) -> str | None:
        claim = self.claims.get(anonymous_id) if anonymous_id is not None else None
        return claim["user_id"] if claim else None

    def resolved_user(self, event: Mapping[str, Any]) -> str | None:
        """SPEC: "an event's resolved user is its own user_id, else session_user of its session"."""
        return event["user_id"] if event["user_id"] is not None else self.session_users[event["session_id"]]

    def actor(self, event: Mapping[str, Any]) -> str:
        """SPEC: "'u:' || resolved user when there is one; else 'a:' || anonymous_id of its session
        (the anonymous_id of the session's earliest event that has one); else 's:' || session_id"."""
        user = self.resolved_user(event)
        if user is not None:
            return f"u:{user}"
        anonymous_id = self.session_anonymous_ids[event["session_id"]]
        return f"a:{anonymous_id}" if anonymous_id is not None else f"s:{event['session_id']}"


def resolve_identities(events: Iterable[Row]) -> Identities:
    by_session: dict[str, list[Row]] = defaultdict(list)
    claims: dict[str, Row] = {}
    for event in events:
        by_session[event["session_id"]].append(event)
        anonymous_id = event["anonymous_id"]
        if anonymous_id is not None and event["user_id"] is not None:
            current = claims.get(anonymous_id)
            if current is None or received_order_key(event) < received_order_key(current):
                claims[anonymous_id] = event
    session_users: dict[str, str | None] = {}
    session_anonymous_ids: dict[str, str | None] = {}
    for session_id, session_events in by_session.items():
        ordered = sorted(session_events, key=order_key)
        first_user = next((e["user_id"] for e in ordered if e["user_id"] is not None), None)
        anonymous_id = next((e["anonymous_id"] for e in ordered if e["anonymous_id"] is not None), None)
        session_anonymous_ids[session_id] = anonymous_id
        claim = claims.get(anonymous_id) if anonymous_id is not None else None
        fallback = claim["user_id"] if claim else None
        session_users[session_id] = first_user if first_user is not None else fallback
    return Identities(session_users, session_anonymous_ids, claims)


# --------------------------------------------------------------------------------------------------
# staging
# --------------------------------------------------------------------------------------------------


def _normalise(row: Mapping[str, Any]) -> Row:
    event = dict(row)
    event["event_id"] = str(event["event_id"])
    data = event.get("event_data")
    if data is None:
        data = {}
    elif isinstance(data, str):
        data = json.loads(data)
    event["event_data"] = data
    event.setdefault("anonymous_id", None)  # rows written before the column existed
    return event


def opted_out_users(privacy_rows: Iterable[Mapping[str, Any]]) -> set[str]:
    """SPEC 7 / raw_schema: the current state of a user is their latest opt_out/opt_in row."""
    latest: dict[str, tuple[datetime, str]] = {}
    for row in privacy_rows:
        if row["action"] not in ("opt_out", "opt_in"):
            continue
        current = latest.get(row["user_id"])
        # the spec leaves a tie of opt_out and opt_in at the same moment open: opting out wins
        # (README, "Choices where the spec is silent")
        if (
            current is None
            or row["requested_at"] > current[0]
            or (row["requested_at"] == current[0] and row["action"] == "opt_out")
        ):
            latest[row["user_id"]] = (row["requested_at"], row["action"])
    return {user_id for user_id, (_, action) in latest.items() if action == "opt_out"}


@dataclass(frozen=True)
class BehaviourBotRule:
    """The project's optional staging rule, not SPEC 5's (README: off by default): drop every event
    of a session that has at least `min_events` events inside one window [t, t + window_seconds],
    counted over the deduplicated non-crawler events whatever as_of and opt-outs say."""

    min_events: int
    window_seconds: int

    def dbt_vars(self) -> dict[str, Any]:
        return {
            "bot_session_min_events": self.min_events,
            "bot_session_window_seconds": self.window_seconds,
            "exclude_behaviour_bot_sessions": True,
        }

    def flagged_sessions(self, events: Iterable[Row]) -> set[str]:
        moments: dict[str, list[datetime]] = defaultdict(list)
        for event in events:
            moments[event["session_id"]].append(event["occurred_at"])
        window = timedelta(seconds=self.window_seconds)
        flagged = set()
        for session_id, times in moments.items():
            times.sort()
            if any(bisect_right(times, start + window) - index >= self.min_events
                   for index, start in enumerate(times)):  # fmt: skip
                flagged.add(session_id)
        return flagged


def stage_events(
    raw_rows: Iterable[Mapping[str, Any]],
    privacy_rows: Iterable[Mapping[str, Any]],
    as_of: datetime,
    behaviour_bots: BehaviourBotRule | None = None,
) -> list[Row]:
    """SPEC 5: "raw events deduplicated by event_id (the earliest received_at wins), without is_bot
    events, with occurred_at <= as_of, and without the events of users who are opted out now: an
    event is removed when its resolved user (computed over the deduplicated, non-bot events up to
    as_of) is opted out. The marts then resolve identities again over what remains"; with
    `behaviour_bots`, also without the sessions that rule flags.

    Each staged event gets `resolved_user_id` and `actor_id` from that second resolution."""
    humans = [event for event in deduplicate(raw_rows) if not event["is_bot"]]
    bot_sessions = behaviour_bots.flagged_sessions(humans) if behaviour_bots else set()
    eligible = [e for e in humans if e["occurred_at"] <= as_of and e["session_id"] not in bot_sessions]
    opted_out = opted_out_users(privacy_rows)
    before_opt_outs = resolve_identities(eligible)
    remaining = [e for e in eligible if before_opt_outs.resolved_user(e) not in opted_out]
    identities = resolve_identities(remaining)
    staged = [
        {**event, "resolved_user_id": identities.resolved_user(event), "actor_id": identities.actor(event)}
        for event in remaining
    ]
    return sorted(staged, key=order_key)


def deduplicate(raw_rows: Iterable[Mapping[str, Any]]) -> list[Row]:
    """SPEC 5: one row per event_id, "the earliest received_at wins"; equal received_at falls back
    to the general tie-break."""
    winners: dict[str, Row] = {}
    for row in raw_rows:
        event = _normalise(row)
        current = winners.get(event["event_id"])
        if current is None or (event["received_at"], order_key(event)) < (
            current["received_at"],
            order_key(current),
        ):
            winners[event["event_id"]] = event
    return list(winners.values())


def user_data_event_ids(raw_rows: Iterable[Mapping[str, Any]], user_id: str) -> tuple[set[str], set[str]]:
    """SPEC 7: "A user's data is one set everywhere (opt-out, erasure, export): their own events and
    the events whose resolved user (section 5) is them. For erasure and export it is resolved over
    every stored event (deduplicated; any occurred_at; bots included)". Returns (own, stitched)."""
    events = deduplicate(raw_rows)
    identities = resolve_identities(events)
    own = {e["event_id"] for e in events if e["user_id"] == user_id}
    stitched = {
        e["event_id"] for e in events if e["user_id"] is None and identities.resolved_user(e) == user_id
    }
    return own, stitched


# --------------------------------------------------------------------------------------------------
# marts
# --------------------------------------------------------------------------------------------------


def sessions(events: list[Row]) -> list[Row]:
    """SPEC 5 `sessions` — one row per session_id."""
    identities = resolve_identities(events)
    by_session: dict[str, list[Row]] = defaultdict(list)
    for event in events:
        by_session[event["session_id"]].append(event)
    rows = []
    for session_id, session_events in by_session.items():
        ordered = sorted(session_events, key=order_key)
        earliest, latest = ordered[0], ordered[-1]
        started_at = min(event["occurred_at"] for event in ordered)
        ended_at = max(event["occurred_at"] for event in ordered)
        categories = [event["event_category"] for event in ordered]
        rows.append(
            {
                "session_id": session_id,
                # "user_id (session_user, above), anonymous_id (of the earliest event that has one)"
                "user_id": identities.session_users[session_id],
                "anonymous_id": identities.session_anonymous_ids[session_id],
                "started_at": started_at,
                "ended_at": ended_at,
                # "duration_seconds (whole seconds, floor)"
                "duration_seconds": math.floor((ended_at - started_at).total_seconds()),
                # "device_type, browser, os (of the earliest event)"
                "device_type": earliest["device_type"],
                "browser": earliest["browser"],
                "os": earliest["os"],
                "event_count": len(ordered),
                "page_views": categories.count("VIEW"),
                # "perfumes_viewed (distinct non-null perfume_id, any event)"
                "perfumes_viewed": len({e["perfume_id"] for e in ordered if e["perfume_id"] is not None}),
                # "interactions (categories RATING, REVIEW, COLLECTION, WISHLIST)"
                "interactions": sum(c in ("RATING", "REVIEW", "COLLECTION", "WISHLIST") for c in categories),
                "searches": categories.count("SEARCH"),
                # "entry_path, exit_path (path of the earliest / latest event)"
                "entry_path": earliest["path"],
                "exit_path": latest["path"],
                "is_bounce": len(ordered) == 1,
            }
        )
    return rows


def trending_perfumes(events: list[Row], catalog: Catalog, as_of: datetime) -> list[Row]:
    """SPEC 5 `trending_perfumes` — one row per perfume with an event in the last 7 days."""
    week = [e for e in events if e["perfume_id"] is not None and in_last(e, as_of, timedelta(days=7))]
    by_perfume: dict[str, list[Row]] = defaultdict(list)
    for event in week:
        by_perfume[event["perfume_id"]].append(event)
    rows = []
    for perfume_id, perfume_events in by_perfume.items():
        views = [e for e in perfume_events if e["event_type"] == "PERFUME_VIEW"]
        views_24h = sum(in_last(e, as_of, timedelta(hours=24)) for e in views)
        # "baseline_daily_views = PERFUME_VIEW in (as_of - 7 days, as_of - 24 hours] / 6"
        baseline = sum(not in_last(e, as_of, timedelta(hours=24)) for e in views) / 6
        rows.append(
            {
                "perfume_id": perfume_id,
                # "Σ weight(event_type) × 0.5^(age_hours / 24) over its events in the last 7 days"
                # fsum: the exact sum, whatever the events' order, so equal scores are equal
                "trending_score": math.fsum(
                    catalog.weights[e["event_type"]] * 0.5 ** (age_hours(e, as_of) / 24)
                    for e in perfume_events
                ),
                "views_24h": views_24h,
                "baseline_daily_views": baseline,
                # "velocity = views_24h / max(baseline_daily_views, 1)"
                "velocity": views_24h / max(baseline, 1),
            }
        )
    # "rank = 1.. by trending_score desc, then perfume_id asc"
    rows.sort(key=lambda row: (-row["trending_score"], row["perfume_id"]))
    for position, row in enumerate(rows, start=1):
        row["rank"] = position
    return rows


def _latest_wishlist_is_add(wishlist_events: list[Row]) -> bool:
    """ "latest WISHLIST_ADD/WISHLIST_REMOVE ... is an ADD" (latest by the spec's tie-break)."""
    return max(wishlist_events, key=order_key)["event_type"] == "WISHLIST_ADD"


def perfume_interaction_stats(events: list[Row], catalog: Catalog, as_of: datetime) -> list[Row]:
    """SPEC 5 `perfume_interaction_stats` — one row per perfume id that is the perfume_id of an
    event or is listed in a search's resultPerfumeIds."""
    searches = [e for e in events if e["event_type"] == "SEARCH_PERFORMED"]
    perfume_ids = {e["perfume_id"] for e in events if e["perfume_id"] is not None}
    for search in searches:
        perfume_ids.update(result_perfume_ids(search))
    trending = {row["perfume_id"]: row["trending_score"] for row in trending_perfumes(events, catalog, as_of)}

    by_perfume: dict[str, list[Row]] = defaultdict(list)
    for event in events:
        if event["perfume_id"] is not None:
            by_perfume[event["perfume_id"]].append(event)

    rows = []
    for perfume_id in perfume_ids:
        own = by_perfume.get(perfume_id, [])
        views = [e for e in own if e["event_type"] == "PERFUME_VIEW"]
        ratings = [e["value"] for e in own if e["event_type"] == "RATING_COMPLETED"]
        wishlist_by_actor: dict[str, list[Row]] = defaultdict(list)
        for event in own:
            if event["event_type"] in ("WISHLIST_ADD", "WISHLIST_REMOVE"):
                wishlist_by_actor[actor(event)].append(event)
        rows.append(
            {
                "perfume_id": perfume_id,
                "total_views": len(views),
                "unique_viewers": len({actor(e) for e in views}),
                "avg_view_duration_ms": mean(
                    [e["duration_ms"] for e in views if e["duration_ms"] is not None]
                ),
                "total_ratings": len(ratings),
                "avg_rating": mean(ratings),
                "in_wishlist_count": sum(_latest_wishlist_is_add(evs) for evs in wishlist_by_actor.values()),
                "in_collection_count": len({actor(e) for e in own if e["event_type"] == "COLLECTION_ADD"}),
                "search_clicks": sum(e["event_type"] == "SEARCH_RESULT_CLICKED" for e in own),
                # "SEARCH_PERFORMED events whose event_data.resultPerfumeIds holds it"
                "search_impressions": sum(perfume_id in result_perfume_ids(s) for s in searches),
                "views_last_7_days": sum(in_last(e, as_of, timedelta(days=7)) for e in views),
                # "trending_score (as in trending_perfumes, 0 when absent there)"
                "trending_score": trending.get(perfume_id, 0.0),
                "last_viewed_at": max((e["occurred_at"] for e in views), default=None),
            }
        )
    return rows


def _price_range(perfume_ids: set[str], catalog: Catalog) -> dict[str, float] | None:
    """ "{"min","max","avg"} of price_usd over the distinct catalog perfumes ...; null if none"."""
    prices = [catalog.perfume_price[p] for p in perfume_ids if catalog.perfume_price.get(p) is not None]
    if not prices:
        return None
    return {"min": min(prices), "max": max(prices), "avg": sum(prices) / len(prices)}


def user_behavior_profile(
    events: list[Row], session_rows: list[Row], catalog: Catalog, as_of: datetime
) -> list[Row]:
    """SPEC 5 `user_behavior_profile` — one row per user_id."""
    by_user: dict[str, list[Row]] = defaultdict(list)
    for event in events:
        # "one row per resolved user ... over the events whose resolved user is that user"
        if resolved_user(event) is not None:
            by_user[resolved_user(event)].append(event)
    durations_by_user: dict[str, list[int]] = defaultdict(list)
    for session in session_rows:
        if session["user_id"] is not None:
            durations_by_user[session["user_id"]].append(session["duration_seconds"])

    rows = []
    for user_id, own in by_user.items():
        month = [e for e in own if in_last(e, as_of, timedelta(days=30))]
        ratings = [e["value"] for e in own if e["event_type"] == "RATING_COMPLETED"]

        wishlist_by_perfume: dict[str, list[Row]] = defaultdict(list)
        for event in own:
            if event["event_type"] in ("WISHLIST_ADD", "WISHLIST_REMOVE") and event["perfume_id"] is not None:
                wishlist_by_perfume[event["perfume_id"]].append(event)

        # "affinity = Σ weight over the user's events with that house_id, or on a perfume of that
        # house in the catalog" — an event naming the house both ways counts once
        house_affinity: dict[str, float] = defaultdict(float)
        note_affinity: dict[str, float] = defaultdict(float)
        for event in own:
            weight = catalog.weights[event["event_type"]]
            houses = {event["house_id"]} - {None}
            if event["perfume_id"] in catalog.perfume_house:
                houses.add(catalog.perfume_house[event["perfume_id"]])
            for house_id in houses:
                house_affinity[house_id] += weight
            for note in catalog.perfume_notes.get(event["perfume_id"], ()):
                note_affinity[note] += weight

        # "the distinct catalog perfumes the user viewed, wishlisted, collected or rated ≥ 4"
        liked = {
            e["perfume_id"]
            for e in own
            if e["perfume_id"] in catalog.perfume_price
            and (
                e["event_type"] in ("PERFUME_VIEW", "WISHLIST_ADD", "COLLECTION_ADD")
                or (e["event_type"] == "RATING_COMPLETED" and e["value"] is not None and e["value"] >= 4)
            )
        }
        rows.append(
            {
                "user_id": user_id,
                "total_sessions": len({e["session_id"] for e in own}),
                # "the user's events that had no user_id of their own"
                "stitched_events": sum(e["user_id"] is None for e in own),
                "page_views_30d": sum(e["event_category"] == "VIEW" for e in month),
                "searches_30d": sum(e["event_category"] == "SEARCH" for e in month),
                "perfumes_viewed_30d": len({e["perfume_id"] for e in month if e["perfume_id"] is not None}),
                # "mean over the sessions rows whose user_id is this user"
                "avg_session_duration_seconds": mean(durations_by_user.get(user_id, [])),
                "total_ratings": len(ratings),
                "avg_rating_value": mean(ratings),
                "collection_size": len(
                    {e["perfume_id"] for e in own if e["event_type"] == "COLLECTION_ADD" and e["perfume_id"]}
                ),
                "wishlist_size": sum(_latest_wishlist_is_add(evs) for evs in wishlist_by_perfume.values()),
                "preferred_houses": rank_by_affinity(house_affinity, 3),
                "preferred_notes": rank_by_affinity(note_affinity, 5),
                "preferred_price_range": _price_range(liked, catalog),
                # "Σ weight × 0.5^(age_days / 7) over the user's events in the last 30 days"
                "engagement_score": sum(
                    catalog.weights[e["event_type"]] * 0.5 ** ((age_hours(e, as_of) / 24) / 7) for e in month
                ),
                "first_seen_at": min(e["occurred_at"] for e in own),
                "last_active_at": max(e["occurred_at"] for e in own),
            }
        )
    return rows


def post_engagement(events: list[Row], as_of: datetime) -> list[Row]:
    """SPEC 5 `post_engagement` — one row per post_id."""
    by_post: dict[str, list[Row]] = defaultdict(list)
    for event in events:
        if event["post_id"] is not None:
            by_post[event["post_id"]].append(event)
    rows = []
    for post_id, own in by_post.items():
        types = [e["event_type"] for e in own]
        views = [e for e in own if e["event_type"] == "POST_VIEW"]
        rows.append(
            {
                "post_id": post_id,
                "views": types.count("POST_VIEW"),
                "clicks": types.count("POST_CLICK"),
                "likes": types.count("POST_LIKE"),
                "shares": types.count("POST_SHARE"),
                # "distinct non-null resolved users"
                "unique_users": len({resolved_user(e) for e in own if resolved_user(e) is not None}),
                # "over POST_VIEW with the value; null if none"
                "avg_view_duration_ms": mean(
                    [e["duration_ms"] for e in views if e["duration_ms"] is not None]
                ),
                "avg_scroll_depth": mean([e["scroll_depth"] for e in views if e["scroll_depth"] is not None]),
                # "POST_VIEW + POST_CLICK + POST_LIKE in the last 7 days" (shares not included)
                "engagements_7d": sum(
                    e["event_type"] in ("POST_VIEW", "POST_CLICK", "POST_LIKE")
                    and in_last(e, as_of, timedelta(days=7))
                    for e in own
                ),
                "last_interaction_at": max(e["occurred_at"] for e in own),
            }
        )
    return rows


def user_engagement_30d(events: list[Row], as_of: datetime) -> list[Row]:
    """SPEC 5 `user_engagement_30d` — one row per (user_id, event_type) with at least one event in
    the last 30 days."""
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for event in events:
        if resolved_user(event) is not None and in_last(event, as_of, timedelta(days=30)):
            counts[(resolved_user(event), event["event_type"])] += 1
    return [
        {"user_id": user_id, "event_type": event_type, "interactions": count}
        for (user_id, event_type), count in counts.items()
    ]


def identity_map(events: list[Row]) -> list[Row]:
    """SPEC 5 `identity_map` — one row per anonymous_id with a known anonymous_user."""
    identities = resolve_identities(events)
    with_anonymous_id: dict[str, list[Row]] = defaultdict(list)
    for event in events:
        if event["anonymous_id"] is not None:
            with_anonymous_id[event["anonymous_id"]].append(event)
    return [
        {
            "anonymous_id": anonymous_id,
            "user_id": claim["user_id"],
            # "occurred_at of the event that gave it"
            "identified_at": claim["occurred_at"],
            # "earliest event with that anonymous_id"
            "first_seen_at": min(e["occurred_at"] for e in with_anonymous_id[anonymous_id]),
            # "distinct sessions with it"
            "sessions": len({e["session_id"] for e in with_anonymous_id[anonymous_id]}),
        }
        for anonymous_id, claim in identities.claims.items()
    ]


#: SPEC 5 user_item_interactions: "an event's items are its own perfume_id (item_type perfume),
#: house_id (house; not the catalog's house of a perfume) and post_id (post), each that is not null"
ITEM_COLUMNS = (("perfume", "perfume_id"), ("house", "house_id"), ("post", "post_id"))


def user_item_interactions(events: list[Row], catalog: Catalog, as_of: datetime) -> list[Row]:
    """SPEC 5 `user_item_interactions` — one row per (actor, item) with at least one event."""
    by_pair: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for event in events:
        for item_type, column in ITEM_COLUMNS:
            if event[column] is not None:
                by_pair[(actor(event), item_type, event[column])].append(event)
    rows = []
    for (actor_id, item_type, item_id), own in by_pair.items():
        is_perfume = item_type == "perfume"
        wishlist = [e for e in own if e["event_type"] in ("WISHLIST_ADD", "WISHLIST_REMOVE")]
        ratings = [e for e in own if e["event_type"] == "RATING_COMPLETED"]
        rows.append(
            {
                "actor_id": actor_id,
                "item_type": item_type,
                "item_id": item_id,
                # "resolved user, null for anonymous actors" (one actor has one resolved user)
                "user_id": resolved_user(own[0]),
                "interactions": len(own),
                "affinity": sum(catalog.weights[e["event_type"]] for e in own),
                # "Σ weight × 0.5^(age_days / 7) over the events of the last 30 days; 0 when none"
                "recent_affinity": sum(
                    catalog.weights[e["event_type"]] * 0.5 ** ((age_hours(e, as_of) / 24) / 7)
                    for e in own
                    if in_last(e, as_of, timedelta(days=30))
                ),
                "first_interaction_at": min(e["occurred_at"] for e in own),
                "last_interaction_at": max(e["occurred_at"] for e in own),
                "is_wishlisted": is_perfume and bool(wishlist) and _latest_wishlist_is_add(wishlist),
                "is_collected": is_perfume and any(e["event_type"] == "COLLECTION_ADD" for e in own),
                "latest_rating": max(ratings, key=order_key)["value"] if is_perfume and ratings else None,
            }
        )
    return rows


def iso_week_monday(moment: datetime) -> date:
    """ "the Monday (UTC date) of the ISO week" of a UTC timestamp."""
    day = moment.date()
    return day - timedelta(days=day.isoweekday() - 1)


def weekly_retention_cohorts(events: list[Row], as_of: datetime) -> list[Row]:
    """SPEC 5 `weekly_retention_cohorts` — over resolved users only; one row per (cohort_week,
    week_offset) for every cohort that has users and every offset from 0 up to the week that
    contains as_of."""
    weeks_by_user: dict[str, set[date]] = defaultdict(set)
    for event in events:
        if resolved_user(event) is not None:
            weeks_by_user[resolved_user(event)].add(iso_week_monday(event["occurred_at"]))
    # "a user's cohort week is the Monday of the ISO week of their earliest event"
    cohorts: dict[date, list[str]] = defaultdict(list)
    for user_id, weeks in weeks_by_user.items():
        cohorts[min(weeks)].append(user_id)
    as_of_week = iso_week_monday(as_of)
    rows = []
    for cohort_week, users in cohorts.items():
        for week_offset in range((as_of_week - cohort_week).days // 7 + 1):
            week = cohort_week + timedelta(days=7 * week_offset)
            active = sum(week in weeks_by_user[user_id] for user_id in users)
            rows.append(
                {
                    "cohort_week": cohort_week,
                    "week_offset": week_offset,
                    "cohort_size": len(users),
                    "active_users": active,
                    "retention_rate": active / len(users),
                }
            )
    return rows


def build_marts(
    raw_rows: Iterable[Mapping[str, Any]],
    privacy_rows: Iterable[Mapping[str, Any]],
    catalog: Catalog,
    as_of: datetime,
    behaviour_bots: BehaviourBotRule | None = None,
) -> dict[str, list[Row]]:
    """Every mart of SPEC 5 (plus the staging rows under `stg_interaction_events`)."""
    events = stage_events(raw_rows, privacy_rows, as_of, behaviour_bots)
    session_rows = sessions(events)
    return {
        # staging keeps the event's columns; `is_bot` is only a filter there
        "stg_interaction_events": [{k: v for k, v in event.items() if k != "is_bot"} for event in events],
        "sessions": session_rows,
        "perfume_interaction_stats": perfume_interaction_stats(events, catalog, as_of),
        "trending_perfumes": trending_perfumes(events, catalog, as_of),
        "user_behavior_profile": user_behavior_profile(events, session_rows, catalog, as_of),
        "post_engagement": post_engagement(events, as_of),
        "user_engagement_30d": user_engagement_30d(events, as_of),
        "identity_map": identity_map(events),
        "user_item_interactions": user_item_interactions(events, catalog, as_of),
        "weekly_retention_cohorts": weekly_retention_cohorts(events, as_of),
    }
