{{
  config(
    unique_key='post_id',
    indexes=postgres_indexes([{'columns': ['post_id']}]),
    post_hook=["{{ delete_vanished_keys('actor_pairs = 0') }}", "{{ record_build() }}"]
  )
}}
{#
  All-time figures of post_engagement, one row per post with an event, rebuilt for the posts
  touched since the last build from the (post, actor) pairs.
#}

{%- set state = last_build() -%}

with touched_posts as (
    select post_id from ({{ touched_deliveries(state, ['post_id']) }}) as touched where post_id is not null
),

post_pairs as (
    select * from {{ ref('int_post_actor_stats') }}
    {%- if state is not none %}
    where post_id in (select post_id from touched_posts)
    {%- endif %}
),

summarised as (
    select
        post_id,
        count(*) as actor_pairs,
        sum(views) as views,
        sum(clicks) as clicks,
        sum(likes) as likes,
        sum(shares) as shares,
        count(distinct user_id) as unique_users,
        sum(view_duration_ms_sum) as view_duration_ms_sum,
        sum(view_durations) as view_durations,
        sum(scroll_depth_sum) as scroll_depth_sum,
        sum(scroll_depths) as scroll_depths,
        max(last_interaction_at) as last_interaction_at
    from post_pairs
    group by post_id
),

keyed as (
    {%- if state is not none %}
    select touched_posts.post_id as key_post_id, summarised.*
    from touched_posts
    left join summarised on summarised.post_id = touched_posts.post_id
    {%- else %}
    select summarised.post_id as key_post_id, summarised.*
    from summarised
    {%- endif %}
)

select
    key_post_id as post_id,
    cast(coalesce(actor_pairs, 0) as bigint) as actor_pairs,
    cast(views as bigint) as views,
    cast(clicks as bigint) as clicks,
    cast(likes as bigint) as likes,
    cast(shares as bigint) as shares,
    cast(unique_users as bigint) as unique_users,
    cast(view_duration_ms_sum as double precision) / nullif(view_durations, 0) as avg_view_duration_ms,
    cast(scroll_depth_sum as double precision) / nullif(scroll_depths, 0) as avg_scroll_depth,
    last_interaction_at
from keyed
