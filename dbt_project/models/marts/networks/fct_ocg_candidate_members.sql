-- The members of every community of fct_ocg_candidates (candidates and matched groups alike):
-- one row per (candidate_id, person_key) with the member's home force (the force holding most of
-- their records; ties to the alphabetically first), their strong-edge degree inside the
-- community, the roles they appear in, whether the register lists them in a group, and their
-- best-known identity.

with

communities as (

    select * from {{ ref('int_network_communities') }}

),

clusters as (

    select record_id, person_key from {{ source('resolution', 'person_clusters') }}

),

records as (

    select clusters.person_key, records.force_id, records.role
    from {{ ref('int_person_records') }} as records
    inner join clusters using (record_id)
    inner join communities on communities.person_key = clusters.person_key

),

home_force as (

    select person_key, force_id
    from records
    where force_id is not null
    group by person_key, force_id
    qualify row_number() over (partition by person_key order by count(*) desc, force_id) = 1

),

member_records as (

    select
        person_key,
        string_agg(distinct role, ';' order by role) filter (where force_id is not null) as roles,
        count(*) filter (where force_id is not null) as record_count,
        string_agg(distinct role, ';') filter (where role = 'ocg_member') is not null as on_ocg_register
    from records
    group by all

),

persons as (

    select * from {{ ref('dim_persons') }}
    where report_month = {{ report_month_literal() }}

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        communities.community_id as candidate_id,
        communities.person_key,
        home_force.force_id,
        persons.forces,
        communities.strong_degree as degree,
        communities.strong_weight,
        member_records.roles,
        member_records.record_count,
        member_records.on_ocg_register,
        persons.ocg_refs,
        persons.forenames,
        persons.surname,
        persons.date_of_birth,
        persons.sex,
        persons.ethnicity_self,
        persons.pnc_id

    from communities
    left join home_force using (person_key)
    left join member_records using (person_key)
    left join persons using (person_key)

)

select * from final
