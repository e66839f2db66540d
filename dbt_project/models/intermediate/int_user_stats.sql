{{
  config(
    unique_key='user_id',
    indexes=postgres_indexes([{'columns': ['user_id']}]),
    post_hook=["{{ delete_vanished_keys('user_events = 0') }}", "{{ record_build() }}"]
  )
}}
{#
  The figures of user_behavior_profile, recomputed for the users touched since the last build
  from their own events (a user's history is small), and for the users with an event that
  entered or left the 30-day window as as_of moved. Every other user keeps the same events in
  the window, so their 30-day counts stay exact and their engagement score, kept for the as_of
  `recent_anchor`, only needs rescaling (user_behavior_profile, a view, does it). Preferences
  use the catalog seeds: changing the catalog needs a --full-refresh of this model.
#}

{%- set state = last_build() -%}

with touched_users as (
    {{ touched_users(state) }}
    union
    {{ window_crossing_keys(state, 30, 'resolved_user_id') }}
),

{#- only the columns used below: PostgreSQL materializes a CTE read several times #}
user_events as (
    select resolved_user_id as user_id, user_id is null as is_stitched, session_id, event_id, event_type,
        event_category, perfume_id, house_id, value, occurred_at, received_at
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
        user_events.user_id,
        count(*) as user_events,
        count(distinct user_events.session_id) as total_sessions,
        sum(case when user_events.is_stitched then 1 else 0 end) as stitched_events,
        sum(case when user_events.event_type = 'RATING_COMPLETED' then 1 else 0 end) as total_ratings,
        avg(case when user_events.event_type = 'RATING_COMPLETED' then user_events.value end) as avg_rating_value,
        count(distinct case when user_events.event_type = 'COLLECTION_ADD' then user_events.perfume_id end)
            as collection_size,
        min(user_events.occurred_at) as first_seen_at,
        max(user_events.occurred_at) as last_active_at,
        {#- the last 30 days, at this run's as_of #}
        sum(case when user_events.occurred_at > {{ window_start(30) }}
            and user_events.event_category = 'VIEW' then 1 else 0 end) as page_views_30d,
        sum(case when user_events.occurred_at > {{ window_start(30) }}
            and user_events.event_category = 'SEARCH' then 1 else 0 end) as searches_30d,
        count(distinct case when user_events.occurred_at > {{ window_start(30) }}
            then user_events.perfume_id end) as perfumes_viewed_30d,
        sum(case when user_events.occurred_at > {{ window_start(30) }} then coalesce(weights.weight, 0)
            * power(0.5, {{ seconds_between('user_events.occurred_at', as_of()) }} / 86400.0 / 7.0) else 0 end)
            as engagement_at_anchor
    from user_events
    left join weights on weights.event_type = user_events.event_type
    group by user_events.user_id
),

{#- the sessions the sessions mart attributes to the user (its first own user, else the user its
    anonymous events resolve to): built before this model in the same run #}
session_durations as (
    select user_id, avg(cast(duration_seconds as double precision)) as avg_session_duration_seconds
    from {{ ref('sessions') }}
    where user_id is not null
    {%- if state is not none %}
        and user_id in (select user_id from touched_users)
    {%- endif %}
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
    keyed.last_active_at,
    cast(coalesce(keyed.page_views_30d, 0) as bigint) as page_views_30d,
    cast(coalesce(keyed.searches_30d, 0) as bigint) as searches_30d,
    cast(coalesce(keyed.perfumes_viewed_30d, 0) as bigint) as perfumes_viewed_30d,
    session_durations.avg_session_duration_seconds,
    cast(coalesce(keyed.engagement_at_anchor, 0) as double precision) as engagement_at_anchor,
    {{ as_of() }} as recent_anchor
from keyed
left join wishlists on wishlists.user_id = keyed.key_user_id
left join preferred_houses on preferred_houses.user_id = keyed.key_user_id
left join preferred_notes on preferred_notes.user_id = keyed.key_user_id
left join price_ranges on price_ranges.user_id = keyed.key_user_id
left join session_durations on session_durations.user_id = keyed.key_user_id
