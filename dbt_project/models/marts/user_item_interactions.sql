{#
  One row per (actor, item) with at least one event (SPEC section 5, `user_item_interactions`):
  the implicit-feedback table a recommender trains on. The all-time figures are kept
  incrementally in int_actor_item_stats; only recent_affinity depends on as_of, so only the
  last 30 days are read here.
#}

with pairs as (
    select * from {{ ref('int_actor_item_stats') }}
),

weights as (
    select event_type, weight from {{ ref('event_weights') }}
),

recent_events as (
    select staged.actor_id, staged.perfume_id, staged.house_id, staged.post_id,
        coalesce(weights.weight, 0)
        * power(0.5, {{ seconds_between('staged.occurred_at', as_of()) }} / 86400.0 / 7.0) as decayed_weight
    from {{ staged_events() }} as staged
    left join weights on weights.event_type = staged.event_type
    where staged.occurred_at > {{ window_start(30) }}
        and (staged.perfume_id is not null or staged.house_id is not null or staged.post_id is not null)
),

recent_items as (
    {%- for item_type, column in [('perfume', 'perfume_id'), ('house', 'house_id'), ('post', 'post_id')] %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select actor_id, '{{ item_type }}' as item_type, {{ column }} as item_id, decayed_weight
    from recent_events
    where {{ column }} is not null
    {%- endfor %}
),

recent_affinity as (
    select actor_id, item_type, item_id, sum(decayed_weight) as recent_affinity
    from recent_items
    group by actor_id, item_type, item_id
),

final as (
    select
        pairs.actor_id,
        pairs.user_id,
        pairs.item_type,
        pairs.item_id,
        pairs.interactions,
        pairs.affinity,
        cast(coalesce(recent_affinity.recent_affinity, 0) as double precision) as recent_affinity,
        {{ as_utc('pairs.first_interaction_at') }} as first_interaction_at,
        {{ as_utc('pairs.last_interaction_at') }} as last_interaction_at,
        pairs.is_wishlisted,
        pairs.is_collected,
        pairs.latest_rating
    from pairs
    left join recent_affinity
        on recent_affinity.actor_id = pairs.actor_id
        and recent_affinity.item_type = pairs.item_type
        and recent_affinity.item_id = pairs.item_id
)

select * from final
