"""Privacy and data lifecycle (SPEC section 7): retention, export, erasure, opt-out/opt-in.

Plain functions over the raw stores (`stores.RawStores`) and the warehouse
(`warehouse.WarehouseLocation`); the CLI (`python -m ingest_service.lifecycle`) and the Dagster jobs
in `orchestration.lifecycle` are thin callers of them.
"""
