{{ config(materialized='view') }}
{#
  One row per (actor, item) with at least one event (SPEC section 5, `user_item_interactions`):
  the implicit-feedback table a recommender trains on. Everything is kept incrementally in
  int_actor_item_stats; only recent_affinity depends on as_of, and there each pair keeps its
  30-day decayed sum for the as_of it was last computed at, recomputed whenever an event of the
  actor enters or leaves the window. This view brings it to the run's as_of (written into the
  view when it is built), so a run does not rewrite the table.
#}

select
    actor_id,
    user_id,
    item_type,
    item_id,
    interactions,
    affinity,
    cast({{ decayed_since('recent_affinity_at_anchor', 'recent_anchor', 7.0) }} as double precision) as recent_affinity,
    {{ as_utc('first_interaction_at') }} as first_interaction_at,
    {{ as_utc('last_interaction_at') }} as last_interaction_at,
    is_wishlisted,
    is_collected,
    latest_rating
from {{ ref('int_actor_item_stats') }}
