-- One row per (report_month, force_id, month) for the var('vawg').trend_months months up to and
-- including the report month: the force's VAWG volumes and harm by month recorded, with zeros for
-- months without any (months before the lake's history are zero too: see months_in_lake in
-- fct_vawg_force_summary's caveats).
--
-- vawg_crimes: crimes in VAWG scope; vawg_incidents: non-crime incidents in scope; strand counts
-- are of crimes (vawg_strand of seeds/vawg_scope.csv; 'domestic_abuse_flag' = in scope only by
-- the force's domestic-abuse flag); domestic_abuse_crimes: crimes the force flagged domestic
-- abuse, whatever the code; suspects: distinct resolved suspects of the month's occurrences.

{%- set cfg = var('vawg') %}

with

occurrences as (

    select * from {{ ref('int_vawg_occurrences') }}
    where recorded_months_ago between 0 and {{ cfg['trend_months'] - 1 }}

),

suspects as (

    select event_id, person_key from {{ ref('int_vawg_involvements') }}
    where involvement = 'suspect'

),

forces as (

    select distinct force_id from {{ ref('int_events') }}
    where force_id is not null

),

months as (

    select {{ month_spine(months=cfg['trend_months']) }} as month

),

monthly as (

    select
        force_id,
        recorded_month as month,
        count(*) filter (where event_type = 'crime') as vawg_crimes,
        count(*) filter (where event_type <> 'crime') as vawg_incidents,
        sum(harm_days) as vawg_harm_days,
        count(*) filter (where event_type = 'crime' and is_domestic_abuse) as domestic_abuse_crimes,
        count(*) filter (where event_type = 'crime' and vawg_strand = 'sexual_offences') as sexual_offences,
        count(*) filter (where event_type = 'crime' and vawg_strand = 'stalking_harassment') as stalking_harassment,
        count(*) filter (where event_type = 'crime' and vawg_strand = 'coercive_control') as coercive_control,
        count(*) filter (where event_type = 'crime' and vawg_strand = 'domestic_abuse_flag') as domestic_abuse_flag_only

    from occurrences
    group by force_id, recorded_month

),

monthly_suspects as (

    select occurrences.force_id, occurrences.recorded_month as month, count(distinct suspects.person_key) as suspects
    from occurrences
    inner join suspects using (event_id)
    group by occurrences.force_id, occurrences.recorded_month

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        forces.force_id,
        months.month,
        coalesce(monthly.vawg_crimes, 0) as vawg_crimes,
        coalesce(monthly.vawg_incidents, 0) as vawg_incidents,
        coalesce(monthly.vawg_harm_days, 0) as vawg_harm_days,
        coalesce(monthly.domestic_abuse_crimes, 0) as domestic_abuse_crimes,
        coalesce(monthly.sexual_offences, 0) as sexual_offences,
        coalesce(monthly.stalking_harassment, 0) as stalking_harassment,
        coalesce(monthly.coercive_control, 0) as coercive_control,
        coalesce(monthly.domestic_abuse_flag_only, 0) as domestic_abuse_flag_only,
        coalesce(monthly_suspects.suspects, 0) as suspects

    from forces
    cross join months
    left join monthly using (force_id, month)
    left join monthly_suspects using (force_id, month)

)

select * from final
