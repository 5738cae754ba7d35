-- One row per (report_month, force_id, ho_code): the force's VAWG crimes recorded in the last
-- var('vawg').strategic_window_months months by Home Office offence code, with their harm and
-- their shares of the force's VAWG count and harm (harm shows where the damage is, not just the
-- volume). ho_code 'unknown' gathers crimes without a recognised code.

{%- set cfg = var('vawg') %}

with

crimes as (

    select * from {{ ref('int_vawg_occurrences') }}
    where event_type = 'crime'
      and recorded_months_ago between 0 and {{ cfg['strategic_window_months'] - 1 }}

),

by_code as (

    select
        force_id,
        coalesce(ho_code, 'unknown') as ho_code,
        max(offence_description) as description,
        max(offence_subgroup) as offence_subgroup,
        max(vawg_strand) as vawg_strand,
        count(*) as crimes_12m,
        sum(harm_days) as harm_days_12m

    from crimes
    group by force_id, coalesce(ho_code, 'unknown')

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        force_id,
        ho_code,
        description,
        offence_subgroup,
        vawg_strand,
        crimes_12m,
        harm_days_12m,
        crimes_12m / sum(crimes_12m) over (partition by force_id) as share_of_count,
        case when sum(harm_days_12m) over (partition by force_id) > 0
            then harm_days_12m / sum(harm_days_12m) over (partition by force_id) else 0 end as share_of_harm

    from by_code

)

select * from final
