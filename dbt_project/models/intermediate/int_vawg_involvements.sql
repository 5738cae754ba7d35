-- One row per (VAWG occurrence, resolved person, involvement): who is a suspect and who is a
-- victim of each occurrence of int_vawg_occurrences, as resolved persons (person_clusters), with
-- the suspect's age at the offence. A person recorded twice in one role on one occurrence is one
-- row.
--
-- Roles come from var('vawg').scope: suspect_roles (e.g. suspect, offender) are 'suspect',
-- victim_roles are 'victim'. Age: the record's date of birth, else the earliest date of birth on
-- the person's other records (null when none is known).

{%- set cfg = var('vawg') %}

with

occurrences as (

    select * from {{ ref('int_vawg_occurrences') }}

),

records as (

    select * from {{ ref('int_person_records') }}
    where source_feed = 'crime' and source_entity = 'involvements'

),

all_records as (

    select record_id, date_of_birth from {{ ref('int_person_records') }}

),

clusters as (

    select record_id, person_key from {{ source('resolution', 'person_clusters') }}

),

person_dob as (

    select clusters.person_key, min(all_records.date_of_birth) as date_of_birth
    from clusters
    inner join all_records using (record_id)
    where all_records.date_of_birth is not null
    group by clusters.person_key

),

involved as (

    select
        occurrences.event_id,
        clusters.person_key,
        case
            when records.role in ({% for r in cfg['scope']['suspect_roles'] %}'{{ r }}'{% if not loop.last %}, {% endif %}{% endfor %}) then 'suspect'
            when records.role in ({% for r in cfg['scope']['victim_roles'] %}'{{ r }}'{% if not loop.last %}, {% endif %}{% endfor %}) then 'victim'
        end as involvement,
        records.record_id,
        coalesce(records.date_of_birth, person_dob.date_of_birth) as date_of_birth,
        occurrences.offence_at

    from records
    inner join occurrences
        on records.force_id = occurrences.force_id
       and records.source_ref = occurrences.source_ref
    inner join clusters using (record_id)
    left join person_dob using (person_key)

),

final as (

    select
        event_id,
        person_key,
        involvement,
        min(record_id) as record_id,
        min(date_of_birth) as date_of_birth,
        date_sub('year', min(date_of_birth), cast(min(offence_at) as date)) as age_at_offence

    from involved
    where involvement is not null
    group by event_id, person_key, involvement

)

select * from final
