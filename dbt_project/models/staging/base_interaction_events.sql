{{
  config(
    materialized='incremental',
    unique_key='event_id',
    incremental_strategy='delete+insert',
    indexes=postgres_indexes([
      {'columns': ['event_id']}, {'columns': ['received_at']}, {'columns': ['session_id']},
      {'columns': ['user_id']}, {'columns': ['actor_id']}, {'columns': ['occurred_at']},
      {'columns': ['_loaded_at']},
    ]),
    post_hook="{{ record_incremental_state() }}"
  )
}}
{#
  Every delivery of every raw event, typed the same on both engines, with the winning delivery
  of each event_id flagged (`is_winner`: earliest received_at). Keeping all deliveries lets a
  late "earlier" duplicate win and lets a run find the keys of the delivery it replaces.

  A run reads only the arrival hours whose raw row count grew (new rows, wherever their
  received_at falls: this is the watermark-plus-lookback, made exact), anti-joined with the
  deliveries already here. Users with a new erase request are re-read from raw: their deleted
  events become `is_deleted` rows that keep only the keys needed to rebuild the aggregates
  they touched (no user_id, no user agent, no custom fields). Rows removed from raw by
  retention stay here, so the marts keep what they had.
  `_loaded_at` marks the rows this run (re)wrote; downstream models rebuild their keys.
#}

{%- set columns = [
  'event_id', 'received_at', 'occurred_at', 'session_id', 'user_id', 'actor_id', 'event_type',
  'event_category', 'perfume_id', 'house_id', 'post_id', 'path', 'referrer', 'user_agent',
  'device_type', 'browser', 'os', 'is_bot', 'duration_ms', 'scroll_depth', 'value', 'source',
  'event_data', 'anonymous_id',
] -%}
{%- set privacy = ref('base_user_privacy_states') -%}
{%- set state = last_build() -%}

{%- if state is none %}

with deliveries as (
    {{ normalized_raw_events() }}
),

{%- else %}
{%- set erased_users_sql -%}
    select user_id from {{ privacy }} where erase_requests > 0 and _changed_at > {{ state.built_at }}
{%- endset -%}
{%- set has_erasures = execute and (run_query(erased_users_sql).rows | length) > 0 -%}
{%- set arrival_ranges = grown_arrival_hours(erased_users_sql if has_erasures else none) -%}
{%- set arrival_filter = received_at_ranges(arrival_ranges) -%}
{%- set first_arrival = "cast('" ~ arrival_ranges[0][0].strftime('%Y-%m-%d %H:%M:%S') ~ "' as timestamp)" if arrival_ranges else run_started() -%}

with new_deliveries as (
    select raw_events.*
    from ({{ normalized_raw_events(arrival_filter) }}) as raw_events
    where not exists (
        select 1 from {{ this }} as known
        where known.event_id = raw_events.event_id
            and known.received_at = raw_events.received_at
            and known.received_at >= {{ first_arrival }}
    )
),

erased_event_ids as (
    {%- if has_erasures %}
    select event_id from {{ this }} where user_id in ({{ erased_users_sql }})
    union
    select event_id from ({{ normalized_raw_events() }}) as raw_events where user_id in ({{ erased_users_sql }})
    {%- else %}
    select event_id from {{ this }} where 1 = 0
    {%- endif %}
),

erased_event_deliveries as (
    {%- if has_erasures %}
    select * from ({{ normalized_raw_events() }}) as raw_events
    where event_id in (select event_id from erased_event_ids)
    {%- else %}
    select * from new_deliveries where 1 = 0
    {%- endif %}
),

deliveries as (
    select {{ columns | join(', ') }} from {{ this }}
    where event_id in (select event_id from new_deliveries)
        and event_id not in (select event_id from erased_event_ids)
        and not is_deleted
    union all
    select {{ columns | join(', ') }} from new_deliveries
    where event_id not in (select event_id from erased_event_ids)
    union all
    select {{ columns | join(', ') }} from erased_event_deliveries
),

{%- endif %}

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
            never holds more deliveries of an arrival hour than raw will once compacted, and
            grown_arrival_hours keeps seeing new rows of that hour. #}
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

{%- if state is not none %}

erased_without_delivery as (
    select
        event_id, received_at, occurred_at, session_id,
        cast(null as varchar) as user_id,
        's:' || session_id as actor_id,
        event_type, event_category, perfume_id, house_id, post_id,
        cast(null as varchar) as path, cast(null as varchar) as referrer,
        cast(null as varchar) as user_agent, 'unknown' as device_type, 'unknown' as browser,
        'unknown' as os, is_bot, cast(null as integer) as duration_ms,
        cast(null as integer) as scroll_depth, cast(null as double precision) as value,
        cast(null as varchar) as source,
        {{ keep_result_perfume_ids('event_data') }} as event_data,
        cast(null as varchar) as anonymous_id,
        false as is_winner,
        true as is_deleted
    from {{ this }}
    where event_id in (select event_id from erased_event_ids)
        and event_id not in (select event_id from erased_event_deliveries)
        and (is_winner or is_deleted)
),

all_rows as (
    select * from ranked
    union all
    select * from erased_without_delivery
),

{%- else %}

all_rows as (
    select * from ranked
),

{%- endif %}

stamped as (
    select {{ columns | join(', ') }}, is_winner, is_deleted, {{ run_started() }} as _loaded_at
    from all_rows
)

select * from stamped
