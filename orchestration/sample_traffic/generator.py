"""Deterministic sample traffic: users browsing a perfume site, as the SDKs of seeds 000/004 send it.

Everything comes from one seeded `random.Random`, so the same seed and `now` give the same events
(ids included). Sessions are anonymous or logged in; they follow funnels (search → click → view →
wishlist/collection/rating), browse houses, read and like posts; a few are crawlers. Popularity is
skewed (a long tail) and a handful of "rising" perfumes gain attention over the last days, so
trending and the weekly report have something to show.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from ingest_service.event_types import CATEGORY_OF_EVENT_TYPE
from orchestration.sample_traffic.catalog import Catalog, Perfume

POST_EVENT_TYPES = ("POST_VIEW", "POST_CLICK", "POST_LIKE", "POST_SHARE")


@dataclass(frozen=True)
class Client:
    """A browser or crawler; the labels are what a user-agent parser reports for `user_agent`."""

    user_agent: str
    device_type: str
    browser: str
    os: str
    is_bot: bool = False


BROWSERS = (
    Client(
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Safari/537.36",
        "desktop",
        "Chrome",
        "Windows",
    ),
    Client(
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Safari/605.1.15",
        "desktop",
        "Safari",
        "Mac OS X",
    ),
    Client(
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
        "desktop",
        "Firefox",
        "Ubuntu",
    ),
    Client(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1",
        "mobile",
        "Mobile Safari",
        "iOS",
    ),
    Client(
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
        "mobile",
        "Chrome Mobile",
        "Android",
    ),
    Client(
        "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.4 Mobile/15E148 Safari/604.1",
        "tablet",
        "Mobile Safari",
        "iOS",
    ),
)
BROWSER_WEIGHTS = (30, 14, 6, 26, 18, 6)
CRAWLERS = (
    Client(
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "bot",
        "Googlebot",
        "unknown",
        is_bot=True,
    ),
    Client(
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "bot",
        "bingbot",
        "unknown",
        is_bot=True,
    ),
)
REFERRERS = (None, None, "https://www.google.com/", "https://www.instagram.com/", "https://www.reddit.com/")
SEARCH_WORDS = ("vanilla", "oud", "rose", "citrus", "amber", "fresh", "woody", "musk", "summer", "iris")
FILTERS = ({"priceMax": 100}, {"gender": "unisex"}, {"family": "woody"}, {"family": "floral"})


@dataclass(frozen=True)
class SampleEvent:
    event_id: str
    event_type: str
    occurred_at: datetime
    perfume_id: str | None = None
    house_id: str | None = None
    post_id: str | None = None
    path: str | None = None
    referrer: str | None = None
    duration_ms: int | None = None
    scroll_depth: int | None = None
    value: float | None = None
    source: str | None = None
    event_data: dict[str, Any] = field(default_factory=dict)

    @property
    def event_category(self) -> str:
        return CATEGORY_OF_EVENT_TYPE[self.event_type]


@dataclass(frozen=True)
class SampleSession:
    session_id: str
    user_id: str | None
    client: Client
    events: tuple[SampleEvent, ...]
    anonymous_id: str | None = None
    """The browser's first-party id (the SDK's anonymousId); crawlers run no SDK."""


@dataclass(frozen=True)
class TrafficConfig:
    seed: int = 7
    users: int = 60
    sessions: int = 400
    days: int = 21
    """Sessions start within the last `days` days before `now`."""
    posts: int = 25
    logged_in_share: float = 0.55
    bot_share: float = 0.05
    rising_perfumes: int = 4
    returning_anonymous_share: float = 0.3
    """Of the anonymous sessions, the share that come from a known user's browser, logged out."""


@dataclass(frozen=True)
class SampleTraffic:
    now: datetime
    sessions: tuple[SampleSession, ...]

    def events(self) -> Iterator[tuple[SampleSession, SampleEvent]]:
        for session in self.sessions:
            for event in session.events:
                yield session, event


class _SessionWriter:
    """Appends a session's events, moving its clock forward a realistic few seconds each time."""

    def __init__(self, rng: random.Random, start: datetime, logged_in: bool) -> None:
        self.rng = rng
        self.clock = start
        self.logged_in = logged_in
        self.events: list[SampleEvent] = []

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, event_type: str, **fields: Any) -> None:
        self.events.append(
            SampleEvent(event_id=self.new_id(), event_type=event_type, occurred_at=self.clock, **fields)
        )
        self.clock += timedelta(seconds=self.rng.randint(4, 90))


