-- One row per resolved person (person_key) seen in at least one force's records as at the
-- report month: the best-known identity and where the person appears. One row set per
-- report_month.
--
-- Best-known value of each attribute: the value most records agree on; ties go to the value
-- seen most recently, then to the alphabetically first (so the choice is deterministic).
-- Forenames and surname are chosen together (a name, not a mix of two). Central-platform
-- records (national nominals, OCG members) count as evidence and flag the person, but a person
-- known only to the central platform is not a row.

with

clusters as (

    select * from {{ source('resolution', 'person_clusters') }}

),

records as (

    select * from {{ ref('int_person_records') }}

),

clustered as (

    select
        clusters.person_key,
        clusters.match_probability,
        records.*

    from records
    inner join clusters using (record_id)

),

force_persons as (

    select distinct person_key from clustered
    where force_id is not null

),

person_records as (

    select clustered.*
    from clustered
    inner join force_persons using (person_key)

),

best_names as (

    select
        person_key,
        forenames,
        surname,
        count(*) as records_with_name,
        max(event_at) as last_seen_at

    from person_records
    where forenames is not null or surname is not null
    group by person_key, forenames, surname
    qualify row_number() over (
        partition by person_key
        order by records_with_name desc, last_seen_at desc nulls last, surname, forenames
    ) = 1

),

attribute_values as (

    unpivot (
        select
            person_key,
            event_at,
            cast(date_of_birth as varchar) as date_of_birth,
            sex,
            ethnicity_self,
            ethnicity_officer,
            pnc_id,
            cro_number
        from person_records
    )
    on date_of_birth, sex, ethnicity_self, ethnicity_officer, pnc_id, cro_number
    into name attribute value attribute_value

),

best_attributes as (

    select
        person_key,
        attribute,
        attribute_value,
        count(*) as records_with_value,
        max(event_at) as last_seen_at

    from attribute_values
    group by person_key, attribute, attribute_value
    qualify row_number() over (
        partition by person_key, attribute
        order by records_with_value desc, last_seen_at desc nulls last, attribute_value
    ) = 1

),

identities as (

    select
        person_key,
        cast(max(attribute_value) filter (where attribute = 'date_of_birth') as date) as date_of_birth,
        max(attribute_value) filter (where attribute = 'sex') as sex,
        max(attribute_value) filter (where attribute = 'ethnicity_self') as ethnicity_self,
        max(attribute_value) filter (where attribute = 'ethnicity_officer') as ethnicity_officer,
        max(attribute_value) filter (where attribute = 'pnc_id') as pnc_id,
        max(attribute_value) filter (where attribute = 'cro_number') as cro_number

    from best_attributes
    group by person_key

),

appearances as (

    select
        person_key,
        count(*) filter (where force_id is not null) as record_count,
        count(distinct force_id) as force_count,
        string_agg(distinct force_id, ';' order by force_id) as forces,
        string_agg(distinct role, ';' order by role) filter (where force_id is not null) as roles,
        string_agg(distinct source_feed, ';' order by source_feed) filter (where force_id is not null) as source_feeds,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        bool_or(source_feed = 'visor') as is_visor_nominal,
        bool_or(source_entity = 'national_nominals') as in_national_nominals,
        string_agg(distinct source_ref, ';' order by source_ref) filter (where source_entity = 'ocg_members') as ocg_refs,
        min(match_probability) as min_match_probability

    from person_records
    group by person_key

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        appearances.person_key,
        best_names.forenames,
        best_names.surname,
        identities.date_of_birth,
        identities.sex,
        identities.ethnicity_self,
        identities.ethnicity_officer,
        identities.pnc_id,
        identities.cro_number,
        appearances.forces,
        appearances.force_count,
        appearances.force_count > 1 as is_cross_force,
        appearances.record_count,
        appearances.roles,
        appearances.source_feeds,
        appearances.first_seen_at,
        appearances.last_seen_at,
        appearances.is_visor_nominal,
        appearances.in_national_nominals,
        appearances.ocg_refs,
        appearances.min_match_probability

    from appearances
    left join best_names using (person_key)
    left join identities using (person_key)

)

select * from final
