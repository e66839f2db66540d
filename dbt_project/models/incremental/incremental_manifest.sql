{{
  config(
    materialized='incremental',
    full_refresh=false
  )
}}
{#
  What the warehouse has processed: one row per build of an incremental model or mart, written
  by that model's post-hook (`record_build()`): when the run started and for which as_of.
  A model rebuilds what changed since ITS last row here, so running a subset of the models (an
  hourly selection, a failed run) never loses a change for the others. Like Snowplow's
  `…_incremental_manifest`: the model itself only creates the empty table; `--full-refresh`
  keeps it (full_refresh=false), the models' own rows say they were fully rebuilt.
#}

select
    cast(null as varchar(200)) as model_name,
    cast(null as timestamp) as built_at,
    cast(null as timestamp) as as_of,
    cast(null as boolean) as is_full_build
where false
