"""The hand-worked fixture: a small stream with every mart worked out BY HAND from SPEC section 5.

The expectations below are literals (or the spec's formula written out with the ages counted by
hand), never output of the code under test. They check the reference implementation itself, then
the real dbt project on both engines (tests/warehouse/test_reference_by_hand.py,
test_engines_agree.py).

as_of = 2026-05-01 12:00 UTC. Cast:
- ada: an anonymous page view, then logs in (session s-ada-1) and views / rates / wishlists /
  searches / collects; one of her views is retried (same event id), one retried with an EARLIER
  `received_at` and different content (the earliest delivery must win); the page view before her
  login is hers (stitched through the session);
- s-anon: an anonymous visitor who views, wishlists and rates p0003, then bo logs in on that
  browser: all of it is bo's;
- bo: a house view and a perfume view at the same instant (tie broken by received_at), two post
  events, and an old session (> 30 days) whose two events tie on occurred_at AND received_at (tie
  broken by event_id);
- cy: opted out (after opting out, in, out again): her anonymous page view is hers too (her
  session's user), so her whole session goes;
- di: opted out and back in: counts; a post share;
- eve, weeks ago: a house named twice by one event (affinity counts it once), no recent activity;
- two perfumes tied on trending score (rank by perfume_id);
- events exactly on the window edges (as_of - 24 h, - 7 days, - 30 days);
- a bot's view, a view exactly at as_of (counts) and one a second later (does not);
- fay's browser: an anonymous session one day, another the next in which she logs in
  (USER_IDENTIFIED, delivered late, in the second batch): both sessions are hers, one actor;
- a lurker's browser, never identified, over two sessions: one actor `a:<browser>`;
- a shared browser: gus identifies on it first; hal's identification carries an OLDER timestamp
  but was received later (second batch): the browser, and its anonymous session, is gus's.
Catalog rows used (dbt seeds): p0003 (h021, 89.99, fig/ginger/leather/pear), p0006 (h021, 109.99,
leather/musk/neroli/tuberose/ylang-ylang), p0002 (h018, 74.99, geranium/grapefruit/jasmine/oakmoss/
tuberose/yuzu), p0005 (h002, 184.99), p0007 (h010); p-unknown is not in the catalog.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from tests.support.events import event_id_for, privacy_row, raw_event, utc

AS_OF = utc("2026-05-01 12:00")
PA, PB, PC, PX = "p0003", "p0002", "p0006", "p-unknown"
HOUSE_A, HOUSE_B = "h021", "h018"  # houses of PA/PC and of PB
MOBILE = {"device_type": "mobile", "browser": "Mobile Safari", "os": "iOS"}
TABLET = {"device_type": "tablet", "browser": "Chrome", "os": "Android"}
#: the second batch arrives here (the late events of s-anon among them)
SECOND_BATCH_AT = utc("2026-05-01 11:00")
#: the anonymous ids (first-party browser ids) of three browsers
FAY_BROWSER = "b0000000-0000-4000-8000-000000000001"
SHARED_BROWSER = "b0000000-0000-4000-8000-000000000002"
LURKER_BROWSER = "b0000000-0000-4000-8000-000000000003"


def at(text: str, seconds: float = 0) -> datetime:
    return utc(text) + timedelta(seconds=seconds)


def ev(label: str, event_type: str, occurred: str, **fields):
    """An event received 2 s after it occurred unless `received_at` says otherwise."""
    occurred_at = fields.pop("occurred_at", None) or utc(occurred)
    fields.setdefault("received_at", occurred_at + timedelta(seconds=2))
    fields.setdefault("event_id", event_id_for(label))
    return raw_event(event_type, occurred_at=occurred_at, **fields)


def fixture_events() -> list[dict]:
    ada = {"user_id": "u-ada", "session_id": "s-ada-1"}
    anon = {"session_id": "s-anon", **MOBILE, "received_at": SECOND_BATCH_AT}
    bo = {"user_id": "u-bo", "session_id": "s-bo-1"}
    e8 = ev(
        "e8",
        "PERFUME_VIEW",
        "2026-04-30 10:06",
        perfume_id=PB,
        house_id=HOUSE_B,
        path="/p/b",
        duration_ms=10000,
        **ada,
    )
    e12_first = ev(
        "e12",
        "PERFUME_VIEW",
        "",
        occurred_at=at("2026-04-30 10:10", 0.9),
        perfume_id=PC,
        path="/p/c",
        duration_ms=7000,
        received_at=at("2026-04-30 10:10", 5),
        **ada,
    )
    return [
        # s-ada-1
        ev("e1", "PAGE_VIEW", "2026-04-30 10:00", session_id="s-ada-1", path="/"),
        ev("e2", "PERFUME_VIEW", "2026-04-30 10:01", perfume_id=PA, path="/p/a", duration_ms=30000, **ada),
        ev("e3", "PERFUME_VIEW", "2026-04-30 10:02", perfume_id=PA, path="/p/a", **ada),
        ev("e4", "WISHLIST_ADD", "2026-04-30 10:03", perfume_id=PA, path="/p/a", **ada),
        ev("e5", "RATING_COMPLETED", "2026-04-30 10:04", perfume_id=PA, path="/p/a", value=5, **ada),
        ev(
            "e6",
            "SEARCH_PERFORMED",
            "2026-04-30 10:05",
            path="/search",
            event_data={"query": "fig", "resultPerfumeIds": [PA, PB, PX]},
            **ada,
        ),
        ev(
            "e7",
            "SEARCH_RESULT_CLICKED",
            "",
            occurred_at=at("2026-04-30 10:05", 30),
            perfume_id=PB,
            path="/search",
            **ada,
        ),
        e8,
        {**e8, "received_at": e8["received_at"] + timedelta(seconds=30)},  # a retry of the same event
        ev("e9", "WISHLIST_ADD", "2026-04-30 10:07", perfume_id=PB, path="/p/b", **ada),
        ev("e10", "WISHLIST_REMOVE", "2026-04-30 10:08", perfume_id=PB, path="/p/b", **ada),
        ev(
            "e11",
            "COLLECTION_ADD",
            "",
            occurred_at=at("2026-04-30 10:09", 30),
            perfume_id=PC,
            path="/p/c",
            **ada,
        ),
        # the delivery received later carries another duration: the earliest received_at wins
        {**e12_first, "received_at": at("2026-04-30 10:10", 10), "duration_ms": 9000},
        e12_first,
        # s-anon (all delivered late, in the second batch); bo signs in at the end
        ev("a1", "PERFUME_VIEW", "2026-04-30 20:00", perfume_id=PA, path="/p/a", duration_ms=20000, **anon),
        ev("a2", "WISHLIST_ADD", "2026-04-30 20:01", perfume_id=PA, path="/p/a", **anon),
        ev("a3", "RATING_COMPLETED", "2026-04-30 20:02", perfume_id=PA, path="/p/a", value=2, **anon),
        ev(
            "a4",
            "SEARCH_PERFORMED",
            "2026-04-30 20:03",
            path="/search",
            event_data={"query": "oud", "resultPerfumeIds": [PA]},
            **anon,
        ),
        ev(
            "a5",
            "PAGE_VIEW",
            "2026-04-30 20:10",
            session_id="s-anon",
            user_id="u-bo",
            path="/",
            received_at=SECOND_BATCH_AT,
        ),
        # s-bo-1: b1 and b2 at the same instant; b2 was received first although its id sorts last
        ev(
            "b1",
            "HOUSE_VIEW",
            "2026-04-25 09:00",
            house_id=HOUSE_B,
            path="/h/b",
            **TABLET,
            **bo,
            event_id="00000000-0000-4000-8000-000000000001",
            received_at=at("2026-04-25 09:00", 5),
        ),
        ev(
            "b2",
            "PERFUME_VIEW",
            "2026-04-25 09:00",
            perfume_id=PB,
            path="/p/b",
            **bo,
            event_id="f0000000-0000-4000-8000-000000000001",
            received_at=at("2026-04-25 09:00", 2),
        ),
        ev(
            "b3",
            "POST_VIEW",
            "2026-04-30 12:00",
            post_id="post-1",
            path="/posts/1",
            duration_ms=4000,
            scroll_depth=50,
            **bo,
        ),
        ev("b4", "POST_LIKE", "2026-04-30 12:01", post_id="post-1", path="/posts/1", **bo),
        # s-bo-old: same occurred_at and received_at, so event_id decides
        ev(
            "b5",
            "RATING_COMPLETED",
            "2026-03-20 08:00",
            perfume_id=PB,
            value=4,
            path="/p/b",
            session_id="s-bo-old",
            user_id="u-bo",
            event_id="00000000-0000-4000-8000-000000000002",
            received_at=at("2026-03-20 08:00", 3),
        ),
        ev(
            "b6",
            "PERFUME_VIEW",
            "2026-03-20 08:00",
            perfume_id=PX,
            duration_ms=1000,
            path="/p/x",
            **MOBILE,
            session_id="s-bo-old",
            user_id="u-bo",
            event_id="0fffffff-0000-4000-8000-000000000002",
            received_at=at("2026-03-20 08:00", 3),
        ),
        # s-cy: cy is opted out, her anonymous page view stays
        ev("c0", "PAGE_VIEW", "2026-04-30 10:59", session_id="s-cy", path="/"),
        ev("c1", "PERFUME_VIEW", "2026-04-30 11:00", session_id="s-cy", user_id="u-cy", perfume_id=PA),
        ev("c2", "POST_VIEW", "2026-04-30 11:01", session_id="s-cy", user_id="u-cy", post_id="post-1"),
        # di (opted back in)
        ev(
            "d1",
            "POST_SHARE",
            "2026-04-29 12:00",
            session_id="s-di",
            user_id="u-di",
            post_id="post-2",
            path="/posts/2",
        ),
        # s-post: anonymous post reader
        ev(
            "d2",
            "POST_VIEW",
            "2026-04-20 12:00",
            session_id="s-post",
            post_id="post-2",
            scroll_depth=80,
            path="/posts/2",
        ),
        ev("d3", "POST_CLICK", "2026-04-30 13:00", session_id="s-post", post_id="post-1", path="/posts/1"),
        # exactly on window edges: as_of - 24 h (baseline, not views_24h), as_of - 7 days and
        # as_of - 30 days (outside: windows are (as_of - N, as_of])
        ev("g1", "PERFUME_VIEW", "2026-04-30 12:00", session_id="s-bounds", perfume_id=PC, path="/p/c"),
        ev("g2", "PERFUME_VIEW", "2026-04-24 12:00", session_id="s-bounds", perfume_id=PC, path="/p/c?old"),
        ev(
            "g3",
            "POST_LIKE",
            "2026-04-24 12:00",
            session_id="s-di-old",
            user_id="u-di",
            post_id="post-2",
            path="/posts/2",
        ),
        ev("g4", "PAGE_VIEW", "2026-04-01 12:00", session_id="s-di-old", user_id="u-di", path="/"),
        # two perfumes with equal trending scores: rank by perfume_id; t2 was received first
        ev("t1", "PERFUME_VIEW", "2026-04-28 12:00", session_id="s-tie", perfume_id="p-tie-b", path="/t/b"),
        ev(
            "t2",
            "PERFUME_VIEW",
            "2026-04-28 12:00",
            session_id="s-tie",
            perfume_id="p-tie-a",
            path="/t/a",
            received_at=at("2026-04-28 12:00", 1),
        ),
        # eve, long ago: a view of p0005 that also names its house h002 (counts once: 1), a search
        # click on p0007 of house h010 (1.5): h010 ranks first; counted twice, h002 would
        ev(
            "v1",
            "PERFUME_VIEW",
            "2026-03-01 10:00",
            session_id="s-eve",
            user_id="u-eve",
            perfume_id="p0005",
            house_id="h002",
            path="/p/5",
        ),
        ev(
            "v2",
            "SEARCH_RESULT_CLICKED",
            "2026-03-01 10:01",
            session_id="s-eve",
            user_id="u-eve",
            perfume_id="p0007",
            path="/search",
        ),
        # a crawler, and the as_of boundary
        ev("x1", "PERFUME_VIEW", "2026-04-30 11:30", session_id="s-bot", perfume_id=PA, is_bot=True),
        ev(
            "f1",
            "PERFUME_VIEW",
            "2026-05-01 12:00",
            session_id="s-edge",
            perfume_id=PB,
            path="/p/b",
            duration_ms=2000,
            received_at=AS_OF,
        ),
        ev(
            "f2",
            "PERFUME_VIEW",
            "",
            occurred_at=at("2026-05-01 12:00", 1),
            session_id="s-future",
            perfume_id=PB,
            received_at=at("2026-05-01 12:00", 1),
        ),
        # fay's browser: anonymous on 04-29, logs in on 04-30; the login arrives late
        ev("k1", "PERFUME_VIEW", "2026-04-29 09:00", session_id="s-fay-1", anonymous_id=FAY_BROWSER,
           perfume_id="p-fay", path="/p/fay", duration_ms=3000),
        ev("k2", "PAGE_VIEW", "2026-04-30 09:00", session_id="s-fay-2", anonymous_id=FAY_BROWSER, path="/"),
        ev("k3", "USER_IDENTIFIED", "2026-04-30 09:01", session_id="s-fay-2", anonymous_id=FAY_BROWSER,
           user_id="u-fay", path="/login", received_at=SECOND_BATCH_AT),
        # a server-side event of the logged-in fay: no anonymous id
        ev("k4", "PERFUME_VIEW", "2026-04-30 09:02", session_id="s-fay-2", user_id="u-fay",
           perfume_id="p-fay", path="/p/fay", duration_ms=5000),
        # the lurker: one browser, two sessions, never identified
        ev("l1", "PERFUME_VIEW", "2026-04-27 10:00", session_id="s-lurk-1", anonymous_id=LURKER_BROWSER,
           perfume_id="p-lurk", path="/p/lurk"),
        ev("l2", "PERFUME_VIEW", "2026-04-28 10:00", session_id="s-lurk-2", anonymous_id=LURKER_BROWSER,
           perfume_id="p-lurk", path="/p/lurk"),
        # the shared browser: hal's identification claims an older time but was received last
        ev("h1", "USER_IDENTIFIED", "2026-04-29 08:00", session_id="s-hal", anonymous_id=SHARED_BROWSER,
           user_id="u-hal", path="/login", received_at=SECOND_BATCH_AT),
        ev("h2", "USER_IDENTIFIED", "2026-04-30 08:00", session_id="s-gus", anonymous_id=SHARED_BROWSER,
           user_id="u-gus", path="/login"),
        ev("h3", "POST_VIEW", "2026-04-30 10:00", session_id="s-shared-anon", anonymous_id=SHARED_BROWSER,
           post_id="post-3", path="/posts/3", duration_ms=6000, scroll_depth=40),
    ]  # fmt: skip


def fixture_privacy() -> list[dict]:
    return [
        privacy_row("u-cy", "opt_out", utc("2026-04-20 00:00")),
        privacy_row("u-cy", "opt_in", utc("2026-04-25 00:00")),
        privacy_row("u-cy", "opt_out", utc("2026-04-28 00:00")),
        privacy_row("u-di", "opt_out", utc("2026-04-10 00:00")),
        privacy_row("u-di", "opt_in", utc("2026-04-12 00:00")),
    ]


def hours(h: int, m: float = 0) -> float:
    return h + m / 60


def decay_24h(age_hours: float) -> float:
    """trending: 0.5^(age_hours / 24)"""
    return 0.5 ** (age_hours / 24)


def decay_7d(age_hours: float) -> float:
    """engagement: 0.5^(age_days / 7)"""
    return 0.5 ** (age_hours / 24 / 7)


DESKTOP = {"device_type": "desktop", "browser": "Firefox", "os": "Linux"}  # the factory's default


def session(
    session_id,
    user_id,
    started,
    ended,
    duration,
    device,
    count,
    views,
    perfumes,
    interactions,
    searches,
    entry,
    exit_,
    anonymous_id=None,
):
    return {
        "session_id": session_id,
        "user_id": user_id,
        "anonymous_id": anonymous_id,
        "started_at": started,
        "ended_at": ended,
        "duration_seconds": duration,
        **device,
        "event_count": count,
        "page_views": views,
        "perfumes_viewed": perfumes,
        "interactions": interactions,
        "searches": searches,
        "entry_path": entry,
        "exit_path": exit_,
        "is_bounce": count == 1,
    }


def item(actor_id, item_type, item_id, interactions, affinity, recent, first, last=None, **perfume_state):
    """A user_item_interactions row; `perfume_state` overrides is_wishlisted/is_collected/latest_rating."""
    user_id = actor_id[2:] if actor_id.startswith("u:") else None
    return {
        "actor_id": actor_id,
        "user_id": user_id,
        "item_type": item_type,
        "item_id": item_id,
        "interactions": interactions,
        "affinity": affinity,
        "recent_affinity": recent,
        "first_interaction_at": first,
        "last_interaction_at": last or first,
        "is_wishlisted": False,
        "is_collected": False,
        "latest_rating": None,
        **perfume_state,
    }


def cohort(cohort_week, size, active_by_offset, last_offset):
    """The weekly_retention_cohorts rows of one cohort: offsets 0..last_offset, `active_by_offset`
    the active users of the offsets that have any (0 elsewhere)."""
    return [
        {
            "cohort_week": cohort_week,
            "week_offset": offset,
            "cohort_size": size,
            "active_users": active_by_offset.get(offset, 0),
            "retention_rate": active_by_offset.get(offset, 0) / size,
        }
        for offset in range(last_offset + 1)
    ]


# ages from as_of (2026-05-01 12:00) counted by hand
PA_SCORE = (
    1 * decay_24h(hours(25, 59))  # e2 view, 04-30 10:01
    + 1 * decay_24h(hours(25, 58))  # e3 view
    + 3 * decay_24h(hours(25, 57))  # e4 wishlist add
    + 5 * decay_24h(hours(25, 56))  # e5 rating
    + 1 * decay_24h(hours(16))  # a1 view, 04-30 20:00
    + 3 * decay_24h(hours(15, 59))  # a2 wishlist add
    + 5 * decay_24h(hours(15, 58))  # a3 rating
)
PB_SCORE = (
    1.5 * decay_24h(hours(25, 54.5))  # e7 search click, 04-30 10:05:30
    + 1 * decay_24h(hours(25, 54))  # e8 view
    + 3 * decay_24h(hours(25, 53))  # e9 wishlist add
    + 0 * decay_24h(hours(25, 52))  # e10 wishlist remove
    + 1 * decay_24h(hours(6 * 24 + 3))  # b2 view, 04-25 09:00
    + 1 * decay_24h(0)  # f1 view at as_of
)
PC_SCORE = (
    4 * decay_24h(hours(25, 50.5))  # e11 collection add, 04-30 10:09:30
    + 1 * decay_24h(hours(25, 49 + 59.1 / 60))  # e12 view, 04-30 10:10:00.9
    + 1 * decay_24h(hours(24))  # g1 view at as_of - 24 h (g2 at as_of - 7 days is out)
)
P_FAY_SCORE = 1 * decay_24h(hours(51)) + 1 * decay_24h(hours(26, 58))  # k1 04-29 09:00, k4 04-30 09:02
P_LURK_SCORE = 1 * decay_24h(hours(98)) + 1 * decay_24h(hours(74))  # l1 04-27 10:00, l2 04-28 10:00

EXPECTED = {
    "sessions": [
        session(
            "s-ada-1",
            "u-ada",
            utc("2026-04-30 10:00"),
            at("2026-04-30 10:10", 0.9),
            600,
            DESKTOP,
            12,
            5,
            3,
            5,
            2,
            "/",
            "/p/c",
        ),
        session(
            "s-anon",
            "u-bo",
            utc("2026-04-30 20:00"),
            utc("2026-04-30 20:10"),
            600,
            MOBILE,
            5,
            2,
            1,
            2,
            1,
            "/p/a",
            "/",
        ),
        session(
            "s-bo-1",
            "u-bo",
            utc("2026-04-25 09:00"),
            utc("2026-04-30 12:01"),
            442860,
            DESKTOP,
            4,
            3,
            1,
            0,
            0,
            "/p/b",
            "/posts/1",
        ),
        session(
            "s-bo-old",
            "u-bo",
            utc("2026-03-20 08:00"),
            utc("2026-03-20 08:00"),
            0,
            DESKTOP,
            2,
            1,
            2,
            1,
            0,
            "/p/b",
            "/p/x",
        ),
        session(
            "s-di",
            "u-di",
            utc("2026-04-29 12:00"),
            utc("2026-04-29 12:00"),
            0,
            DESKTOP,
            1,
            0,
            0,
            0,
            0,
            "/posts/2",
            "/posts/2",
        ),
        session(
            "s-post",
            None,
            utc("2026-04-20 12:00"),
            utc("2026-04-30 13:00"),
            867600,
            DESKTOP,
            2,
            1,
            0,
            0,
            0,
            "/posts/2",
            "/posts/1",
        ),
        session("s-edge", None, AS_OF, AS_OF, 0, DESKTOP, 1, 1, 1, 0, 0, "/p/b", "/p/b"),
        session(
            "s-bounds",
            None,
            utc("2026-04-24 12:00"),
            utc("2026-04-30 12:00"),
            6 * 86400,
            DESKTOP,
            2,
            2,
            1,
            0,
            0,
            "/p/c?old",
            "/p/c",
        ),
        session(
            "s-eve",
            "u-eve",
            utc("2026-03-01 10:00"),
            utc("2026-03-01 10:01"),
            60,
            DESKTOP,
            2,
            1,
            2,
            0,
            1,
            "/p/5",
            "/search",
        ),
        session(
            "s-tie",
            None,
            utc("2026-04-28 12:00"),
            utc("2026-04-28 12:00"),
            0,
            DESKTOP,
            2,
            2,
            2,
            0,
            0,
            "/t/a",
            "/t/b",
        ),
        session(
            "s-di-old",
            "u-di",
            utc("2026-04-01 12:00"),
            utc("2026-04-24 12:00"),
            23 * 86400,
            DESKTOP,
            2,
            1,
            0,
            0,
            0,
            "/",
            "/posts/2",
        ),
        # the stitched browsers: sessions take their browser's user
        session(
            "s-fay-1",
            "u-fay",
            utc("2026-04-29 09:00"),
            utc("2026-04-29 09:00"),
            0,
            DESKTOP,
            1,
            1,
            1,
            0,
            0,
            "/p/fay",
            "/p/fay",
            FAY_BROWSER,
        ),
        session(
            "s-fay-2",
            "u-fay",
            utc("2026-04-30 09:00"),
            utc("2026-04-30 09:02"),
            120,
            DESKTOP,
            3,
            2,
            1,
            0,
            0,
            "/",
            "/p/fay",
            FAY_BROWSER,
        ),
        session(
            "s-lurk-1",
            None,
            utc("2026-04-27 10:00"),
            utc("2026-04-27 10:00"),
            0,
            DESKTOP,
            1,
            1,
            1,
            0,
            0,
            "/p/lurk",
            "/p/lurk",
            LURKER_BROWSER,
        ),
        session(
            "s-lurk-2",
            None,
            utc("2026-04-28 10:00"),
            utc("2026-04-28 10:00"),
            0,
            DESKTOP,
            1,
            1,
            1,
            0,
            0,
            "/p/lurk",
            "/p/lurk",
            LURKER_BROWSER,
        ),
        session(
            "s-hal",
            "u-hal",
            utc("2026-04-29 08:00"),
            utc("2026-04-29 08:00"),
            0,
            DESKTOP,
            1,
            0,
            0,
            0,
            0,
            "/login",
            "/login",
            SHARED_BROWSER,
        ),
        session(
            "s-gus",
            "u-gus",
            utc("2026-04-30 08:00"),
            utc("2026-04-30 08:00"),
            0,
            DESKTOP,
            1,
            0,
            0,
            0,
            0,
            "/login",
            "/login",
            SHARED_BROWSER,
        ),
        session(
            "s-shared-anon",
            "u-gus",
            utc("2026-04-30 10:00"),
            utc("2026-04-30 10:00"),
            0,
            DESKTOP,
            1,
            1,
            0,
            0,
            0,
            "/posts/3",
            "/posts/3",
            SHARED_BROWSER,
        ),
    ],  # fmt: skip
    "perfume_interaction_stats": [
        {
            "perfume_id": PA,
            "total_views": 3,
            "unique_viewers": 2,
            "avg_view_duration_ms": 25000.0,
            "total_ratings": 2,
            "avg_rating": 3.5,
            "in_wishlist_count": 2,
            "in_collection_count": 0,
            "search_clicks": 0,
            "search_impressions": 2,
            "views_last_7_days": 3,
            "trending_score": PA_SCORE,
            "last_viewed_at": utc("2026-04-30 20:00"),
        },
        {
            "perfume_id": PB,
            "total_views": 3,
            "unique_viewers": 3,
            "avg_view_duration_ms": 6000.0,
            "total_ratings": 1,
            "avg_rating": 4.0,
            "in_wishlist_count": 0,
            "in_collection_count": 0,
            "search_clicks": 1,
            "search_impressions": 1,
            "views_last_7_days": 3,
            "trending_score": PB_SCORE,
            "last_viewed_at": AS_OF,
        },
        {
            "perfume_id": PC,
            "total_views": 3,
            "unique_viewers": 2,
            "avg_view_duration_ms": 7000.0,
            "total_ratings": 0,
            "avg_rating": None,
            "in_wishlist_count": 0,
            "in_collection_count": 1,
            "search_clicks": 0,
            "search_impressions": 0,
            "views_last_7_days": 2,
            "trending_score": PC_SCORE,
            "last_viewed_at": utc("2026-04-30 12:00"),
        },
        {
            "perfume_id": PX,
            "total_views": 1,
            "unique_viewers": 1,
            "avg_view_duration_ms": 1000.0,
            "total_ratings": 0,
            "avg_rating": None,
            "in_wishlist_count": 0,
            "in_collection_count": 0,
            "search_clicks": 0,
            "search_impressions": 1,
            "views_last_7_days": 0,
            "trending_score": 0.0,
            "last_viewed_at": utc("2026-03-20 08:00"),
        },
        {
            "perfume_id": "p0005",
            "total_views": 1,
            "unique_viewers": 1,
            "avg_view_duration_ms": None,
            "total_ratings": 0,
            "avg_rating": None,
            "in_wishlist_count": 0,
            "in_collection_count": 0,
            "search_clicks": 0,
            "search_impressions": 0,
            "views_last_7_days": 0,
            "trending_score": 0.0,
            "last_viewed_at": utc("2026-03-01 10:00"),
        },
        {
            "perfume_id": "p0007",
            "total_views": 0,
            "unique_viewers": 0,
            "avg_view_duration_ms": None,
            "total_ratings": 0,
            "avg_rating": None,
            "in_wishlist_count": 0,
            "in_collection_count": 0,
            "search_clicks": 1,
            "search_impressions": 0,
            "views_last_7_days": 0,
            "trending_score": 0.0,
            "last_viewed_at": None,
        },
        *(
            {
                "perfume_id": perfume_id,
                "total_views": 1,
                "unique_viewers": 1,
                "avg_view_duration_ms": None,
                "total_ratings": 0,
                "avg_rating": None,
                "in_wishlist_count": 0,
                "in_collection_count": 0,
                "search_clicks": 0,
                "search_impressions": 0,
                "views_last_7_days": 1,
                "trending_score": 1 * decay_24h(72),
                "last_viewed_at": utc("2026-04-28 12:00"),
            }
            for perfume_id in ("p-tie-a", "p-tie-b")
        ),
        {
            # k1 (before the login, another session) and k4 are both fay's: one viewer
            "perfume_id": "p-fay",
            "total_views": 2,
            "unique_viewers": 1,
            "avg_view_duration_ms": 4000.0,
            "total_ratings": 0,
            "avg_rating": None,
            "in_wishlist_count": 0,
            "in_collection_count": 0,
            "search_clicks": 0,
            "search_impressions": 0,
            "views_last_7_days": 2,
            "trending_score": P_FAY_SCORE,
            "last_viewed_at": utc("2026-04-30 09:02"),
        },
        {
            # two sessions of one unidentified browser: one actor
            "perfume_id": "p-lurk",
            "total_views": 2,
            "unique_viewers": 1,
            "avg_view_duration_ms": None,
            "total_ratings": 0,
            "avg_rating": None,
            "in_wishlist_count": 0,
            "in_collection_count": 0,
            "search_clicks": 0,
            "search_impressions": 0,
            "views_last_7_days": 2,
            "trending_score": P_LURK_SCORE,
            "last_viewed_at": utc("2026-04-28 10:00"),
        },
    ],
    "trending_perfumes": [
        {
            "perfume_id": PA,
            "trending_score": PA_SCORE,
            "views_24h": 1,
            "baseline_daily_views": 2 / 6,
            "velocity": 1.0,
            "rank": 1,
        },
        {
            "perfume_id": PB,
            "trending_score": PB_SCORE,
            "views_24h": 1,
            "baseline_daily_views": 2 / 6,
            "velocity": 1.0,
            "rank": 2,
        },
        {
            "perfume_id": PC,
            "trending_score": PC_SCORE,
            "views_24h": 0,
            "baseline_daily_views": 2 / 6,
            "velocity": 0.0,
            "rank": 3,
        },
        {
            # 0.688 (p-lurk 0.178, the tied pair 0.125)
            "perfume_id": "p-fay",
            "trending_score": P_FAY_SCORE,
            "views_24h": 0,  # 26 h 58 min and 51 h old
            "baseline_daily_views": 2 / 6,
            "velocity": 0.0,
            "rank": 4,
        },
        {
            "perfume_id": "p-lurk",
            "trending_score": P_LURK_SCORE,
            "views_24h": 0,
            "baseline_daily_views": 2 / 6,
            "velocity": 0.0,
            "rank": 5,
        },
        {
            "perfume_id": "p-tie-a",
            "trending_score": 1 * decay_24h(72),
            "views_24h": 0,
            "baseline_daily_views": 1 / 6,
            "velocity": 0.0,
            "rank": 6,
        },
        {
            "perfume_id": "p-tie-b",
            "trending_score": 1 * decay_24h(72),
            "views_24h": 0,
            "baseline_daily_views": 1 / 6,
            "velocity": 0.0,
            "rank": 7,
        },
    ],
    "user_behavior_profile": [
        {
            "user_id": "u-ada",
            "total_sessions": 1,
            "stitched_events": 1,  # e1, the page view before her login
            "page_views_30d": 5,
            "searches_30d": 2,
            "perfumes_viewed_30d": 3,
            "avg_session_duration_seconds": 600.0,
            "total_ratings": 1,
            "avg_rating_value": 5.0,
            "collection_size": 1,
            "wishlist_size": 1,
            # affinity: h021 = PA 1+1+3+5 + PC 4+1 = 15; h018 = 1.5+1+3+0 = 5.5 (e8 names h018 twice: once)
            "preferred_houses": [HOUSE_A, HOUSE_B],
            # leather 10+5, tuberose 5+5.5, fig/ginger/pear 10 (then by name); musk... 5, geranium... 5.5
            "preferred_notes": ["leather", "tuberose", "fig", "ginger", "pear"],
            "preferred_price_range": {"min": 74.99, "max": 109.99, "avg": (89.99 + 74.99 + 109.99) / 3},
            "engagement_score": (
                0.5 * decay_7d(hours(26))  # e1, 04-30 10:00
                + 1 * decay_7d(hours(25, 59))
                + 1 * decay_7d(hours(25, 58))
                + 3 * decay_7d(hours(25, 57))
                + 5 * decay_7d(hours(25, 56))
                + 1 * decay_7d(hours(25, 55))
                + 1.5 * decay_7d(hours(25, 54.5))
                + 1 * decay_7d(hours(25, 54))
                + 3 * decay_7d(hours(25, 53))
                + 0
                + 4 * decay_7d(hours(25, 50.5))
                + 1 * decay_7d(hours(25, 49 + 59.1 / 60))
            ),
            "first_seen_at": utc("2026-04-30 10:00"),
            "last_active_at": at("2026-04-30 10:10", 0.9),
        },
        {
            # s-anon's a1..a4 (before bo logged in on that browser) are bo's
            "user_id": "u-bo",
            "total_sessions": 3,
            "stitched_events": 4,
            "page_views_30d": 5,  # a1, a5, b2, b3 and the house view b1
            "searches_30d": 1,  # a4
            "perfumes_viewed_30d": 2,  # PA (a1..a3), PB (b2)
            "avg_session_duration_seconds": (600 + 442860 + 0) / 3,
            "total_ratings": 2,  # a3 (2) and b5 (4)
            "avg_rating_value": 3.0,
            "collection_size": 0,
            "wishlist_size": 1,  # a2's add of PA
            # h021: a1 1 + a2 3 + a3 5 = 9; h018: b1 1 + b2 1 + b5 5 = 7
            "preferred_houses": [HOUSE_A, HOUSE_B],
            # PA's notes 9 each (by name), then PB's (6 each): geranium first by name
            "preferred_notes": ["fig", "ginger", "leather", "pear", "geranium"],
            # PB viewed and rated 4, PA viewed and wishlisted (its rating 2 is below 4)
            "preferred_price_range": {"min": 74.99, "max": 89.99, "avg": (74.99 + 89.99) / 2},
            "engagement_score": (
                1 * decay_7d(hours(16))  # a1 view, 04-30 20:00
                + 3 * decay_7d(hours(15, 59))  # a2 wishlist add
                + 5 * decay_7d(hours(15, 58))  # a3 rating
                + 1 * decay_7d(hours(15, 57))  # a4 search
                + 0.5 * decay_7d(hours(15, 50))  # a5 page view, 04-30 20:10
                + 1 * decay_7d(hours(6 * 24 + 3)) * 2  # b1, b2 on 04-25 09:00
                + 0.5 * decay_7d(hours(24))  # b3 post view
                + 2 * decay_7d(hours(23, 59))  # b4 post like
            ),
            "first_seen_at": utc("2026-03-20 08:00"),
            "last_active_at": utc("2026-04-30 20:10"),
        },
        {
            "user_id": "u-di",
            "total_sessions": 2,
            "stitched_events": 0,
            "page_views_30d": 0,
            "searches_30d": 0,
            "perfumes_viewed_30d": 0,
            "avg_session_duration_seconds": (0 + 23 * 86400) / 2,
            "total_ratings": 0,
            "avg_rating_value": None,
            "collection_size": 0,
            "wishlist_size": 0,
            "preferred_houses": [],
            "preferred_notes": [],
            "preferred_price_range": None,
            # d1 share 2 days ago, g3 like 7 days ago; g4 sits on the 30-day edge: out
            "engagement_score": 3 * decay_7d(48) + 2 * decay_7d(7 * 24),
            "first_seen_at": utc("2026-04-01 12:00"),
            "last_active_at": utc("2026-04-29 12:00"),
        },
        {
            "user_id": "u-eve",
            "total_sessions": 1,
            "stitched_events": 0,
            "page_views_30d": 0,
            "searches_30d": 0,
            "perfumes_viewed_30d": 0,
            "avg_session_duration_seconds": 60.0,
            "total_ratings": 0,
            "avg_rating_value": None,
            "collection_size": 0,
            "wishlist_size": 0,
            "preferred_houses": ["h010", "h002"],
            # lemon, magnolia 1 + 1.5; jasmine, vetiver 1.5; oakmoss, peony, tuberose 1 (ties by name)
            "preferred_notes": ["lemon", "magnolia", "jasmine", "vetiver", "oakmoss"],
            # viewed p0005; p0007 was only clicked in search results
            "preferred_price_range": {"min": 184.99, "max": 184.99, "avg": 184.99},
            "engagement_score": 0.0,  # nothing in the last 30 days: an empty sum
            "first_seen_at": utc("2026-03-01 10:00"),
            "last_active_at": utc("2026-03-01 10:01"),
        },
        {
            # k1 (s-fay-1, through her browser) and k2 (before her login) are stitched
            "user_id": "u-fay",
            "total_sessions": 2,
            "stitched_events": 2,
            "page_views_30d": 3,  # k1, k2, k4 (the identification is an ENGAGEMENT)
            "searches_30d": 0,
            "perfumes_viewed_30d": 1,
            "avg_session_duration_seconds": (0 + 120) / 2,
            "total_ratings": 0,
            "avg_rating_value": None,
            "collection_size": 0,
            "wishlist_size": 0,
            "preferred_houses": [],  # p-fay is not in the catalog
            "preferred_notes": [],
            "preferred_price_range": None,
            "engagement_score": (
                1 * decay_7d(hours(51)) + 0.5 * decay_7d(hours(27)) + 0 + 1 * decay_7d(hours(26, 58))
            ),
            "first_seen_at": utc("2026-04-29 09:00"),
            "last_active_at": utc("2026-04-30 09:02"),
        },
        {
            # the shared browser's first received identification: its anonymous post view is gus's
            "user_id": "u-gus",
            "total_sessions": 2,
            "stitched_events": 1,
            "page_views_30d": 1,
            "searches_30d": 0,
            "perfumes_viewed_30d": 0,
            "avg_session_duration_seconds": 0.0,
            "total_ratings": 0,
            "avg_rating_value": None,
            "collection_size": 0,
            "wishlist_size": 0,
            "preferred_houses": [],
            "preferred_notes": [],
            "preferred_price_range": None,
            "engagement_score": 0 + 0.5 * decay_7d(hours(26)),  # h3, 04-30 10:00
            "first_seen_at": utc("2026-04-30 08:00"),
            "last_active_at": utc("2026-04-30 10:00"),
        },
        {
            "user_id": "u-hal",
            "total_sessions": 1,
            "stitched_events": 0,
            "page_views_30d": 0,
            "searches_30d": 0,
            "perfumes_viewed_30d": 0,
            "avg_session_duration_seconds": 0.0,
            "total_ratings": 0,
            "avg_rating_value": None,
            "collection_size": 0,
            "wishlist_size": 0,
            "preferred_houses": [],
            "preferred_notes": [],
            "preferred_price_range": None,
            "engagement_score": 0.0,  # USER_IDENTIFIED weighs 0
            "first_seen_at": utc("2026-04-29 08:00"),
            "last_active_at": utc("2026-04-29 08:00"),
        },
    ],
    "post_engagement": [
        {
            "post_id": "post-1",
            "views": 1,
            "clicks": 1,
            "likes": 1,
            "shares": 0,
            "unique_users": 1,
            "avg_view_duration_ms": 4000.0,
            "avg_scroll_depth": 50.0,
            "engagements_7d": 3,
            "last_interaction_at": utc("2026-04-30 13:00"),
        },
        {
            "post_id": "post-2",
            "views": 1,
            "clicks": 0,
            "likes": 1,
            "shares": 1,
            "unique_users": 1,
            "avg_view_duration_ms": None,
            "avg_scroll_depth": 80.0,
            "engagements_7d": 0,
            "last_interaction_at": utc("2026-04-29 12:00"),
        },
        {
            "post_id": "post-3",
            "views": 1,
            "clicks": 0,
            "likes": 0,
            "shares": 0,
            "unique_users": 1,  # gus, through the shared browser
            "avg_view_duration_ms": 6000.0,
            "avg_scroll_depth": 40.0,
            "engagements_7d": 1,
            "last_interaction_at": utc("2026-04-30 10:00"),
        },
    ],
    "user_engagement_30d": [
        {"user_id": "u-ada", "event_type": "PAGE_VIEW", "interactions": 1},
        {"user_id": "u-ada", "event_type": "PERFUME_VIEW", "interactions": 4},
        {"user_id": "u-ada", "event_type": "WISHLIST_ADD", "interactions": 2},
        {"user_id": "u-ada", "event_type": "WISHLIST_REMOVE", "interactions": 1},
        {"user_id": "u-ada", "event_type": "RATING_COMPLETED", "interactions": 1},
        {"user_id": "u-ada", "event_type": "SEARCH_PERFORMED", "interactions": 1},
        {"user_id": "u-ada", "event_type": "SEARCH_RESULT_CLICKED", "interactions": 1},
        {"user_id": "u-ada", "event_type": "COLLECTION_ADD", "interactions": 1},
        {"user_id": "u-bo", "event_type": "PAGE_VIEW", "interactions": 1},
        {"user_id": "u-bo", "event_type": "HOUSE_VIEW", "interactions": 1},
        {"user_id": "u-bo", "event_type": "PERFUME_VIEW", "interactions": 2},
        {"user_id": "u-bo", "event_type": "WISHLIST_ADD", "interactions": 1},
        {"user_id": "u-bo", "event_type": "RATING_COMPLETED", "interactions": 1},  # b5 is 42 days old
        {"user_id": "u-bo", "event_type": "SEARCH_PERFORMED", "interactions": 1},
        {"user_id": "u-bo", "event_type": "POST_VIEW", "interactions": 1},
        {"user_id": "u-bo", "event_type": "POST_LIKE", "interactions": 1},
        {"user_id": "u-di", "event_type": "POST_SHARE", "interactions": 1},
        {"user_id": "u-di", "event_type": "POST_LIKE", "interactions": 1},
        {"user_id": "u-fay", "event_type": "PERFUME_VIEW", "interactions": 2},
        {"user_id": "u-fay", "event_type": "PAGE_VIEW", "interactions": 1},
        {"user_id": "u-fay", "event_type": "USER_IDENTIFIED", "interactions": 1},
        {"user_id": "u-gus", "event_type": "USER_IDENTIFIED", "interactions": 1},
        {"user_id": "u-gus", "event_type": "POST_VIEW", "interactions": 1},
        {"user_id": "u-hal", "event_type": "USER_IDENTIFIED", "interactions": 1},
    ],
    "identity_map": [
        {
            "anonymous_id": FAY_BROWSER,
            "user_id": "u-fay",
            "identified_at": utc("2026-04-30 09:01"),  # k3
            "first_seen_at": utc("2026-04-29 09:00"),  # k1
            "sessions": 2,
        },
        {
            # gus's identification was received first; hal's older timestamp does not move it
            "anonymous_id": SHARED_BROWSER,
            "user_id": "u-gus",
            "identified_at": utc("2026-04-30 08:00"),
            "first_seen_at": utc("2026-04-29 08:00"),  # hal's event is the earliest one seen
            "sessions": 3,
        },
        # the lurker's browser was never identified: no row
    ],
    # an event's items are its own perfume_id, house_id and post_id; s-cy is gone (cy opted out),
    # the bot's x1 and f2 (after as_of) never count; recent_affinity decays by 0.5^(age_days / 7)
    "user_item_interactions": [
        # ada: e2 e3 views, e4 wishlist add, e5 rating 5 of PA
        item(
            "u:u-ada",
            "perfume",
            PA,
            4,
            1 + 1 + 3 + 5,
            decay_7d(hours(25, 59))
            + decay_7d(hours(25, 58))
            + 3 * decay_7d(hours(25, 57))
            + 5 * decay_7d(hours(25, 56)),
            utc("2026-04-30 10:01"),
            utc("2026-04-30 10:04"),
            is_wishlisted=True,
            latest_rating=5.0,
        ),
        # e7 click, e8 view (its retry is the same event), e9 add, e10 remove (latest: not wishlisted)
        item(
            "u:u-ada",
            "perfume",
            PB,
            4,
            1.5 + 1 + 3 + 0,
            1.5 * decay_7d(hours(25, 54.5)) + decay_7d(hours(25, 54)) + 3 * decay_7d(hours(25, 53)),
            at("2026-04-30 10:05", 30),
            utc("2026-04-30 10:08"),
        ),
        item("u:u-ada", "house", HOUSE_B, 1, 1, decay_7d(hours(25, 54)), utc("2026-04-30 10:06")),  # e8
        # e11 collection add, e12 view
        item(
            "u:u-ada",
            "perfume",
            PC,
            2,
            4 + 1,
            4 * decay_7d(hours(25, 50.5)) + decay_7d(hours(25, 49 + 59.1 / 60)),
            at("2026-04-30 10:09", 30),
            at("2026-04-30 10:10", 0.9),
            is_collected=True,
        ),
        # bo: s-anon's a1 view, a2 add, a3 rating 2 (stitched); b1 house view; b2 view and the old
        # b5 rating 4 of PB (42 days: no recent affinity); b6 of PX, old too; b3 b4 on post-1
        item(
            "u:u-bo",
            "perfume",
            PA,
            3,
            1 + 3 + 5,
            decay_7d(hours(16)) + 3 * decay_7d(hours(15, 59)) + 5 * decay_7d(hours(15, 58)),
            utc("2026-04-30 20:00"),
            utc("2026-04-30 20:02"),
            is_wishlisted=True,
            latest_rating=2.0,
        ),
        item("u:u-bo", "house", HOUSE_B, 1, 1, decay_7d(hours(6 * 24 + 3)), utc("2026-04-25 09:00")),
        item(
            "u:u-bo",
            "perfume",
            PB,
            2,
            1 + 5,
            decay_7d(hours(6 * 24 + 3)),
            utc("2026-03-20 08:00"),
            utc("2026-04-25 09:00"),
            latest_rating=4.0,
        ),
        item("u:u-bo", "perfume", PX, 1, 1, 0.0, utc("2026-03-20 08:00")),
        item(
            "u:u-bo",
            "post",
            "post-1",
            2,
            0.5 + 2,
            0.5 * decay_7d(hours(24)) + 2 * decay_7d(hours(23, 59)),
            utc("2026-04-30 12:00"),
            utc("2026-04-30 12:01"),
        ),
        # di: d1 share, g3 like exactly 7 days ago (inside 30 days)
        item(
            "u:u-di",
            "post",
            "post-2",
            2,
            3 + 2,
            3 * decay_7d(48) + 2 * decay_7d(7 * 24),
            utc("2026-04-24 12:00"),
            utc("2026-04-29 12:00"),
        ),
        # the anonymous post reader (no anonymous id: a session actor)
        item("s:s-post", "post", "post-2", 1, 0.5, 0.5 * decay_7d(11 * 24), utc("2026-04-20 12:00")),
        item("s:s-post", "post", "post-1", 1, 1, decay_7d(23), utc("2026-04-30 13:00")),
        item(
            "s:s-bounds",
            "perfume",
            PC,
            2,
            2,
            decay_7d(24) + decay_7d(7 * 24),
            utc("2026-04-24 12:00"),
            utc("2026-04-30 12:00"),
        ),
        item("s:s-tie", "perfume", "p-tie-b", 1, 1, decay_7d(72), utc("2026-04-28 12:00")),
        item("s:s-tie", "perfume", "p-tie-a", 1, 1, decay_7d(72), utc("2026-04-28 12:00")),
        # eve, two months ago: v1 names p0005 and h002 (a row each), v2 clicks p0007
        item("u:u-eve", "perfume", "p0005", 1, 1, 0.0, utc("2026-03-01 10:00")),
        item("u:u-eve", "house", "h002", 1, 1, 0.0, utc("2026-03-01 10:00")),
        item("u:u-eve", "perfume", "p0007", 1, 1.5, 0.0, utc("2026-03-01 10:01")),
        item("s:s-edge", "perfume", PB, 1, 1, 1.0, utc("2026-05-01 12:00")),  # f1 at as_of: age 0
        # fay's k1 (anonymous, through her browser) and k4
        item(
            "u:u-fay",
            "perfume",
            "p-fay",
            2,
            2,
            decay_7d(hours(51)) + decay_7d(hours(26, 58)),
            utc("2026-04-29 09:00"),
            utc("2026-04-30 09:02"),
        ),
        # the lurker's browser: one actor over two sessions
        item(
            f"a:{LURKER_BROWSER}",
            "perfume",
            "p-lurk",
            2,
            2,
            decay_7d(98) + decay_7d(74),
            utc("2026-04-27 10:00"),
            utc("2026-04-28 10:00"),
        ),
        # h3 on the shared browser: gus's
        item("u:u-gus", "post", "post-3", 1, 0.5, 0.5 * decay_7d(hours(26)), utc("2026-04-30 10:00")),
    ],
    # cohort weeks are Mondays; as_of (Friday 2026-05-01) is in the week of Monday 04-27
    "weekly_retention_cohorts": [
        # eve: only Sunday 03-01 (week of 02-23); 63 days to 04-27: offsets 0..9
        *cohort(date(2026, 2, 23), 1, {0: 1}, 9),
        # bo: Friday 03-20 (week of 03-16), Saturday 04-25 (04-20: offset 5), 04-30 (04-27: 6)
        *cohort(date(2026, 3, 16), 1, {0: 1, 5: 1, 6: 1}, 6),
        # di: Wednesday 04-01 (week of 03-30), Friday 04-24 (04-20: offset 3), 04-29 (04-27: 4)
        *cohort(date(2026, 3, 30), 1, {0: 1, 3: 1, 4: 1}, 4),
        # ada, fay, gus, hal: first seen this week (cy is opted out: no cohort)
        *cohort(date(2026, 4, 27), 4, {0: 4}, 0),
    ],
}
