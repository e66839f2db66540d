"""Deterministic sample traffic for demos and tests: generate, then send over HTTP or bulk-load."""

from orchestration.sample_traffic.catalog import Catalog, load_catalog
from orchestration.sample_traffic.deliveries import plan_deliveries, raw_rows
from orchestration.sample_traffic.generator import SampleTraffic, TrafficConfig, generate_traffic

__all__ = [
    "Catalog",
    "SampleTraffic",
    "TrafficConfig",
    "generate_traffic",
    "load_catalog",
    "plan_deliveries",
    "raw_rows",
]
