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

{#- Only the columns used below: the records are materialised once for the eight groupings, and
    the other sixteen columns (addresses, phones, file provenance) made that the model's slowest
    step at 43 forces (74 s of 8.6 million records; 150 -> 132 s for the model). -#}
records as (

    select
        record_id, force_id, source_feed, source_entity, source_ref, role, forenames, surname,
        date_of_birth, sex, ethnicity_self, ethnicity_officer, pnc_id, cro_number, event_at
    from {{ ref('int_person_records') }}

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

{#- Each attribute is chosen in its own grouping of (person, value). One unpivot of all six
    into a long table grouped by (person, attribute, value) gave the same rows but was the
    slowest model of the S1 build (about 90 s of 7 million records): six narrow groupings
    skip the long table and its nulls. -#}
{%- set attributes = ['date_of_birth', 'sex', 'ethnicity_self', 'ethnicity_officer', 'pnc_id', 'cro_number'] %}
{%- for attribute in attributes %}

best_{{ attribute }} as (

    select person_key, {{ attribute }}
    from (
        select
            person_key,
            {{ attribute }},
            count(*) as records_with_value,
            max(event_at) as last_seen_at

        from person_records
        where {{ attribute }} is not null
        group by person_key, {{ attribute }}
    )
    qualify row_number() over (
        partition by person_key
        order by records_with_value desc, last_seen_at desc nulls last, {{ attribute }}
    ) = 1

),
{%- endfor %}

{#- The distinct, sorted lists are built as lists and joined once: string_agg(distinct ...
    order by ...) sorts within every group and took twice as long on 7 million records. -#}
appearance_lists as (

    select
        person_key,
        count(*) filter (where force_id is not null) as record_count,
        list_sort(list_distinct(list(force_id))) as force_list,
        list_sort(list_distinct(list(role) filter (where force_id is not null))) as role_list,
        list_sort(list_distinct(list(source_feed) filter (where force_id is not null))) as source_feed_list,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        bool_or(source_feed = 'visor') as is_visor_nominal,
        bool_or(source_entity = 'national_nominals') as in_national_nominals,
        list_sort(list_distinct(list(source_ref) filter (where source_entity = 'ocg_members'))) as ocg_ref_list,
        min(match_probability) as min_match_probability

    from person_records
    group by person_key

),

appearances as (

    select
        person_key,
        record_count,
        len(force_list) as force_count,
        nullif(array_to_string(force_list, ';'), '') as forces,
        nullif(array_to_string(role_list, ';'), '') as roles,
        nullif(array_to_string(source_feed_list, ';'), '') as source_feeds,
        first_seen_at,
        last_seen_at,
        is_visor_nominal,
        in_national_nominals,
        nullif(array_to_string(ocg_ref_list, ';'), '') as ocg_refs,
        min_match_probability

    from appearance_lists

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        appearances.person_key,
        best_names.forenames,
        best_names.surname,
        best_date_of_birth.date_of_birth,
        best_sex.sex,
        best_ethnicity_self.ethnicity_self,
        best_ethnicity_officer.ethnicity_officer,
        best_pnc_id.pnc_id,
        best_cro_number.cro_number,
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
{%- for attribute in attributes %}
    left join best_{{ attribute }} using (person_key)
{%- endfor %}

)

select * from final
