"""Which characters a text field may hold, in one place (identity, validation, cookies, headers).

PostgreSQL text cannot hold NUL, and UTF-8 (so neither store) cannot hold a lone surrogate — a
string Python's `json` module happily decodes from `"\\ud800"` (PyJWT reads token claims with it).
One-line fields (ids, paths, URLs, the user agent) also refuse control characters (C0, DEL, C1):
an ESC or a newline there is never data, and would garble logs and reports that print them.
Free text inside `event_data` may hold newlines, so there only NUL and surrogates are refused.
"""

from __future__ import annotations

import re

_CONTROL_OR_UNENCODABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def is_one_line_text(value: str) -> bool:
    """No control character and nothing UTF-8 or PostgreSQL cannot store."""
    return _CONTROL_OR_UNENCODABLE.search(value) is None


def is_storable_text(value: str) -> bool:
    """Nothing UTF-8 or PostgreSQL text cannot store (no NUL, no lone surrogate)."""
    return _UNSTORABLE.search(value) is None


def without_control_characters(value: str) -> str:
    """For values the service only reads (the User-Agent header): drop what cannot be stored."""
    return _CONTROL_OR_UNENCODABLE.sub("", value)
