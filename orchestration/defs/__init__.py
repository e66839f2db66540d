"""The Dagster areas; each exposes `build_defs(settings) -> dagster.Definitions`."""
