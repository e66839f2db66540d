"""The event vocabulary of SPEC section 1: types, their categories, what each needs, and the limits."""

from __future__ import annotations

from typing import Final

#: event_type → (event_category, the id columns it needs)
EVENT_TYPES: Final[dict[str, tuple[str, tuple[str, ...]]]] = {
    "PAGE_VIEW": ("VIEW", ()),
    "PERFUME_VIEW": ("VIEW", ("perfume_id",)),
    "HOUSE_VIEW": ("VIEW", ("house_id",)),
    "SEARCH_PERFORMED": ("SEARCH", ()),
    "SEARCH_RESULT_CLICKED": ("SEARCH", ("perfume_id",)),
    "FILTER_APPLIED": ("FILTER", ()),
    "RATING_COMPLETED": ("RATING", ("perfume_id",)),
    "REVIEW_SUBMITTED": ("REVIEW", ("perfume_id",)),
    "WISHLIST_ADD": ("WISHLIST", ("perfume_id",)),
    "WISHLIST_REMOVE": ("WISHLIST", ("perfume_id",)),
    "COLLECTION_ADD": ("COLLECTION", ("perfume_id",)),
    "IMAGE_VIEWED": ("ENGAGEMENT", ()),
    "NOTES_EXPANDED": ("ENGAGEMENT", ()),
    "SIMILAR_CLICKED": ("ENGAGEMENT", ("perfume_id",)),
    "POST_VIEW": ("VIEW", ("post_id",)),
    "POST_CLICK": ("ENGAGEMENT", ("post_id",)),
    "POST_LIKE": ("ENGAGEMENT", ("post_id",)),
    "POST_SHARE": ("ENGAGEMENT", ("post_id",)),
    # sent by the SDK's identify() at login: links the browser's anonymous id to the user
    "USER_IDENTIFIED": ("ENGAGEMENT", ()),
}

#: event_type → event_category, for code that builds events (generators, fixtures)
CATEGORY_OF_EVENT_TYPE: Final[dict[str, str]] = {
    event_type: category for event_type, (category, _) in EVENT_TYPES.items()
}

EVENT_CATEGORIES: Final[frozenset[str]] = frozenset(category for category, _ in EVENT_TYPES.values())

#: `/api/track` (seed 000) interaction_type → event_type
INTERACTION_TYPES: Final[dict[str, str]] = {
    "view": "POST_VIEW",
    "click": "POST_CLICK",
    "like": "POST_LIKE",
    "share": "POST_SHARE",
}

MAX_BODY_BYTES: Final = 1024 * 1024
MAX_EVENTS_PER_REQUEST: Final = 500
MAX_SESSION_ID = 128
MAX_USER_ID = 128
MAX_ENTITY_ID = 64  # perfume_id, house_id, post_id
MAX_URL = 2048  # path, referrer
MAX_USER_AGENT = 512
MAX_SOURCE = 64
MAX_DEVICE_TYPE = 32
MAX_DURATION_MS = 86_400_000
MAX_EVENT_DATA_BYTES = 8 * 1024
#: a (skew-corrected) client timestamp later than received_at by more than this is not trusted
MAX_CLOCK_SKEW_S = 5 * 60
#: a client without an API key may not send events older than this (backfills use a key)
MAX_EVENT_AGE_WITHOUT_KEY_DAYS = 30
RATING_RANGE = (1.0, 5.0)
#: `value` of other events (a price, a count, a score): beyond this it is a bug or an attack, and
#: sums over many events would lose precision
MAX_ABS_VALUE = 1e9
