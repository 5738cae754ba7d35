-- Missing-person episodes per force and month (the month the person went missing), as at the
-- report month, over the trend window (missing_persons.trend_months, report month included):
-- episodes, distinct people and children, from-care, high-risk and exploitation-flagged episodes.
-- Each force's months run without gaps (zeros filled) from its first month with an episode in the
-- window to the report month; earlier months are absent (the lake did not cover them), not zero.

{%- set config_mp = var('missing_persons') %}
{%- set trend = config_mp['trend_months'] | int %}

with

episodes as (

    select * from {{ ref('int_missing_episodes') }}
    where went_missing_at >= {{ report_period_start() }} - interval {{ trend - 1 }} month
      and went_missing_at < {{ report_period_end() }}

),

counted as (

    select
        force_id,
        strftime(went_missing_at, '%Y-%m') as month,
        count(*) as episodes,
        count(distinct person_key) as people,
        count(distinct person_key) filter (where is_child) as children,
        count(*) filter (where is_child) as child_episodes,
        count(*) filter (where is_from_care) as from_care_episodes,
        count(*) filter (where risk_grade = 'high') as high_risk_episodes,
        count(*) filter (where has_exploitation_indicators) as episodes_with_exploitation_indicators,
        count(*) filter (where found_with_record_id is not null) as episodes_found_with_someone

    from episodes
    group by all

),

force_months as (

    select
        force_id,
        {{ month_spine(first_month='min(month)') }} as month

    from counted
    group by force_id

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        force_months.force_id,
        force_months.month,
        coalesce(counted.episodes, 0) as episodes,
        coalesce(counted.people, 0) as people,
        coalesce(counted.children, 0) as children,
        coalesce(counted.child_episodes, 0) as child_episodes,
        coalesce(counted.from_care_episodes, 0) as from_care_episodes,
        coalesce(counted.high_risk_episodes, 0) as high_risk_episodes,
        coalesce(counted.episodes_with_exploitation_indicators, 0) as episodes_with_exploitation_indicators,
        coalesce(counted.episodes_found_with_someone, 0) as episodes_found_with_someone

    from force_months
    left join counted using (force_id, month)

)

select * from final
