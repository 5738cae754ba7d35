-- Persons of concern: adults linked to at least persons_of_concern.min_linked_children distinct
-- children who went missing in the window, from any forces (the links and their evidence are
-- int_missing_poc_links). One row per (force, person) for every force from which at least one of
-- the linked children went missing in the window, ranked within the force.
--
-- Score (profiles/missing_persons.yml, persons_of_concern.weights and evidence_weights):
--   per_linked_child x linked children
-- + per_linked_child_in_force x linked children who went missing from this force
-- + per_force_linked x forces the linked children went missing from
-- + per_child_with_indicators x linked children with an exploitation indicator in the window
-- + for each linked child, the evidence weights of the distinct evidence types linking them
--   (capped at max_evidence_points_per_child)

{%- set config_mp = var('missing_persons') %}
{%- set poc = config_mp['persons_of_concern'] %}
{%- set weights = poc['weights'] %}

with

links as (

    select * from {{ ref('int_missing_poc_links') }}

),

child_episodes as (

    select * from {{ ref('int_missing_episodes') }}
    where is_child and is_in_window and person_key is not null

),

persons as (

    select * from {{ ref('dim_persons') }}
    where report_month = {{ report_month_literal() }}

),

child_forces as (

    -- the forces each child went missing from in the window, and whether they carried indicators
    select
        person_key as child_person_key,
        force_id,
        bool_or(has_exploitation_indicators) as has_indicators
    from child_episodes
    group by all

),

child_links as (

    -- one row per (person, child): the evidence types and their points
    select
        poc_person_key,
        child_person_key,
        list_distinct(list(evidence_type)) as evidence_types,
        count(*) as evidence_count,
        max(linked_at) as last_linked_at,
        least(
            sum(distinct_weight),
            {{ weights['max_evidence_points_per_child'] }}
        ) as evidence_points
    from (
        select
            *,
            case when row_number() over (
                    partition by poc_person_key, child_person_key, evidence_type order by linked_at, source_ref
                 ) = 1
                 then case evidence_type
                    {%- for type, weight in poc['evidence_weights'].items() %}
                    when '{{ type }}' then {{ weight }}
                    {%- endfor %}
                    else 0 end
                 else 0 end as distinct_weight
        from links
    )
    group by all

),

qualifying as (

    select poc_person_key
    from child_links
    group by poc_person_key
    having count(distinct child_person_key) >= {{ poc['min_linked_children'] }}

),

poc_totals as (

    select
        child_links.poc_person_key,
        count(distinct child_links.child_person_key) as linked_children,
        sum(child_links.evidence_points) as evidence_points,
        sum(child_links.evidence_count) as evidence_count,
        max(child_links.last_linked_at) as last_linked_at,
        string_agg(distinct evidence_type, ';' order by evidence_type) as evidence_types
    from child_links
    inner join qualifying using (poc_person_key)
    cross join unnest(child_links.evidence_types) as types(evidence_type)
    group by all

),

poc_child_forces as (

    select
        child_links.poc_person_key,
        child_forces.force_id,
        child_links.child_person_key,
        child_forces.has_indicators
    from child_links
    inner join qualifying using (poc_person_key)
    inner join child_forces using (child_person_key)

),

poc_forces as (

    select
        poc_person_key,
        count(distinct force_id) as forces_linked_count,
        string_agg(distinct force_id, ';' order by force_id) as forces_linked,
        count(distinct child_person_key) filter (where has_indicators) as children_with_indicators
    from poc_child_forces
    group by all

),

per_force as (

    select
        poc_person_key,
        force_id,
        count(distinct child_person_key) as linked_children_in_force
    from poc_child_forces
    group by all

),

scored as (

    select
        per_force.force_id,
        per_force.poc_person_key as person_key,
        poc_totals.linked_children,
        per_force.linked_children_in_force,
        poc_forces.forces_linked,
        poc_forces.forces_linked_count,
        poc_forces.forces_linked_count > 1 as is_cross_force,
        poc_totals.evidence_types,
        poc_totals.evidence_count,
        poc_forces.children_with_indicators,
        poc_totals.last_linked_at,
        {{ weights['per_linked_child'] }} * poc_totals.linked_children as children_points,
        {{ weights['per_linked_child_in_force'] }} * per_force.linked_children_in_force as in_force_points,
        {{ weights['per_force_linked'] }} * poc_forces.forces_linked_count as forces_points,
        {{ weights['per_child_with_indicators'] }} * poc_forces.children_with_indicators as indicator_points,
        poc_totals.evidence_points

    from per_force
    inner join poc_totals using (poc_person_key)
    inner join poc_forces using (poc_person_key)

),

ranked as (

    select
        *,
        children_points + in_force_points + forces_points + indicator_points + evidence_points as score,
        row_number() over (
            partition by force_id
            order by children_points + in_force_points + forces_points + indicator_points + evidence_points desc,
                     linked_children desc, evidence_points desc, linked_children_in_force desc, person_key
        ) as rank

    from scored

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        ranked.force_id,
        ranked.person_key,
        ranked.rank,
        ranked.score,
        ranked.rank <= {{ poc['list_size'] }} as in_top_list,
        ranked.linked_children,
        ranked.linked_children_in_force,
        ranked.forces_linked,
        ranked.is_cross_force,
        ranked.evidence_types,
        ranked.evidence_count,
        ranked.children_with_indicators,
        ranked.last_linked_at,
        ranked.children_points,
        ranked.in_force_points,
        ranked.forces_points,
        ranked.indicator_points,
        ranked.evidence_points,
        'Linked to ' || ranked.linked_children || ' missing children ('
            || ranked.linked_children_in_force || ' missing from this force'
            || case when ranked.is_cross_force then ', children missing from ' || ranked.forces_linked_count || ' forces' else '' end
            || case when ranked.children_with_indicators > 0
                    then ', ' || ranked.children_with_indicators || ' with exploitation indicators' else '' end
            || ') by ' || replace(replace(ranked.evidence_types, '_', ' '), ';', ', ')
            || '.' as rank_reason,
        persons.forenames,
        persons.surname,
        persons.date_of_birth,
        persons.sex,
        persons.ethnicity_self,
        persons.pnc_id

    from ranked
    left join persons using (person_key)

)

select * from final
