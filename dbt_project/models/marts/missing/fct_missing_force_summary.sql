-- One row per force: the missing-persons strategic headline figures as at the report month.
-- "12m" is the twelve months ending with the report month (by the month the person went missing);
-- repeat-missing and cross-force children come from fct_missing_children_at_risk (its window,
-- missing_persons.window_months). The return-interview share is over children's episodes in the
-- 12 months that ended (returned) at least 72 hours before the end of the report month, so that
-- the interview was due by then.

with

episodes as (

    select * from {{ ref('int_missing_episodes') }}
    where went_missing_at >= {{ report_period_start() }} - interval 23 month
      and went_missing_at < {{ report_period_end() }}

),

children_at_risk as (

    select * from {{ ref('fct_missing_children_at_risk') }}
    where report_month = {{ report_month_literal() }}

),

per_force as (

    select
        force_id,
        count(*) filter (where went_missing_at >= {{ report_period_start() }}) as episodes_month,
        count(*) filter (where went_missing_at >= {{ report_period_start() }} - interval 11 month) as episodes_12m,
        count(*) filter (where went_missing_at < {{ report_period_start() }} - interval 11 month) as episodes_previous_12m,
        count(distinct person_key) filter (where went_missing_at >= {{ report_period_start() }} - interval 11 month)
            as people_12m,
        count(distinct person_key) filter (where is_child and went_missing_at >= {{ report_period_start() }} - interval 11 month)
            as children_12m,
        count(*) filter (where is_child and went_missing_at >= {{ report_period_start() }} - interval 11 month)
            as child_episodes_12m,
        count(*) filter (where is_from_care and went_missing_at >= {{ report_period_start() }} - interval 11 month)
            as from_care_episodes_12m,
        {%- for grade in ['high', 'medium', 'low', 'no_apparent_risk'] %}
        count(*) filter (where risk_grade = '{{ grade }}' and went_missing_at >= {{ report_period_start() }} - interval 11 month)
            as {{ grade }}_risk_episodes_12m,
        {%- endfor %}
        count(*) filter (where has_exploitation_indicators and went_missing_at >= {{ report_period_start() }} - interval 11 month)
            as episodes_with_exploitation_indicators_12m,
        count(*) filter (
            where is_child and went_missing_at >= {{ report_period_start() }} - interval 11 month
              and returned_at is not null and returned_at <= {{ report_period_end() }} - interval 72 hour
        ) as return_interviews_due_12m,
        count(*) filter (
            where is_child and went_missing_at >= {{ report_period_start() }} - interval 11 month
              and returned_at is not null and returned_at <= {{ report_period_end() }} - interval 72 hour
              and return_interview_at is not null and return_interview_at <= returned_at + interval 72 hour
        ) as return_interviews_within_72h_12m

    from episodes
    group by all

),

children as (

    select
        force_id,
        count(*) as children_at_risk,
        count(*) filter (where is_repeat_missing) as repeat_missing_children,
        count(*) filter (where is_cross_force) as cross_force_children,
        count(*) filter (where persons_of_concern_count > 0) as children_linked_to_persons_of_concern
    from children_at_risk
    group by all

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        per_force.force_id,
        per_force.episodes_month,
        per_force.episodes_12m,
        per_force.episodes_previous_12m,
        case when per_force.episodes_previous_12m > 0
             then round(100.0 * (per_force.episodes_12m - per_force.episodes_previous_12m) / per_force.episodes_previous_12m, 1)
        end as trend_pct,
        per_force.people_12m,
        per_force.children_12m,
        per_force.child_episodes_12m,
        case when per_force.episodes_12m > 0
             then per_force.from_care_episodes_12m / per_force.episodes_12m end as from_care_share,
        coalesce(children.children_at_risk, 0) as children_at_risk,
        coalesce(children.repeat_missing_children, 0) as repeat_missing_children,
        coalesce(children.cross_force_children, 0) as cross_force_children,
        coalesce(children.children_linked_to_persons_of_concern, 0) as children_linked_to_persons_of_concern,
        per_force.high_risk_episodes_12m as high_risk_episodes,
        per_force.medium_risk_episodes_12m as medium_risk_episodes,
        per_force.low_risk_episodes_12m as low_risk_episodes,
        per_force.no_apparent_risk_risk_episodes_12m as no_apparent_risk_episodes,
        per_force.episodes_with_exploitation_indicators_12m,
        per_force.return_interviews_due_12m,
        per_force.return_interviews_within_72h_12m,
        case when per_force.return_interviews_due_12m > 0
             then per_force.return_interviews_within_72h_12m / per_force.return_interviews_due_12m
        end as return_interview_within_72h_share

    from per_force
    left join children using (force_id)

)

select * from final
