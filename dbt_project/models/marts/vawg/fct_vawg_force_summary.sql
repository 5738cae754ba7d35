-- One row per (report_month, force_id): the headline VAWG figures of the force's strategic
-- profile. "12m" = the last var('vawg').strategic_window_months months up to and including the
-- report month; trend_pct compares them with the window before (null when the earlier window holds
-- no crime, e.g. before the lake's history starts).

{%- set cfg = var('vawg') %}
{%- set w = cfg['strategic_window_months'] %}

with

occurrences as (

    select * from {{ ref('int_vawg_occurrences') }}
    where event_type = 'crime'

),

forces as (

    select distinct force_id from {{ ref('int_events') }}
    where force_id is not null

),

subjects as (

    select * from {{ ref('fct_vawg_subjects') }}
    where report_month = {{ report_month_literal() }}

),

victims as (

    select * from {{ ref('fct_vawg_victims') }}
    where report_month = {{ report_month_literal() }}

),

crime_figures as (

    select
        force_id,
        count(*) filter (where recorded_months_ago = 0) as crimes_month,
        count(*) filter (where recorded_months_ago between 0 and {{ w - 1 }}) as crimes_12m,
        count(*) filter (where recorded_months_ago between {{ w }} and {{ 2 * w - 1 }}) as crimes_previous_12m,
        coalesce(sum(harm_days) filter (where recorded_months_ago between 0 and {{ w - 1 }}), 0) as harm_days_12m

    from occurrences
    group by force_id

),

subject_figures as (

    select
        force_id,
        count(*) as subjects_scored,
        count(*) filter (where is_serial_perpetrator) as serial_perpetrators,
        count(*) filter (where is_serial_perpetrator and rank <= {{ cfg['list_size'] }}) as serial_perpetrators_in_top_list,
        count(*) filter (where is_cross_force) as cross_force_subjects,
        avg(case when is_cross_force then 1.0 else 0.0 end) as cross_force_subject_share,
        count(*) filter (where is_escalating) as escalating_subjects,
        count(*) filter (where visor_status is not null) as visor_subjects

    from subjects
    group by force_id

),

victim_figures as (

    select
        force_id,
        count(*) as victims_12m,
        count(*) filter (where is_repeat_victim) as repeat_victims,
        count(*) filter (where is_high_harm_victim) as high_harm_victims

    from victims
    group by force_id

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        forces.force_id,
        coalesce(crime_figures.crimes_month, 0) as crimes_month,
        coalesce(crime_figures.crimes_12m, 0) as crimes_12m,
        coalesce(crime_figures.crimes_previous_12m, 0) as crimes_previous_12m,
        coalesce(crime_figures.harm_days_12m, 0) as harm_days_12m,
        coalesce(subject_figures.subjects_scored, 0) as subjects_scored,
        coalesce(subject_figures.serial_perpetrators, 0) as serial_perpetrators,
        coalesce(subject_figures.serial_perpetrators_in_top_list, 0) as serial_perpetrators_in_top_list,
        coalesce(subject_figures.cross_force_subjects, 0) as cross_force_subjects,
        subject_figures.cross_force_subject_share,
        coalesce(subject_figures.escalating_subjects, 0) as escalating_subjects,
        coalesce(subject_figures.visor_subjects, 0) as visor_subjects,
        coalesce(victim_figures.victims_12m, 0) as victims_12m,
        coalesce(victim_figures.repeat_victims, 0) as repeat_victims,
        coalesce(victim_figures.high_harm_victims, 0) as high_harm_victims,
        case when coalesce(crime_figures.crimes_previous_12m, 0) > 0
            then round(100.0 * (crime_figures.crimes_12m - crime_figures.crimes_previous_12m)
                       / crime_figures.crimes_previous_12m, 1) end as trend_pct,
        {{ cfg['list_size'] }} as list_size,
        '{{ cfg['version'] }}' as scoring_version

    from forces
    left join crime_figures using (force_id)
    left join subject_figures using (force_id)
    left join victim_figures using (force_id)

)

select * from final
