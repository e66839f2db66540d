"""The property test is only as good as its streams: a plausible mistake in a mart must change the
result on at least one of the seeds it runs. Each case breaks one rule of the reference (the way
an implementation might get it wrong) and expects the seeds of `test_incremental_invariant` to
notice. Pure Python, no dbt."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.support import reference_marts
from tests.support.mart_comparison import mart_differences
from tests.support.random_streams import PROPERTY_SEEDS, random_stream
from tests.support.warehouse_harness import SEEDS_DIR


def _all_marts_per_run() -> list[dict[str, list[dict[str, Any]]]]:
    catalog = reference_marts.load_catalog(SEEDS_DIR)
    results = []
    for seed in PROPERTY_SEEDS:
        runs = random_stream(seed, advancing_as_of=seed % 2 == 1)
        events: list[dict] = []
        privacy: list[dict] = []
        for run in runs:
            events += run.events
            privacy += run.privacy
            results.append(reference_marts.build_marts(events, privacy, catalog, run.as_of))
    return results


MISTAKES: dict[str, tuple[str, Callable[..., Any]]] = {
    "ties ignore received_at": (
        "order_key",
        lambda event: (event["occurred_at"], str(event["event_id"])),
    ),
    "actor is always the session": ("actor", lambda event: f"s:{event['session_id']}"),
    "opt-outs ignored": ("opted_out_users", lambda privacy_rows: set()),
    "any opt-out row counts, even after an opt-in": (
        "opted_out_users",
        lambda privacy_rows: {row["user_id"] for row in privacy_rows if row["action"] == "opt_out"},
    ),
    "a browser is claimed by the earliest occurred, not received": (
        "received_order_key",
        lambda event: (event["occurred_at"], event["received_at"], str(event["event_id"])),
    ),
    "no stitching: an event's user is only its own": (
        "Identities.resolved_user",
        lambda identities, event: event["user_id"],
    ),
    "an unidentified browser is one actor per session": (
        "Identities.actor",
        lambda identities, event: (
            f"u:{identities.resolved_user(event)}"
            if identities.resolved_user(event)
            else f"s:{event['session_id']}"
        ),
    ),
    "cohort weeks start on Sunday": (
        "iso_week_monday",
        lambda moment: moment.date() - timedelta(days=moment.date().isoweekday() % 7),
    ),
    "posts are not items": (
        "ITEM_COLUMNS",
        (("perfume", "perfume_id"), ("house", "house_id")),
    ),
}


def _differences(correct: list[dict], wrong: list[dict]) -> list[str]:
    return [
        problem
        for right_marts, wrong_marts in zip(correct, wrong, strict=True)
        for mart in reference_marts.MART_KEYS
        for problem in mart_differences(mart, right_marts[mart], wrong_marts[mart])
    ]


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_the_seeds_notice_a_broken_rule(mistake: str, monkeypatch: pytest.MonkeyPatch) -> None:
    correct = _all_marts_per_run()
    name, broken = MISTAKES[mistake]
    owner_name, _, attribute = name.rpartition(".")
    owner = getattr(reference_marts, owner_name) if owner_name else reference_marts
    monkeypatch.setattr(owner, attribute, broken)
    assert _differences(correct, _all_marts_per_run()), f"no seed in {PROPERTY_SEEDS} notices: {mistake}"


def test_the_seeds_notice_dedup_keeping_the_latest_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    correct = _all_marts_per_run()
    original = reference_marts.stage_events

    def keep_latest(raw_rows, privacy_rows, as_of, *rules):
        # the latest received_at wins: keep each id's last delivery, then stage as usual
        rows = list(raw_rows)
        latest_first = sorted(rows, key=lambda row: row["received_at"], reverse=True)
        seen: set[str] = set()
        kept = []
        for row in latest_first:
            if str(row["event_id"]) not in seen:
                seen.add(str(row["event_id"]))
                kept.append(row)
        return original(kept, privacy_rows, as_of)

    monkeypatch.setattr(reference_marts, "stage_events", keep_latest)
    assert _differences(correct, _all_marts_per_run()), (
        f"no seed in {PROPERTY_SEEDS} notices: latest delivery wins"
    )


def test_the_seeds_notice_events_after_as_of_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    correct = _all_marts_per_run()
    original = reference_marts.stage_events
    far_future = datetime(9999, 1, 1, tzinfo=UTC)
    monkeypatch.setattr(
        reference_marts,
        "stage_events",
        lambda raw_rows, privacy_rows, as_of, *rules: original(raw_rows, privacy_rows, far_future, *rules),
    )
    assert _differences(correct, _all_marts_per_run()), (
        f"no seed in {PROPERTY_SEEDS} notices: events after as_of kept"
    )
