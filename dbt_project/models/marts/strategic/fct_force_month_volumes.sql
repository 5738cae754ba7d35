-- Recorded occurrences per force, recorded month and offence subgroup, as at the report month,
-- over the trend window (var volume_trend_months, default 36, report month included): counts,
-- harm (CCHI days), VAWG and domestic-abuse counts. One row set per report_month.
--
-- Months are recording months (reported_at), the police recorded crime convention. Each force's
-- months run without gaps (zero rows filled in) from its first recorded month in the window to
-- the report month; earlier months are absent, not zero (the lake did not cover them).

{%- set window = var('volume_trend_months', 36) | int %}

with

events as (

    select * from {{ ref('int_events') }}
    where event_type in ('crime', 'non_crime_incident')

),

subgroups as (

    select offence_subgroup, min(policeuk_category) as policeuk_category
    from {{ ref('int_offences') }}
    group by offence_subgroup

),

in_window as (

    select
        *,
        coalesce(offence_subgroup, 'Unknown offence code') as subgroup
    from events
    where recorded_at >= {{ report_period_start() }} - interval {{ window - 1 }} month
      and recorded_at < {{ report_period_end() }}

),

counted as (

    select
        force_id,
        recorded_month as month,
        subgroup as offence_subgroup,
        count(*) as occurrences,
        count(*) filter (where event_type = 'crime') as crimes,
        count(*) filter (where event_type = 'non_crime_incident') as non_crime_incidents,
        coalesce(sum(harm_days) filter (where event_type = 'crime'), 0) as harm_days,
        count(*) filter (where is_vawg) as vawg_occurrences,
        count(*) filter (where is_vawg and event_type = 'crime') as vawg_crimes,
        coalesce(sum(harm_days) filter (where is_vawg and event_type = 'crime'), 0) as vawg_harm_days,
        count(*) filter (where is_domestic_abuse) as domestic_abuse_occurrences,
        count(*) filter (where is_domestic_abuse and event_type = 'crime') as domestic_abuse_crimes,
        count(*) filter (where is_cse) as cse_flagged_occurrences

    from in_window
    group by all

),

force_months as (

    -- every month from the force's first recorded month in the window to the report month
    select
        force_id,
        {{ month_spine(first_month='min(month)') }} as month

    from counted
    group by force_id

),

spine as (

    select force_months.force_id, force_months.month, force_subgroups.offence_subgroup
    from force_months
    inner join (select distinct force_id, offence_subgroup from counted) as force_subgroups
        using (force_id)

),

filled as (

    select
        spine.force_id,
        spine.month,
        spine.offence_subgroup,
        coalesce(counted.occurrences, 0) as occurrences,
        coalesce(counted.crimes, 0) as crimes,
        coalesce(counted.non_crime_incidents, 0) as non_crime_incidents,
        coalesce(counted.harm_days, 0) as harm_days,
        coalesce(counted.vawg_occurrences, 0) as vawg_occurrences,
        coalesce(counted.vawg_crimes, 0) as vawg_crimes,
        coalesce(counted.vawg_harm_days, 0) as vawg_harm_days,
        coalesce(counted.domestic_abuse_occurrences, 0) as domestic_abuse_occurrences,
        coalesce(counted.domestic_abuse_crimes, 0) as domestic_abuse_crimes,
        coalesce(counted.cse_flagged_occurrences, 0) as cse_flagged_occurrences

    from spine
    left join counted using (force_id, month, offence_subgroup)

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        filled.force_id,
        filled.month,
        filled.offence_subgroup,
        subgroups.policeuk_category,
        filled.* exclude (force_id, month, offence_subgroup)

    from filled
    left join subgroups using (offence_subgroup)

)

select * from final
