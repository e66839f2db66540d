{{
  config(
    unique_key='actor_id',
    indexes=postgres_indexes([{'columns': ['actor_id']}, {'columns': ['perfume_id']}]),
    post_hook=["{{ delete_vanished_keys('perfume_id is null') }}", "{{ record_build() }}"]
  )
}}
{#
  One row per (perfume, actor) with everything perfume_interaction_stats needs, at the grain
  where distinct actors and latest wishlist state stay exact. A run recomputes all pairs of the
  actors it touched (an actor's history is small); a perfume with a long history is not
  rescanned. An actor left without events keeps one placeholder row (perfume_id null) that the
  post-hook deletes.
#}

{%- set state = last_build() -%}

with touched_actors as (
    {{ touched_actors(state) }}
),

{#- only the columns used below: PostgreSQL materializes a CTE read several times #}
actor_events as (
    select event_id, actor_id, event_type, perfume_id, duration_ms, value, occurred_at, received_at, event_data
    from {{ staged_events() }}
    {%- if state is not none %}
    where actor_id in (select actor_id from touched_actors)
    {%- endif %}
),

search_events as (
    select event_id, actor_id, event_data from actor_events where event_type = 'SEARCH_PERFORMED'
),

{#- one row per (search, listed perfume): a list naming a perfume twice is one impression #}
listings as (
    select distinct event_id, actor_id, perfume_id
    from ({{ result_perfume_ids('search_events', ['event_id', 'actor_id']) }}) as listed
),

{#- events on a perfume and search listings in one stream, so one aggregation builds the pairs #}
perfume_rows as (
    select actor_id, perfume_id, event_type, duration_ms, value, occurred_at, received_at, event_id,
        false as is_listing
    from actor_events
    where perfume_id is not null
    union all
    select actor_id, perfume_id, 'SEARCH_LISTING', cast(null as integer), cast(null as double precision),
        cast(null as timestamp), cast(null as timestamp), event_id, true
    from listings
),

combined as (
    select
        actor_id,
        perfume_id,
        sum(case when event_type = 'PERFUME_VIEW' then 1 else 0 end) as views,
        sum(case when event_type = 'PERFUME_VIEW' then duration_ms end) as view_duration_ms_sum,
        count(case when event_type = 'PERFUME_VIEW' then duration_ms end) as view_durations,
        max(case when event_type = 'PERFUME_VIEW' then occurred_at end) as last_viewed_at,
        sum(case when event_type = 'RATING_COMPLETED' then 1 else 0 end) as ratings,
        sum(case when event_type = 'RATING_COMPLETED' then value end) as rating_value_sum,
        max(case when event_type = 'COLLECTION_ADD' then 1 else 0 end) = 1 as has_collected,
        coalesce({{ value_at_last('event_type', ['occurred_at', 'received_at', 'event_id'],
            "event_type in ('WISHLIST_ADD', 'WISHLIST_REMOVE')") }} = 'WISHLIST_ADD', false) as is_in_wishlist,
        sum(case when event_type = 'SEARCH_RESULT_CLICKED' then 1 else 0 end) as search_clicks,
        sum(case when is_listing then 1 else 0 end) as search_impressions
    from perfume_rows
    group by actor_id, perfume_id
),

{#- touched actors without any pair left: placeholders, deleted by the post-hook #}
with_placeholders as (
    select * from combined
    {%- if state is not none %}
    union all
    select
        touched_actors.actor_id, cast(null as varchar), 0, cast(null as bigint), 0,
        cast(null as timestamp), 0, cast(null as double precision), false, false, 0, 0
    from touched_actors
    where touched_actors.actor_id not in (select actor_id from combined)
    {%- endif %}
)

select
    actor_id,
    perfume_id,
    cast(views as bigint) as views,
    cast(view_duration_ms_sum as bigint) as view_duration_ms_sum,
    cast(view_durations as bigint) as view_durations,
    last_viewed_at,
    cast(ratings as bigint) as ratings,
    cast(rating_value_sum as double precision) as rating_value_sum,
    has_collected,
    is_in_wishlist,
    cast(search_clicks as bigint) as search_clicks,
    cast(search_impressions as bigint) as search_impressions
from with_placeholders
