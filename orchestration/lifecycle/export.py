"""Export: everything stored about one user as one JSON document (SPEC section 7).

The document holds the user's data (SPEC section 7): their raw events from every raw store — their
own and the stitched ones (no user id of their own: theirs through their session or browser),
marked `stitched` —, their rejected events (SPEC section 11: those with their verified user id, or
without one from their sessions or browsers, as erasure deletes them) and their privacy requests
(all read by `ingest_service.upkeep.raw_export`), and
their rows of the per-user marts (`sessions`, `user_behavior_profile`, `user_engagement_30d`, the
browsers of `identity_map`). The aggregate marts (perfume stats, trending, post engagement) hold no
row of any single user and are not part of it.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest_service.storage.locations import RawStores
from ingest_service.upkeep.raw_export import export_raw_rows, jsonable
from orchestration.warehouse import WarehouseTarget

#: 2: stitched events (marked) and the browsers of identity_map; 3: rejected_events
EXPORT_FORMAT_VERSION = 3


def export_user(stores: RawStores, target: WarehouseTarget, user_id: str) -> dict[str, Any]:
    """The export document of `user_id` (see the module docstring); read only.

    Reading the DuckDB warehouse waits for a build that is writing it (the writer lock)."""
    raw = export_raw_rows(stores, user_id)
    with target.writer_lock():
        marts = target.rows_of_user(user_id)
    profiles = marts.get("user_behavior_profile", [])
    return jsonable(
        {
            "format_version": EXPORT_FORMAT_VERSION,
            "user_id": user_id,
            "exported_at": datetime.now(UTC),
            "sources": {"raw": raw.stores, "warehouse": target.describe() if marts else None},
            "raw_events": raw.raw_events,
            "rejected_events": raw.rejected_events,
            "privacy_requests": raw.privacy_requests,
            "sessions": sorted(marts.get("sessions", []), key=lambda row: str(jsonable(row["started_at"]))),
            "profile": profiles[0] if profiles else None,
            "engagement_by_event_type": sorted(
                marts.get("user_engagement_30d", []), key=lambda row: row["event_type"]
            ),
            "browsers": sorted(marts.get("identity_map", []), key=lambda row: row["anonymous_id"]),
        }
    )


def export_file_name(user_id: str, at: datetime) -> str:
    """A file name for the user's export: user ids are free text, so a readable safe part and a
    hash so two ids never share a file."""
    readable = re.sub(r"[^A-Za-z0-9_.-]", "_", user_id)[:40]
    digest = hashlib.sha256(user_id.encode()).hexdigest()[:10]
    return f"{readable}-{digest}-{at:%Y%m%dT%H%M%SZ}.json"


def write_export(document: dict[str, Any], path: Path) -> Path:
    """Write the document as UTF-8 JSON; the file appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_name(f".{path.name}.tmp")
    tmp_path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp_path.replace(path)
    return path
