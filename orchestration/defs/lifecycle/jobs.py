"""The lifecycle jobs; `user_erasure` writes the warehouse and carries the writer tag."""

import dagster as dg

from orchestration.defs.lifecycle.ops import (
    compact_embedded_raw_events,
    delete_expired_raw_events,
    erase_user_raw_events,
    export_user_data,
    rebuild_marts_without_user,
    record_privacy_request,
    republish_snapshots_without_user,
)
from orchestration.warehouse import WAREHOUSE_WRITE_TAG


@dg.job(
    description="Delete raw events and rejected events older than RETENTION_DAYS (by received_at) "
    "in every raw store."
)
def raw_events_retention():
    delete_expired_raw_events()


@dg.job(description="Merge the embedded raw store's small files; a no-op on PostgreSQL.")
def raw_events_compaction():
    compact_embedded_raw_events()


@dg.job(
    description="Export everything stored about one user (config: user_id) as JSON under $DATA_DIR/exports/."
)
def user_data_export():
    export_user_data()


@dg.job(
    description="Erase one user (config: user_id): raw events, then every mart row derived from them "
    "and the aggregates they touched, then every published snapshot that held them. Idempotent: "
    "re-run it, or re-execute the failed step.",
    tags=WAREHOUSE_WRITE_TAG,
)
def user_erasure():
    republish_snapshots_without_user(rebuild_marts_without_user(erase_user_raw_events()))


@dg.job(description="Opt a user out of (or back into) tracking (config: user_id, action).")
def user_privacy_request():
    record_privacy_request()
