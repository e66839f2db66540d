"""The weekly KPI report asset: Markdown, a PNG chart and a cohort heat map under `$DATA_DIR/reports/`."""

from collections.abc import Set
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.defs.reports.render import (
    embed_png,
    render_chart,
    render_markdown,
    render_retention_heatmap,
    retention_grid,
)
from orchestration.defs.reports.weekly_kpis import RETENTION_MART, read_weekly_report_data
from orchestration.resources import Warehouse

WEEKLY_REPORT_KEY = dg.AssetKey("weekly_report")
#: The dbt assets the report reads (default dagster-dbt keys: the model / seed name)…
REPORT_INPUTS = ("stg_interaction_events", "sessions", "event_weights", "perfumes", "houses")
#: …and the ones it reads when the dbt project has them (the report says so when it does not).
OPTIONAL_REPORT_INPUTS = (RETENTION_MART,)


def build_weekly_report(dbt_models: Set[str]) -> dg.AssetsDefinition:
    inputs = REPORT_INPUTS + tuple(name for name in OPTIONAL_REPORT_INPUTS if name in dbt_models)

    @dg.asset(
        key=WEEKLY_REPORT_KEY,
        group_name="reports",
        deps=[dg.AssetKey(name) for name in inputs],
        kinds={"python", "markdown"},
        description=(
            "KPIs per ISO week (active users, visitors, sessions, events), top and rising perfumes, post "
            "engagement and weekly retention cohorts, as Markdown with PNG charts under `$DATA_DIR/reports/`."
        ),
    )
    def weekly_report(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        data = read_weekly_report_data(warehouse)
        generated_at = datetime.now(UTC)
        reports_dir = Path(warehouse.data_dir) / "reports"
        name = f"weekly_report_{data.latest.iso_week}" if data.latest else "weekly_report_empty"
        chart_path = reports_dir / f"{name}.png"
        heatmap_path = reports_dir / f"{name}_retention.png"
        markdown = render_markdown(data, generated_at, chart_path.name, heatmap_path.name)
        shown = markdown
        metadata: dict[str, dg.RawMetadataValue] = {"weeks": len(data.weeks)}
        if data.latest:
            render_chart(data, chart_path)
            shown = embed_png(shown, chart_path.name, chart_path)
            metadata |= {
                "chart_path": dg.MetadataValue.path(str(chart_path)),
                "latest_week": data.latest.iso_week,
                "latest_week_partial": data.is_partial(data.latest.week_start),
                "active_users": data.latest.active_users,
                "sessions": data.latest.sessions,
                "events": data.latest.events,
            }
            if retention_grid(data)[0]:
                render_retention_heatmap(data, heatmap_path)
                shown = embed_png(shown, heatmap_path.name, heatmap_path)
                metadata["retention_heatmap_path"] = dg.MetadataValue.path(str(heatmap_path))
        if not data.retention.built:
            context.log.warning(f"{RETENTION_MART} is not built yet: the report has no cohort table")
        metadata["report"] = dg.MetadataValue.md(shown)
        report_path = reports_dir / f"{name}.md"
        reports_dir.mkdir(parents=True, exist_ok=True)
        report_path.write_text(markdown, encoding="utf-8")
        metadata["report_path"] = dg.MetadataValue.path(str(report_path))
        context.log.info(f"weekly report written to {report_path}")
        return dg.MaterializeResult(metadata=metadata)

    return weekly_report
