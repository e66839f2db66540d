{{
  config(
    unique_key='perfume_id',
    indexes=postgres_indexes([{'columns': ['perfume_id']}]),
    post_hook=["{{ delete_vanished_keys('actor_pairs = 0') }}", "{{ record_build() }}"]
  )
}}
{#
  All-time, as_of-independent figures of perfume_interaction_stats, one row per perfume that
  is an event's perfume_id or listed in a search's resultPerfumeIds. Rebuilt for the perfumes
  touched since the last build from the (perfume, actor) pairs, never from the raw history.
#}

{%- set state = last_build() -%}
{%- set pairs = ref('int_perfume_actor_stats') -%}

with touched_events as (
    {{ touched_deliveries(state, ['event_id', 'perfume_id', 'event_data']) }}
),

touched_perfumes as (
    select perfume_id from touched_events where perfume_id is not null
    union
    select perfume_id from ({{ result_perfume_ids('touched_events', ['event_id']) }}) as listed
),

perfume_pairs as (
    select * from {{ pairs }}
    {%- if state is not none %}
    where perfume_id in (select perfume_id from touched_perfumes)
    {%- endif %}
),

summarised as (
    select
        perfume_id,
        count(*) as actor_pairs,
        sum(views) as total_views,
        sum(case when views > 0 then 1 else 0 end) as unique_viewers,
        sum(view_duration_ms_sum) as view_duration_ms_sum,
        sum(view_durations) as view_durations,
        sum(ratings) as total_ratings,
        sum(rating_value_sum) as rating_value_sum,
        sum(case when is_in_wishlist then 1 else 0 end) as in_wishlist_count,
        sum(case when has_collected then 1 else 0 end) as in_collection_count,
        sum(search_clicks) as search_clicks,
        sum(search_impressions) as search_impressions,
        max(last_viewed_at) as last_viewed_at
    from perfume_pairs
    group by perfume_id
),

keyed as (
    {%- if state is not none %}
    select touched_perfumes.perfume_id as key_perfume_id, summarised.*
    from touched_perfumes
    left join summarised on summarised.perfume_id = touched_perfumes.perfume_id
    {%- else %}
    select summarised.perfume_id as key_perfume_id, summarised.*
    from summarised
    {%- endif %}
)

select
    key_perfume_id as perfume_id,
    cast(coalesce(actor_pairs, 0) as bigint) as actor_pairs,
    cast(total_views as bigint) as total_views,
    cast(unique_viewers as bigint) as unique_viewers,
    cast(view_duration_ms_sum as double precision) / nullif(view_durations, 0) as avg_view_duration_ms,
    cast(total_ratings as bigint) as total_ratings,
    rating_value_sum / nullif(total_ratings, 0) as avg_rating,
    cast(in_wishlist_count as bigint) as in_wishlist_count,
    cast(in_collection_count as bigint) as in_collection_count,
    cast(search_clicks as bigint) as search_clicks,
    cast(search_impressions as bigint) as search_impressions,
    last_viewed_at
from keyed
