"""Upkeep of the raw stores (SPEC section 7): retention, compaction, raw erasure, raw export and
the privacy log's opt-out / opt-in / erase requests.

Plain functions over `ingest_service.storage.locations.RawStores`; nothing here runs dbt or opens
the warehouse. Whatever needs the warehouse (the marts of an export, the rebuild after an erasure)
is done by `orchestration.lifecycle`, which calls these functions for the raw part.
"""
