"""schemathesis hooks for `make fuzz-ingest` (loaded through SCHEMATHESIS_HOOKS).

The ingest endpoints take their JSON body as `text/plain` too (browser beacons): schemathesis
knows no JSON encoding for that media type, so it is given one.
"""

from __future__ import annotations

import json

import schemathesis


@schemathesis.serializer("text/plain")
def json_as_text(ctx, value):  # noqa: ANN001, ANN201 - schemathesis' hook signature
    if isinstance(value, bytes | str):
        return value if isinstance(value, bytes) else value.encode()
    return json.dumps(value).encode()
