{#
  The events every mart is built from (SPEC section 5): one row per event_id (the earliest
  delivery), no crawler events, no opted-out users, and occurred_at <= as_of (of the run that
  last built this view); no flagged behaviour-bot session when
  var('exclude_behaviour_bot_sessions') is on. The marts inline the same SQL
  (macros/staging_events.sql) so that they always use their own run's as_of.
#}

select * from {{ stg_interaction_events() }}
