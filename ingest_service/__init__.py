"""The ingest service: validates, enriches and durably appends interaction events (SPEC §1–4)."""
