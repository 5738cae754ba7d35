-- One row per (report_month, force_id, person_key): a victim of VAWG occurrences recorded by
-- force_id in the last var('vawg').victim_flags.window_months months. Counts run over every
-- force's records (a victim abused in two forces is one person); a victim is listed by each force
-- that recorded at least one of the victimisations.
--
-- is_repeat_victim: at least repeat_min_victimisations victimisations in the window;
-- is_high_harm_victim: at least high_harm_min_days harm days in the window.

{%- set flags = var('vawg')['victim_flags'] %}

with

occurrences as (

    select * from {{ ref('int_vawg_occurrences') }}
    where recorded_months_ago between 0 and {{ flags['window_months'] - 1 }}

),

involvements as (

    select * from {{ ref('int_vawg_involvements') }}

),

persons as (

    select * from {{ ref('dim_persons') }}
    where report_month = {{ report_month_literal() }}

),

victimisations as (

    select
        involvements.person_key,
        occurrences.event_id,
        occurrences.force_id,
        occurrences.offence_at,
        occurrences.harm_days

    from involvements
    inner join occurrences using (event_id)
    where involvements.involvement = 'victim'

),

perpetrators as (

    select victimisations.person_key, count(distinct suspects.person_key) as perpetrator_count
    from victimisations
    inner join involvements as suspects
        on suspects.event_id = victimisations.event_id
       and suspects.involvement = 'suspect'
       and suspects.person_key <> victimisations.person_key
    group by victimisations.person_key

),

per_victim as (

    select
        person_key,
        count(*) as victimisations,
        sum(harm_days) as harm_days,
        min(offence_at) as first_victimised_at,
        max(offence_at) as last_victimised_at,
        count(distinct force_id) as force_count,
        string_agg(distinct force_id, ';' order by force_id) as forces_victimised

    from victimisations
    group by person_key

),

per_force as (

    select force_id, person_key, count(*) as victimisations_in_force
    from victimisations
    group by force_id, person_key

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        per_force.force_id,
        per_force.person_key,
        per_victim.victimisations,
        per_force.victimisations_in_force,
        coalesce(perpetrators.perpetrator_count, 0) as perpetrator_count,
        per_victim.harm_days,
        per_victim.first_victimised_at,
        per_victim.last_victimised_at,
        per_victim.forces_victimised,
        per_victim.force_count > 1 as is_cross_force,
        per_victim.victimisations >= {{ flags['repeat_min_victimisations'] }} as is_repeat_victim,
        per_victim.harm_days >= {{ flags['high_harm_min_days'] }} as is_high_harm_victim,
        persons.forenames,
        persons.surname,
        persons.date_of_birth,
        persons.pnc_id,
        persons.sex,
        persons.ethnicity_self

    from per_force
    inner join per_victim using (person_key)
    left join perpetrators using (person_key)
    left join persons using (person_key)

)

select * from final
