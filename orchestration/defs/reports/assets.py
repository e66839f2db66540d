"""The weekly KPI report asset: Markdown and a PNG chart under `$DATA_DIR/reports/`."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.defs.reports.render import embed_png, render_chart, render_markdown
from orchestration.defs.reports.weekly_kpis import read_weekly_report_data
from orchestration.resources import Warehouse

#: The dbt assets the report reads (default dagster-dbt keys: the model / seed name).
REPORT_INPUTS = ("stg_interaction_events", "sessions", "event_weights", "perfumes", "houses")


@dg.asset(
    group_name="reports",
    deps=[dg.AssetKey(name) for name in REPORT_INPUTS],
    kinds={"python", "markdown"},
    description=(
        "KPIs per ISO week (active users, visitors, sessions, events), top and rising perfumes and post "
        "engagement, as Markdown with a PNG chart under `$DATA_DIR/reports/`."
    ),
)
def weekly_report(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
    data = read_weekly_report_data(warehouse)
    generated_at = datetime.now(UTC)
    reports_dir = Path(warehouse.data_dir) / "reports"
    name = f"weekly_report_{data.latest.iso_week}" if data.latest else "weekly_report_empty"
    chart_path = reports_dir / f"{name}.png"
    markdown = render_markdown(data, generated_at, chart_path.name)
    metadata: dict[str, dg.RawMetadataValue] = {"weeks": len(data.weeks)}
    if data.latest:
        render_chart(data, chart_path)
        metadata |= {
            "chart_path": dg.MetadataValue.path(str(chart_path)),
            "report": dg.MetadataValue.md(embed_png(markdown, chart_path.name, chart_path)),
            "latest_week": data.latest.iso_week,
            "active_users": data.latest.active_users,
            "sessions": data.latest.sessions,
            "events": data.latest.events,
        }
    else:
        metadata["report"] = dg.MetadataValue.md(markdown)
    report_path = reports_dir / f"{name}.md"
    reports_dir.mkdir(parents=True, exist_ok=True)
    report_path.write_text(markdown, encoding="utf-8")
    metadata["report_path"] = dg.MetadataValue.path(str(report_path))
    context.log.info(f"weekly report written to {report_path}")
    return dg.MaterializeResult(metadata=metadata)
