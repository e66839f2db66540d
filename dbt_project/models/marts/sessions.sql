{{
  config(
    materialized='incremental',
    unique_key='session_id',
    incremental_strategy='delete+insert',
    indexes=postgres_indexes([{'columns': ['session_id'], 'unique': true}, {'columns': ['user_id']}]),
    post_hook="{{ delete_vanished_keys('event_count = 0') }}"
  )
}}
{#
  One row per session (SPEC section 5, `sessions`). Sessions are short, so a touched session is
  simply recomputed from all of its staged events. "Earliest"/"latest" follow the SPEC's
  tie-break: occurred_at, then received_at, then event_id. `user_id` is session_user over the
  staged events: the user of the earliest event that has one of its own, else the user its
  anonymous events resolve to (that of its browser), which is how a session first identified by
  an opted-out user passes to the next one.
#}

{%- set state = last_build() -%}

with touched_sessions as (
    {{ touched_sessions(state) }}
),

session_events as (
    select session_id, user_id, resolved_user_id, anonymous_id, event_id, occurred_at, received_at,
        device_type, browser, os, event_category, perfume_id, path
    from {{ staged_events() }}
    {%- if state is not none %}
    where session_id in (select session_id from touched_sessions)
    {%- endif %}
),

summarised as (
    {%- set event_order = ['occurred_at', 'received_at', 'event_id'] %}
    select
        session_id,
        coalesce(
            {{ value_at_first('user_id', event_order, 'user_id is not null') }},
            {{ value_at_first('resolved_user_id', event_order, 'resolved_user_id is not null') }}
        ) as user_id,
        {{ value_at_first('anonymous_id', event_order, 'anonymous_id is not null') }} as anonymous_id,
        min(occurred_at) as started_at,
        max(occurred_at) as ended_at,
        {{ value_at_first('device_type', event_order) }} as device_type,
        {{ value_at_first('browser', event_order) }} as browser,
        {{ value_at_first('os', event_order) }} as os,
        count(*) as event_count,
        sum(case when event_category = 'VIEW' then 1 else 0 end) as page_views,
        count(distinct perfume_id) as perfumes_viewed,
        sum(case when event_category in ('RATING', 'REVIEW', 'COLLECTION', 'WISHLIST') then 1 else 0 end) as interactions,
        sum(case when event_category = 'SEARCH' then 1 else 0 end) as searches,
        {{ value_at_first('path', event_order) }} as entry_path,
        {{ value_at_last('path', event_order) }} as exit_path
    from session_events
    group by session_id
),

{#- a touched session left without events gets a placeholder row; the post-hook deletes it #}
keyed as (
    {%- if state is not none %}
    select touched_sessions.session_id as key_session_id, summarised.*
    from touched_sessions
    left join summarised on summarised.session_id = touched_sessions.session_id
    {%- else %}
    select summarised.session_id as key_session_id, summarised.*
    from summarised
    {%- endif %}
),

final as (
    select
        keyed.key_session_id as session_id,
        keyed.user_id,
        keyed.anonymous_id,
        {{ as_utc('keyed.started_at') }} as started_at,
        {{ as_utc('keyed.ended_at') }} as ended_at,
        cast(floor({{ seconds_between('keyed.started_at', 'keyed.ended_at') }}) as bigint) as duration_seconds,
        keyed.device_type,
        keyed.browser,
        keyed.os,
        cast(coalesce(keyed.event_count, 0) as bigint) as event_count,
        cast(keyed.page_views as bigint) as page_views,
        cast(keyed.perfumes_viewed as bigint) as perfumes_viewed,
        cast(keyed.interactions as bigint) as interactions,
        cast(keyed.searches as bigint) as searches,
        keyed.entry_path,
        keyed.exit_path,
        coalesce(keyed.event_count, 0) = 1 as is_bounce
    from keyed
)

select * from final
