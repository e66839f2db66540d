"""Random but valid event streams for the incremental-build tests (SPEC section 1 shapes).

Small pools of sessions, users, perfumes and posts so that keys collide a lot; duplicates of
earlier events (sometimes delivered "earlier" than the copy already stored), late events
(occurred_at long before received_at) and events up to 5 minutes in the future of received_at.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from ingest_service.event_types import CATEGORY_OF_EVENT_TYPE as CATEGORY
from ingest_service.event_types import EVENT_TYPES

NEEDS_PERFUME = {event_type for event_type, (_, needs) in EVENT_TYPES.items() if "perfume_id" in needs}
PERFUMES = [f"p{index:04d}" for index in range(1, 9)]
USERS = ["u1", "u2", "u3", "u4"]


class EventStream:
    def __init__(self, seed: int, start: datetime) -> None:
        self.random = random.Random(seed)
        self.clock = start
        self.sent: list[dict[str, Any]] = []

    def _event(self, received_at: datetime) -> dict[str, Any]:
        pick = self.random
        event_type = pick.choice(list(CATEGORY))
        session = f"s{pick.randint(1, 6)}"
        late = pick.random() < 0.2
        occurred_at = received_at - timedelta(hours=pick.uniform(0, 200) if late else pick.uniform(0, 0.5))
        if pick.random() < 0.05:
            occurred_at = received_at + timedelta(minutes=pick.uniform(0, 5))
        event: dict[str, Any] = {
            "event_id": str(uuid.UUID(int=pick.getrandbits(128))),
            "received_at": received_at,
            "occurred_at": occurred_at,
            "session_id": session,
            "user_id": pick.choice([None, *USERS]),
            "event_type": event_type,
            "event_category": CATEGORY[event_type],
            "perfume_id": pick.choice(PERFUMES)
            if event_type in NEEDS_PERFUME or pick.random() < 0.1
            else None,
            "house_id": f"h{pick.randint(1, 4):03d}" if event_type == "HOUSE_VIEW" else None,
            "post_id": f"post{pick.randint(1, 3)}" if event_type.startswith("POST_") else None,
            "path": pick.choice([None, "/", "/perfumes", "/houses", "/blog"]),
            "referrer": None,
            "user_agent": "Mozilla/5.0",
            "device_type": pick.choice(["desktop", "mobile"]),
            "browser": pick.choice(["Chrome", "Firefox"]),
            "os": pick.choice(["Linux", "iOS"]),
            "is_bot": pick.random() < 0.05,
            "duration_ms": pick.choice([None, pick.randint(0, 60000)]),
            "scroll_depth": pick.choice([None, pick.randint(0, 100)]) if event_type == "POST_VIEW" else None,
            "value": float(pick.randint(1, 5)) if event_type == "RATING_COMPLETED" else None,
            "source": None,
            "event_data": {},
        }
        if event_type == "SEARCH_PERFORMED":
            event["event_data"] = {
                "query": "rose",
                "resultPerfumeIds": pick.sample(PERFUMES, pick.randint(0, 3)),
            }
        return event

    def next_batch(self, size: int) -> list[dict[str, Any]]:
        batch = []
        for _ in range(size):
            self.clock += timedelta(minutes=self.random.uniform(0, 20))
            if self.sent and self.random.random() < 0.15:
                # a retried delivery: same event id, delivered later - or "earlier" than the copy we have
                original = dict(self.random.choice(self.sent))
                shift = timedelta(minutes=self.random.uniform(-300, 300))
                original["received_at"] = original["received_at"] + shift
                original["session_id"] = self.random.choice([original["session_id"], "s9"])
                batch.append(original)
                continue
            event = self._event(self.clock)
            batch.append(event)
        self.sent.extend(batch)
        return batch
