"""The weekly report's job: it brings every model the report reads up to date first, so it writes
the warehouse and carries the writer tag."""

import dagster as dg

from orchestration.defs.reports.assets import WEEKLY_REPORT_KEY
from orchestration.warehouse import WAREHOUSE_WRITE_TAG

weekly_report_job = dg.define_asset_job(
    "weekly_report_job",
    selection=dg.AssetSelection.assets(WEEKLY_REPORT_KEY).upstream(),
    description="Brings every model up to date, then writes the weekly report.",
    tags=WAREHOUSE_WRITE_TAG,
)
