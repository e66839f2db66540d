{{
  config(
    unique_key='actor_id',
    indexes=postgres_indexes([{'columns': ['actor_id']}, {'columns': ['post_id']}]),
    post_hook=["{{ delete_vanished_keys('post_id is null') }}", "{{ record_build() }}"]
  )
}}
{#
  One row per (post, actor) with the all-time figures of post_engagement, at the grain where
  distinct users stay exact. Rebuilt for the actors touched since the last build; an actor left
  without events keeps a placeholder row (post_id null) that the post-hook deletes.
#}

{%- set state = last_build() -%}

with touched_actors as (
    {{ touched_actors(state) }}
),

post_events as (
    select actor_id, post_id, resolved_user_id as user_id, event_type, duration_ms, scroll_depth, occurred_at
    from {{ staged_events() }}
    where post_id is not null
    {%- if state is not none %}
        and actor_id in (select actor_id from touched_actors)
    {%- endif %}
),

pairs as (
    select
        actor_id,
        post_id,
        max(user_id) as user_id,
        sum(case when event_type = 'POST_VIEW' then 1 else 0 end) as views,
        sum(case when event_type = 'POST_CLICK' then 1 else 0 end) as clicks,
        sum(case when event_type = 'POST_LIKE' then 1 else 0 end) as likes,
        sum(case when event_type = 'POST_SHARE' then 1 else 0 end) as shares,
        sum(case when event_type = 'POST_VIEW' then duration_ms end) as view_duration_ms_sum,
        count(case when event_type = 'POST_VIEW' then duration_ms end) as view_durations,
        sum(case when event_type = 'POST_VIEW' then scroll_depth end) as scroll_depth_sum,
        count(case when event_type = 'POST_VIEW' then scroll_depth end) as scroll_depths,
        max(occurred_at) as last_interaction_at
    from post_events
    group by actor_id, post_id
),

with_placeholders as (
    select * from pairs
    {%- if state is not none %}
    union all
    select
        touched_actors.actor_id, cast(null as varchar), cast(null as varchar), 0, 0, 0, 0,
        cast(null as bigint), 0, cast(null as bigint), 0, cast(null as timestamp)
    from touched_actors
    where touched_actors.actor_id not in (select actor_id from pairs)
    {%- endif %}
)

select
    actor_id,
    post_id,
    user_id,
    cast(views as bigint) as views,
    cast(clicks as bigint) as clicks,
    cast(likes as bigint) as likes,
    cast(shares as bigint) as shares,
    cast(view_duration_ms_sum as bigint) as view_duration_ms_sum,
    cast(view_durations as bigint) as view_durations,
    cast(scroll_depth_sum as bigint) as scroll_depth_sum,
    cast(scroll_depths as bigint) as scroll_depths,
    last_interaction_at
from with_placeholders
