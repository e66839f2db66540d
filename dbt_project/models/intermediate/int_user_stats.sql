{{
  config(
    unique_key='user_id',
    indexes=postgres_indexes([{'columns': ['user_id']}]),
    post_hook=["{{ delete_vanished_keys('user_events = 0') }}", "{{ record_incremental_state() }}"]
  )
}}
{#
  All-time figures of user_behavior_profile, recomputed for the users touched since the last
  build from their own events (a user's history is small). Preferences use the catalog seeds:
  changing the catalog needs a --full-refresh of this model.
#}

{%- set state = last_build() -%}

with touched_users as (
    {{ touched_users(state) }}
),

{#- only the columns used below: PostgreSQL materializes a CTE read several times #}
user_events as (
    select resolved_user_id as user_id, user_id is null as is_stitched, session_id, event_id, event_type,
        perfume_id, house_id, value, occurred_at, received_at
    from {{ staged_events() }}
    where resolved_user_id is not null
    {%- if state is not none %}
        and resolved_user_id in (select user_id from touched_users)
    {%- endif %}
),

weights as (
    select event_type, weight from {{ ref('event_weights') }}
),

perfumes as (
    select perfume_id, house_id, price_usd from {{ ref('perfumes') }}
),

{#- the user's weight per (perfume, house named by the event): affinities are sums of these,
    so the catalog joins work on a few rows per user instead of on every event #}
weighted_targets as (
    select user_events.user_id, user_events.perfume_id, user_events.house_id,
        sum(coalesce(weights.weight, 0)) as weight
    from user_events
    left join weights on weights.event_type = user_events.event_type
    where user_events.perfume_id is not null or user_events.house_id is not null
    group by user_events.user_id, user_events.perfume_id, user_events.house_id
),

{#- an event counts once for a house, whether it names the house, a perfume of it, or both #}
event_houses as (
    select user_id, house_id, weight from weighted_targets where house_id is not null
    union all
    select weighted_targets.user_id, perfumes.house_id, weighted_targets.weight
    from weighted_targets
    inner join perfumes on perfumes.perfume_id = weighted_targets.perfume_id
    where perfumes.house_id is not null
        and (weighted_targets.house_id is null or weighted_targets.house_id <> perfumes.house_id)
),

house_affinity as (
    select user_id, house_id, sum(weight) as affinity
    from event_houses
    group by user_id, house_id
    having sum(weight) > 0
),

ranked_houses as (
    select user_id, house_id,
        row_number() over (partition by user_id order by affinity desc, house_id asc) as preference_rank
    from house_affinity
),

preferred_houses as (
    select user_id, {{ json_text_array_agg('house_id', 'preference_rank') }} as preferred_houses
    from ranked_houses
    where preference_rank <= 3
    group by user_id
),

catalog_notes as (
    select distinct perfume_id, note from {{ ref('perfume_notes') }}
),

note_affinity as (
    select weighted_targets.user_id, catalog_notes.note, sum(weighted_targets.weight) as affinity
    from weighted_targets
    inner join catalog_notes on catalog_notes.perfume_id = weighted_targets.perfume_id
    group by weighted_targets.user_id, catalog_notes.note
    having sum(weighted_targets.weight) > 0
),

ranked_notes as (
    select user_id, note,
        row_number() over (partition by user_id order by affinity desc, note asc) as preference_rank
    from note_affinity
),

preferred_notes as (
    select user_id, {{ json_text_array_agg('note', 'preference_rank') }} as preferred_notes
    from ranked_notes
    where preference_rank <= 5
    group by user_id
),

{#- "viewed, wishlisted, collected or rated >= 4": PERFUME_VIEW, WISHLIST_ADD, COLLECTION_ADD,
    RATING_COMPLETED with value >= 4 #}
considered_perfumes as (
    select distinct user_events.user_id, perfumes.perfume_id, perfumes.price_usd
    from user_events
    inner join perfumes on perfumes.perfume_id = user_events.perfume_id
    where perfumes.price_usd is not null
        and (
            user_events.event_type in ('PERFUME_VIEW', 'WISHLIST_ADD', 'COLLECTION_ADD')
            or (user_events.event_type = 'RATING_COMPLETED' and user_events.value >= 4)
        )
),

price_ranges as (
    select user_id,
        {{ json_price_range('min(price_usd)', 'max(price_usd)', 'avg(price_usd)') }} as preferred_price_range
    from considered_perfumes
    group by user_id
),

wishlist_latest as (
    select
        user_id,
        perfume_id,
        {{ value_at_last('event_type', ['occurred_at', 'received_at', 'event_id']) }} as event_type
    from user_events
    where event_type in ('WISHLIST_ADD', 'WISHLIST_REMOVE') and perfume_id is not null
    group by user_id, perfume_id
),

wishlists as (
    select user_id, count(*) as wishlist_size
    from wishlist_latest
    where event_type = 'WISHLIST_ADD'
    group by user_id
),

activity as (
    select
        user_id,
        count(*) as user_events,
        count(distinct session_id) as total_sessions,
        sum(case when is_stitched then 1 else 0 end) as stitched_events,
        sum(case when event_type = 'RATING_COMPLETED' then 1 else 0 end) as total_ratings,
        avg(case when event_type = 'RATING_COMPLETED' then value end) as avg_rating_value,
        count(distinct case when event_type = 'COLLECTION_ADD' then perfume_id end) as collection_size,
        min(occurred_at) as first_seen_at,
        max(occurred_at) as last_active_at
    from user_events
    group by user_id
),

keyed as (
    {%- if state is not none %}
    select touched_users.user_id as key_user_id, activity.*
    from touched_users
    left join activity on activity.user_id = touched_users.user_id
    {%- else %}
    select activity.user_id as key_user_id, activity.*
    from activity
    {%- endif %}
)

select
    keyed.key_user_id as user_id,
    cast(coalesce(keyed.user_events, 0) as bigint) as user_events,
    cast(keyed.total_sessions as bigint) as total_sessions,
    cast(keyed.stitched_events as bigint) as stitched_events,
    cast(keyed.total_ratings as bigint) as total_ratings,
    cast(keyed.avg_rating_value as double precision) as avg_rating_value,
    cast(keyed.collection_size as bigint) as collection_size,
    cast(coalesce(wishlists.wishlist_size, 0) as bigint) as wishlist_size,
    coalesce(preferred_houses.preferred_houses, {{ empty_json_array() }}) as preferred_houses,
    coalesce(preferred_notes.preferred_notes, {{ empty_json_array() }}) as preferred_notes,
    price_ranges.preferred_price_range,
    keyed.first_seen_at,
    keyed.last_active_at
from keyed
left join wishlists on wishlists.user_id = keyed.key_user_id
left join preferred_houses on preferred_houses.user_id = keyed.key_user_id
left join preferred_notes on preferred_notes.user_id = keyed.key_user_id
left join price_ranges on price_ranges.user_id = keyed.key_user_id
