{{
  config(
    materialized='incremental',
    unique_key='anonymous_id',
    incremental_strategy='delete+insert',
    indexes=postgres_indexes([{'columns': ['anonymous_id'], 'unique': true}, {'columns': ['user_id']}]),
    post_hook="{{ delete_vanished_keys('user_id is null') }}"
  )
}}
{#
  One row per anonymous_id with a known anonymous_user (SPEC section 5, `identity_map`), over the
  staged events: the user of the first event RECEIVED that carries both the anonymous id and a
  user_id, when that event occurred, when the browser was first seen and in how many sessions.
  Rebuilt for the anonymous ids of the touched sessions' deliveries; an id left without a claim
  keeps a placeholder (user_id null) that the post-hook deletes.
#}

{%- set state = last_build() -%}

with touched_anonymous_ids as (
    select anonymous_id
    from ({{ touched_deliveries(state, ['anonymous_id']) }}) as touched
    where anonymous_id is not null
),

browser_events as (
    select anonymous_id, user_id, session_id, event_id, occurred_at, received_at
    from {{ staged_events() }}
    where anonymous_id is not null
    {%- if state is not none %}
        and anonymous_id in (select anonymous_id from touched_anonymous_ids)
    {%- endif %}
),

claims as (
    select
        anonymous_id,
        {{ value_at_first('user_id', arrival_order()) }} as user_id,
        {{ value_at_first('occurred_at', arrival_order()) }} as identified_at
    from browser_events
    where user_id is not null
    group by anonymous_id
),

browsers as (
    select anonymous_id, min(occurred_at) as first_seen_at, count(distinct session_id) as sessions
    from browser_events
    group by anonymous_id
),

keyed as (
    select anonymous_id from browsers
    {%- if state is not none %}
    union
    select anonymous_id from touched_anonymous_ids
    {%- endif %}
)

select
    keyed.anonymous_id,
    claims.user_id,
    {{ as_utc('claims.identified_at') }} as identified_at,
    {{ as_utc('browsers.first_seen_at') }} as first_seen_at,
    cast(browsers.sessions as bigint) as sessions
from keyed
left join claims on claims.anonymous_id = keyed.anonymous_id
left join browsers on browsers.anonymous_id = keyed.anonymous_id
