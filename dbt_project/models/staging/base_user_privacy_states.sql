{{
  config(
    materialized='incremental',
    unique_key='user_id',
    incremental_strategy='delete+insert',
    indexes=postgres_indexes([{'columns': ['user_id'], 'unique': true}, {'columns': ['_changed_at']}])
  )
}}
{#
  One row per user of the privacy log: their current opt-out state (latest opt_out/opt_in
  row; a tie counts as opted out) and a fingerprint of their log rows. `_changed_at` is the run
  that first saw the current fingerprint, so every model can tell whose events to re-derive,
  whatever `requested_at` the rows carry. The log is small: it is read whole on every run.
#}

with privacy_events as (
    select user_id, action, {{ utc_timestamp('requested_at') }} as requested_at
    from {{ privacy_events_relation() }} as privacy_events
),

ranked_choices as (
    select
        user_id,
        action,
        row_number() over (
            partition by user_id
            order by requested_at desc, case when action = 'opt_out' then 0 else 1 end
        ) as recency
    from privacy_events
    where action in ('opt_out', 'opt_in')
),

summarised as (
    select
        privacy_events.user_id,
        coalesce(max(case when ranked_choices.action = 'opt_out' then 1 else 0 end), 0) = 1 as is_opted_out,
        sum(case when privacy_events.action = 'erase' then 1 else 0 end) as erase_requests,
        count(*) as privacy_rows,
        max(privacy_events.requested_at) as last_requested_at
    from privacy_events
    left join ranked_choices
        on ranked_choices.user_id = privacy_events.user_id and ranked_choices.recency = 1
    group by privacy_events.user_id
),

stamped as (
    select summarised.*, {{ run_started() }} as _changed_at
    from summarised
    {% if is_incremental() %}
    {# only users whose log changed are rewritten; the others keep their _changed_at #}
    left join {{ this }} as previous on previous.user_id = summarised.user_id
    where previous.user_id is null
        or previous.privacy_rows <> summarised.privacy_rows
        or previous.last_requested_at <> summarised.last_requested_at
        or previous.is_opted_out <> summarised.is_opted_out
        or previous.erase_requests <> summarised.erase_requests
    {% endif %}
)

select
    user_id,
    is_opted_out,
    erase_requests,
    privacy_rows,
    last_requested_at,
    _changed_at
from stamped
