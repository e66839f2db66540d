"""Privacy and data lifecycle across the raw stores and the warehouse (SPEC section 7).

`python -m orchestration.lifecycle <command>` is the command line; the Dagster jobs of
`orchestration.defs.lifecycle` call the same functions. The raw part of every operation is
`ingest_service.upkeep`'s; what needs the warehouse (the rebuild after an erasure, the marts of an
export) lives here, next to `orchestration.warehouse` and the one way to run dbt.
"""
