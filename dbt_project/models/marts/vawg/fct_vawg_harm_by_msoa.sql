-- One row per (report_month, force_id, msoa11cd): the force's VAWG crimes and harm in the last
-- var('vawg').strategic_window_months months by MSOA (for the strategic map), with how many of
-- the MSOA's LSOAs are repeat locations (fct_vawg_repeat_locations' definition). Crimes whose
-- LSOA is unknown or outside the geography are under msoa11cd 'unknown'.

{%- set cfg = var('vawg') %}

with

crimes as (

    select * from {{ ref('int_vawg_occurrences') }}
    where event_type = 'crime'
      and recorded_months_ago between 0 and {{ cfg['strategic_window_months'] - 1 }}

),

locations as (

    select lsoa11cd, msoa11cd, msoa11nm from {{ ref('int_locations') }}

),

located as (

    select
        crimes.force_id,
        crimes.lsoa11cd,
        coalesce(locations.msoa11cd, 'unknown') as msoa11cd,
        locations.msoa11nm,
        crimes.harm_days

    from crimes
    left join locations using (lsoa11cd)

),

lsoa_counts as (

    select force_id, msoa11cd, lsoa11cd, count(*) as crimes
    from located
    where lsoa11cd is not null
    group by force_id, msoa11cd, lsoa11cd

),

repeats as (

    select force_id, msoa11cd, count(*) as repeat_location_count
    from lsoa_counts
    where crimes >= {{ cfg['repeat_location_min_crimes'] }}
    group by force_id, msoa11cd

),

by_msoa as (

    select force_id, msoa11cd, max(msoa11nm) as msoa11nm, count(*) as crimes_12m, sum(harm_days) as harm_days_12m
    from located
    group by force_id, msoa11cd

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        by_msoa.force_id,
        by_msoa.msoa11cd,
        by_msoa.msoa11nm,
        by_msoa.crimes_12m,
        by_msoa.harm_days_12m,
        coalesce(repeats.repeat_location_count, 0) as repeat_location_count

    from by_msoa
    left join repeats using (force_id, msoa11cd)

)

select * from final
