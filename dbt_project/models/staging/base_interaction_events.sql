{{
  config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    indexes=postgres_indexes([
      {'columns': ['event_id']}, {'columns': ['received_at']}, {'columns': ['session_id']},
      {'columns': ['user_id']}, {'columns': ['anonymous_id']}, {'columns': ['occurred_at']},
      {'columns': ['_loaded_at']},
    ]),
    post_hook="{{ record_build() }}"
  )
}}
{#
  Every delivery of every raw event, typed the same on both engines, with the winning delivery of
  each event_id flagged (`is_winner`: earliest received_at). Keeping all deliveries lets a late
  "earlier" duplicate win and lets a run find the keys of the delivery it replaces. Rows removed
  from raw by retention stay here, so the marts keep what they had. `_loaded_at` marks the rows
  this run (re)wrote; changed_sessions takes their sessions from it.

  A run, as named steps (the same steps on the first build, when nothing is here yet):
  1. arrived: the raw rows of the arrival hours whose raw row count differs from the count here,
     less the events erased since (new rows, wherever their received_at falls: the
     watermark-plus-lookback, made exact; on the first build, every raw row);
  2. new_deliveries: those not here yet;
  3. erased_event_ids: the event ids erasures recorded since the last build (raw.erased_events);
  4. surviving_erased_deliveries: deliveries of those that raw still holds (a retry sent after
     the erasure), which stay;
  5. deliveries: every delivery of each event_id that got a new one, known and new;
  6. ranked: those deliveries ranked again;
  7. erased_without_delivery: erased events raw no longer holds become `is_deleted` rows that
     keep only the keys needed to rebuild what they touched (no user id, user agent, path or
     custom fields);
  8. stamped: all of it, stamped with this run's start.
#}

{%- set columns = raw_event_columns() -%}
{%- set state = last_build() -%}
{%- set arrival_ranges = changed_arrival_hours(state) if state is not none else none -%}
{#- the first arrival hour read: lets the engine skip the older rows of this table #}
{%- set first_arrival = "cast('" ~ arrival_ranges[0][0].strftime('%Y-%m-%d %H:%M:%S') ~ "' as timestamp)" if arrival_ranges else run_started() -%}

with arrived as (
    {%- if state is none %}
    {{ normalized_raw_events() }}
    {%- else %}
    {{ normalized_raw_events(received_at_ranges(arrival_ranges)) }}
    {%- endif %}
),

new_deliveries as (
    select arrived.*
    from arrived
    {%- if state is not none %}
    where not exists (
        select 1 from {{ this }} as known
        where known.event_id = arrived.event_id
            and known.received_at = arrived.received_at
            and known.received_at >= {{ first_arrival }}
    )
    {%- endif %}
),

erased_event_ids as (
    select distinct cast(event_id as varchar) as event_id
    from {{ erased_events_relation() }} as erased
    {#- a first build reads raw as it is now: nothing erased is in it any more #}
    where {{ 'false' if state is none else utc_timestamp('erased.erased_at') ~ ' > ' ~ state.built_at }}
),

surviving_erased_deliveries as (
    select raw_events.*
    from ({{ normalized_raw_events() }}) as raw_events
    where raw_events.event_id in (select event_id from erased_event_ids)
),

deliveries as (
    {%- if state is not none %}
    select {{ columns | join(', ') }} from {{ this }}
    where event_id in (select event_id from new_deliveries)
        and event_id not in (select event_id from erased_event_ids)
        and not is_deleted
    union all
    {%- endif %}
    select {{ columns | join(', ') }} from new_deliveries
    where event_id not in (select event_id from erased_event_ids)
    union all
    select {{ columns | join(', ') }} from surviving_erased_deliveries
),

{#- most events have one delivery: only the duplicated ones need ordering. Grouping by a
    hash is much cheaper than by the id text; a collision only sends a few more ids down the
    exact path. #}
duplicated_event_hashes as (
    select {{ event_id_hash('event_id') }} as event_hash
    from deliveries
    group by {{ event_id_hash('event_id') }}
    having count(*) > 1
),

ranked as (
    select deliveries.*, true as is_winner, false as is_deleted
    from deliveries
    where {{ event_id_hash('event_id') }} not in (select event_hash from duplicated_event_hashes)
    union all
    select
        {{ columns | join(', ') }},
        row_number() over (partition by event_id order by {{ delivery_order() }}) = 1 as is_winner,
        false as is_deleted
    from (
        {#- Two rows with the same event_id and received_at are one delivery seen twice (a file
            and its compacted copy, or what a crash between them left): keep one, so this model
            never holds more deliveries of an arrival hour than raw will once compacted. #}
        select
            deliveries.*,
            row_number() over (
                partition by event_id, received_at order by {{ delivery_order() }}
            ) as copy_number
        from deliveries
        where {{ event_id_hash('event_id') }} in (select event_hash from duplicated_event_hashes)
    ) as copies
    where copy_number = 1
),

erased_without_delivery as (
    {%- if state is none %}
    select * from ranked where false
    {%- else %}
    select
        event_id, received_at, occurred_at, session_id,
        cast(null as varchar) as user_id,
        anonymous_id,
        event_type, event_category, perfume_id, house_id, post_id,
        cast(null as varchar) as path, cast(null as varchar) as referrer,
        cast(null as varchar) as user_agent, 'unknown' as device_type, 'unknown' as browser,
        'unknown' as os, is_bot, cast(null as integer) as duration_ms,
        cast(null as integer) as scroll_depth, cast(null as double precision) as value,
        cast(null as varchar) as source,
        {{ keep_result_perfume_ids('event_data') }} as event_data,
        false as is_winner,
        true as is_deleted
    from {{ this }}
    where event_id in (select event_id from erased_event_ids)
        and event_id not in (select event_id from surviving_erased_deliveries)
        and (is_winner or is_deleted)
    {%- endif %}
),

stamped as (
    select {{ columns | join(', ') }}, is_winner, is_deleted, {{ run_started() }} as _loaded_at
    from ranked
    union all
    select {{ columns | join(', ') }}, is_winner, is_deleted, {{ run_started() }} as _loaded_at
    from erased_without_delivery
)

select * from stamped