class TrafficGenerator:
    def __init__(self, catalog: Catalog, config: TrafficConfig, now: datetime) -> None:
        self.catalog = catalog
        self.config = config
        self.now = now
        self.rng = random.Random(config.seed)
        perfumes = list(catalog.perfumes)
        self.rng.shuffle(perfumes)  # popularity rank independent of the catalog's order
        self.perfumes = perfumes
        self.by_id = {perfume.perfume_id: perfume for perfume in perfumes}
        self.by_house = {
            house: tuple(p for p in perfumes if p.house_id == house)
            for house in {p.house_id for p in perfumes}
        }
        self._choice_tables: dict[tuple[str | None, bool], tuple[tuple[Perfume, ...], list[float]]] = {}
        self.base_weight = {p.perfume_id: 1.0 / (rank + 1) ** 1.1 for rank, p in enumerate(perfumes)}
        # Rising perfumes come from the long tail, so their jump is visible against the baseline.
        tail = perfumes[len(perfumes) // 2 :] or perfumes
        self.rising = set(
            self.rng.sample([p.perfume_id for p in tail], min(config.rising_perfumes, len(tail)))
        )
        self.posts = [f"post_{index:04d}" for index in range(1, config.posts + 1)]
        self.users = [f"user_{self.rng.getrandbits(40):010x}" for _ in range(config.users)]
        self.user_weights = [1.0 / (rank + 1) ** 0.8 for rank in range(config.users)]
        self.user_clients = {user: self._browser() for user in self.users}
        self.user_browsers = {user: self._anonymous_id() for user in self.users}

    # -- choices -----------------------------------------------------------------------------
    def _anonymous_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _browser(self) -> Client:
        return self.rng.choices(BROWSERS, weights=BROWSER_WEIGHTS)[0]

    def _perfume(self, at: datetime, house_id: str | None = None) -> Perfume:
        """A perfume by popularity (of one house when given); rising ones weigh more lately."""
        recent = (self.now - at) < timedelta(days=3)
        key = (house_id, recent)
        if key not in self._choice_tables:  # the weights only depend on (house, recent): compute once
            candidates = self.by_house[house_id] if house_id else tuple(self.perfumes)
            weights = [
                self.base_weight[p.perfume_id] * (12.0 if recent and p.perfume_id in self.rising else 1.0)
                for p in candidates
            ]
            self._choice_tables[key] = (candidates, list(accumulate(weights)))
        candidates, cumulative = self._choice_tables[key]
        return self.rng.choices(candidates, cum_weights=cumulative)[0]

    def _session_start(self) -> datetime:
        # Denser towards `now` (a growing site); sessions end well before `now`.
        age_days = self.config.days * (1 - self.rng.random() ** 0.7)
        start = self.now - timedelta(days=age_days) - timedelta(minutes=90)
        return start.replace(microsecond=0)

    # -- behaviour ---------------------------------------------------------------------------
    def _engage_with(self, writer: _SessionWriter, perfume: Perfume, source: str) -> None:
        rng = writer.rng
        path = f"/perfumes/{perfume.perfume_id}"
        writer.add(
            "PERFUME_VIEW",
            perfume_id=perfume.perfume_id,
            house_id=perfume.house_id,
            path=path,
            duration_ms=rng.randint(3_000, 180_000),
            source=source,
        )
        if rng.random() < 0.3:
            writer.add("IMAGE_VIEWED", perfume_id=perfume.perfume_id, path=path)
        if rng.random() < 0.25:
            writer.add("NOTES_EXPANDED", perfume_id=perfume.perfume_id, path=path)
        if not writer.logged_in:
            return
        if rng.random() < 0.18:
            writer.add("WISHLIST_ADD", perfume_id=perfume.perfume_id, path=path)
            if rng.random() < 0.2:
                writer.add("WISHLIST_REMOVE", perfume_id=perfume.perfume_id, path=path)
        if rng.random() < 0.08:
            writer.add("COLLECTION_ADD", perfume_id=perfume.perfume_id, path=path)
        if rng.random() < 0.12:
            writer.add(
                "RATING_COMPLETED",
                perfume_id=perfume.perfume_id,
                path=path,
                value=float(rng.choice((3, 4, 4, 5, 5, 2))),
            )
            if rng.random() < 0.3:
                writer.add(
                    "REVIEW_SUBMITTED",
                    perfume_id=perfume.perfume_id,
                    path=path,
                    event_data={"length": rng.randint(40, 900)},
                )
        if rng.random() < 0.15:
            similar = self._perfume(writer.clock, perfume.house_id)
            writer.add("SIMILAR_CLICKED", perfume_id=similar.perfume_id, path=path)
            self._engage_with(writer, similar, "similar")

    def _search(self, writer: _SessionWriter) -> None:
        rng = writer.rng
        results = []
        while len(results) < min(6, len(self.perfumes)):
            candidate = self._perfume(writer.clock).perfume_id
            if candidate not in results:
                results.append(candidate)
        query = rng.choice(SEARCH_WORDS)
        writer.add(
            "SEARCH_PERFORMED", path="/search", event_data={"query": query, "resultPerfumeIds": results}
        )
        if rng.random() < 0.65:
            clicked = self.by_id[rng.choice(results[:4])]
            writer.add(
                "SEARCH_RESULT_CLICKED", perfume_id=clicked.perfume_id, path="/search", source="search"
            )
            self._engage_with(writer, clicked, "search")

    def _browse_house(self, writer: _SessionWriter) -> None:
        house_id = self._perfume(writer.clock).house_id
        writer.add("HOUSE_VIEW", house_id=house_id, path=f"/houses/{house_id}")
        if writer.rng.random() < 0.4:
            writer.add(
                "FILTER_APPLIED",
                path=f"/houses/{house_id}",
                event_data={"filter": writer.rng.choice(FILTERS)},
            )
        self._engage_with(writer, self._perfume(writer.clock, house_id), "house")

    def _read_posts(self, writer: _SessionWriter) -> None:
        rng = writer.rng
        for post_id in rng.sample(self.posts, rng.randint(1, 4)):
            writer.add(
                "POST_VIEW",
                post_id=post_id,
                duration_ms=rng.randint(1_000, 60_000),
                scroll_depth=rng.randint(10, 100),
                source="feed",
            )
            if rng.random() < 0.35:
                writer.add("POST_CLICK", post_id=post_id, source="feed")
            if rng.random() < 0.25:
                writer.add("POST_LIKE", post_id=post_id, source="feed")
            if rng.random() < 0.08:
                writer.add("POST_SHARE", post_id=post_id, source="feed", event_data={"method": "clipboard"})

    def _human_session(
        self, session_id: str, user_id: str | None, client: Client, anonymous_id: str
    ) -> SampleSession:
        rng = self.rng
        writer = _SessionWriter(rng, self._session_start(), logged_in=user_id is not None)
        if user_id is not None:  # the site calls identify() once the user is logged in
            writer.add("USER_IDENTIFIED", path="/")
        referrer = rng.choice(REFERRERS)
        if referrer == "https://www.google.com/":
            self._engage_with(writer, self._perfume(writer.clock), "google")
        else:
            writer.add("PAGE_VIEW", path="/", referrer=referrer)
        # Geometric number of further steps: many short visits, a few long ones (and some bounces).
        while rng.random() < 0.72 and len(writer.events) < 40:
            action = rng.choices(
                ("search", "perfume", "house", "filter", "posts"), weights=(30, 28, 12, 5, 25)
            )[0]
            if action == "search":
                self._search(writer)
            elif action == "perfume":
                self._engage_with(writer, self._perfume(writer.clock), "browse")
            elif action == "house":
                self._browse_house(writer)
            elif action == "filter":
                writer.add("FILTER_APPLIED", path="/perfumes", event_data={"filter": rng.choice(FILTERS)})
            elif user_id is not None:  # /api/track needs an identified user (SPEC section 2)
                self._read_posts(writer)
        return SampleSession(session_id, user_id, client, tuple(writer.events), anonymous_id)

    def _bot_session(self, session_id: str) -> SampleSession:
        writer = _SessionWriter(self.rng, self._session_start(), logged_in=False)
        for perfume in self.rng.sample(self.perfumes, min(12, len(self.perfumes))):
            writer.add(
                "PERFUME_VIEW",
                perfume_id=perfume.perfume_id,
                house_id=perfume.house_id,
                path=f"/perfumes/{perfume.perfume_id}",
            )
        return SampleSession(session_id, None, self.rng.choice(CRAWLERS), tuple(writer.events))

    def generate(self) -> SampleTraffic:
        sessions = []
        for _ in range(self.config.sessions):
            session_id = f"s_{self.rng.getrandbits(96):024x}"
            roll = self.rng.random()
            if roll < self.config.bot_share:
                sessions.append(self._bot_session(session_id))
            elif roll < self.config.bot_share + self.config.logged_in_share:
                user = self.rng.choices(self.users, weights=self.user_weights)[0]
                sessions.append(
                    self._human_session(session_id, user, self.user_clients[user], self.user_browsers[user])
                )
            elif self.rng.random() < self.config.returning_anonymous_share:
                # a known user browsing logged out on their own browser: stitched to them
                user = self.rng.choices(self.users, weights=self.user_weights)[0]
                sessions.append(
                    self._human_session(session_id, None, self.user_clients[user], self.user_browsers[user])
                )
            else:
                sessions.append(self._human_session(session_id, None, self._browser(), self._anonymous_id()))
        sessions.sort(key=lambda session: session.events[0].occurred_at)
        return SampleTraffic(now=self.now, sessions=tuple(sessions))


def generate_traffic(catalog: Catalog, now: datetime, config: TrafficConfig | None = None) -> SampleTraffic:
    # Whole seconds: the timestamps survive the millisecond ISO strings the SDKs send unchanged.
    return TrafficGenerator(catalog, config or TrafficConfig(), now.replace(microsecond=0)).generate()
