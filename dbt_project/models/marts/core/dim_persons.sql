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

{#- Only the columns used below: the other sixteen (addresses, phones, file provenance), carried
    into the materialised person records, made that the model's slowest step at 43 forces (74 s
    of 8.6 million records; 150 -> 132 s for the model). -#}
records as (

    select
        record_id, force_id, source_feed, source_entity, source_ref, role, forenames, surname,
        date_of_birth, sex, ethnicity_self, ethnicity_officer, pnc_id, cro_number, event_at
    from {{ ref('int_person_records') }}

),

{#- DuckDB materialises this once for the groupings below, so it holds only what they read: the
    record id goes after the join, the source entity becomes the two flags it is read for. -#}
person_records as (

    select
        clusters.person_key,
        clusters.match_probability,
        records.force_id,
        records.source_feed,
        records.role,
        records.forenames,
        records.surname,
        records.date_of_birth,
        records.sex,
        records.ethnicity_self,
        records.ethnicity_officer,
        records.pnc_id,
        records.cro_number,
        records.event_at,
        records.source_entity = 'national_nominals' as is_national_nominal,
        case when records.source_entity = 'ocg_members' then records.source_ref end as ocg_ref

    from records
    inner join clusters using (record_id)

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

{#- Central-platform records belong to a person's clusters, so they count in the groupings above
    and below; persons with no force record are dropped at the end (record_count = 0) rather
    than by a join before the groupings, which cost a second pass over every record. The
    distinct sorted lists of forces, roles and feeds are kept as bitmasks over a dictionary of
    each (macros/bitmask.sql: a list per person was the model's slowest step). The dictionaries
    come from their own narrow scan and are read as scalar subqueries: built from person_records
    and cross-joined, they ran the S1 build out of its 4 GB beside a concurrent data test. -#}
dictionaries as (

    select
        {{ bitmask_dictionary('force_id', 'force ids') }} as force_values,
        {{ bitmask_dictionary('role', 'roles') }} as role_values,
        {{ bitmask_dictionary('source_feed', 'source feeds') }} as source_feed_values

    from {{ ref('int_person_records') }}

),

appearance_bits as (

    select
        person_records.person_key,
        count(*) filter (where person_records.force_id is not null) as record_count,
        bit_or({{ bitmask_of('(select force_values from dictionaries)', 'person_records.force_id') }})
            filter (where person_records.force_id is not null) as force_bits,
        bit_or({{ bitmask_of('(select role_values from dictionaries)', 'person_records.role') }})
            filter (where person_records.force_id is not null and person_records.role is not null) as role_bits,
        bit_or({{ bitmask_of('(select source_feed_values from dictionaries)', 'person_records.source_feed') }})
            filter (where person_records.force_id is not null and person_records.source_feed is not null) as source_feed_bits,
        min(person_records.event_at) as first_seen_at,
        max(person_records.event_at) as last_seen_at,
        bool_or(person_records.source_feed = 'visor') as is_visor_nominal,
        bool_or(person_records.is_national_nominal) as in_national_nominals,
        list_sort(list_distinct(list(person_records.ocg_ref) filter (where person_records.ocg_ref is not null))) as ocg_ref_list,
        min(person_records.match_probability) as min_match_probability

    from person_records
    group by person_records.person_key

),

appearance_lists as (

    select
        appearance_bits.*,
        {{ values_in_bitmask('(select force_values from dictionaries)', 'appearance_bits.force_bits') }} as force_list,
        {{ values_in_bitmask('(select role_values from dictionaries)', 'appearance_bits.role_bits') }} as role_list,
        {{ values_in_bitmask('(select source_feed_values from dictionaries)', 'appearance_bits.source_feed_bits') }} as source_feed_list

    from appearance_bits
    where appearance_bits.record_count > 0

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
