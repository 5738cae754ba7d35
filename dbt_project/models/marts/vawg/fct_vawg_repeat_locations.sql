-- One row per (report_month, force_id, lsoa11cd): a repeat VAWG location, i.e. an LSOA (the
-- finest place the crime feed gives) where the force recorded at least
-- var('vawg').repeat_location_min_crimes VAWG crimes in the last strategic_window_months months.
-- rank: 1 = most harm days, then most crimes, then the LSOA code.

{%- set cfg = var('vawg') %}

with

crimes as (

    select * from {{ ref('int_vawg_occurrences') }}
    where event_type = 'crime'
      and lsoa11cd is not null
      and recorded_months_ago between 0 and {{ cfg['strategic_window_months'] - 1 }}

),

locations as (

    select * from {{ ref('int_locations') }}

),

by_lsoa as (

    select force_id, lsoa11cd, count(*) as crimes_12m, sum(harm_days) as harm_days_12m
    from crimes
    group by force_id, lsoa11cd
    having count(*) >= {{ cfg['repeat_location_min_crimes'] }}

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        by_lsoa.force_id,
        by_lsoa.lsoa11cd,
        locations.lsoa11nm,
        locations.msoa11cd,
        locations.msoa11nm,
        by_lsoa.crimes_12m,
        by_lsoa.harm_days_12m,
        row_number() over (
            partition by by_lsoa.force_id
            order by by_lsoa.harm_days_12m desc, by_lsoa.crimes_12m desc, by_lsoa.lsoa11cd
        ) as rank

    from by_lsoa
    left join locations using (lsoa11cd)

)

select * from final
