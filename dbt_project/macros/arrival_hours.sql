{# Arrival hours (UTC, by received_at) in which raw and base_interaction_events hold a different
   number of deliveries: where new rows landed since the last run, however late or early their
   received_at. Counting reads one column, so it stays cheap on large stores. The deliveries of
   events erased since the last build (`state`) are left out of this side's count: raw no longer
   holds them, and an hour where an erasure took as many rows as new ones brought would otherwise
   look unchanged (the erasure itself is applied from raw.erased_events). An hour that retention
   emptied in raw is not listed (the warehouse keeps what retention removed); the partly emptied
   hour at its edge is re-read and yields nothing. #}
{% macro changed_arrival_hours(state) %}
  {% if not execute %}{{ return([]) }}{% endif %}
  {% set query %}
    with raw_hours as (
        select date_trunc('hour', received_at) as arrival_hour, count(*) as deliveries
        from ({{ normalized_raw_events() }}) as raw_events
        group by 1
    ),
    known_hours as (
        select date_trunc('hour', received_at) as arrival_hour, count(*) as deliveries
        from {{ this }}
        where not is_deleted
            and event_id not in (
                select cast(event_id as varchar) from {{ erased_events_relation() }} as erased
                where {{ utc_timestamp('erased.erased_at') }} > {{ state.built_at }}
            )
        group by 1
    )
    select cast(raw_hours.arrival_hour as varchar)
    from raw_hours
    left join known_hours on known_hours.arrival_hour = raw_hours.arrival_hour
    where raw_hours.deliveries <> coalesce(known_hours.deliveries, 0)
    order by 1
  {% endset %}
  {# consecutive hours merge into one [start, end) range #}
  {% set ranges = [] %}
  {% for row in run_query(query).rows %}
    {% set hour = modules.datetime.datetime.strptime(row[0][:19], '%Y-%m-%d %H:%M:%S') %}
    {% if ranges and ranges[-1][1] == hour %}
      {% set previous = ranges.pop() %}
      {% do ranges.append([previous[0], hour + modules.datetime.timedelta(hours=1)]) %}
    {% else %}
      {% do ranges.append([hour, hour + modules.datetime.timedelta(hours=1)]) %}
    {% endif %}
  {% endfor %}
  {{ return(ranges) }}
{% endmacro %}

{# A filter on the RAW received_at column (timestamptz) for the given [start, end) ranges, so
   the engine can prune Parquet row groups / use the index. #}
{% macro received_at_ranges(ranges) %}
  {% if ranges | length == 0 %}{{ return('1 = 0') }}{% endif %}
  {% set conditions = [] %}
  {% for range in ranges %}
    {% do conditions.append("(received_at >= cast('" ~ range[0].strftime('%Y-%m-%d %H:%M:%S') ~ "+00' as timestamptz) and received_at < cast('" ~ range[1].strftime('%Y-%m-%d %H:%M:%S') ~ "+00' as timestamptz))") %}
  {% endfor %}
  {{ return('(' ~ conditions | join(' or ') ~ ')') }}
{% endmacro %}
