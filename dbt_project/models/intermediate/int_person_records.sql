-- One row per person as a record holds them (POLE "P"), from every person-bearing entity, in one
-- shape: the input to person resolution (Splink, or the exact-match baseline; see
-- src/forceprofiles/warehouse.py), which maps every record_id to a person_key.
--
-- record_id is readable and stable from month to month: '<feed>.<entity>|<force>|<record key>'
-- (plus the role where one record holds two people). Central-platform records (national
-- nominals, OCG members) are included with force_id null, so that resolution can link force
-- records to national identities and OCG membership.

with

involvements as (

    select * from {{ ref('stg_crime__involvements') }}

),

occurrences as (

    select force_id, crime_ref, committed_at from {{ ref('stg_crime__occurrences') }}

),

subjects as (

    select * from {{ ref('stg_intelligence__subjects') }}
    where subject_type = 'person'

),

reports as (

    select force_id, intel_ref, created_at from {{ ref('stg_intelligence__reports') }}

),

custody as (

    select * from {{ ref('stg_custody__records') }}

),

episodes as (

    select * from {{ ref('stg_missing__episodes') }}

),

nominals as (

    select * from {{ ref('stg_visor__nominals') }}

),

national_nominals as (

    select * from {{ ref('stg_central__national_nominals') }}

),

ocg_members as (

    select * from {{ ref('stg_central__ocg_members') }}

),

crime_people as (

    select
        'crime.involvements|' || involvements.force_id || '|' || involvements.crime_ref || '|'
            || involvements.role || '|' || involvements.person_ref as record_id,
        involvements.force_id,
        'crime' as source_feed,
        'involvements' as source_entity,
        involvements.crime_ref as source_ref,
        involvements.role,
        involvements.* exclude (force_id, crime_ref, role),
        occurrences.committed_at as event_at

    from involvements
    left join occurrences using (force_id, crime_ref)

),

intelligence_people as (

    select
        'intelligence.subjects|' || subjects.force_id || '|' || subjects.intel_ref || '|'
            || subjects.person_ref as record_id,
        subjects.force_id,
        'intelligence' as source_feed,
        'subjects' as source_entity,
        subjects.intel_ref as source_ref,
        'intelligence_subject' as role,
        subjects.* exclude (force_id, intel_ref, subject_type, value, value_key),
        reports.created_at as event_at

    from subjects
    left join reports using (force_id, intel_ref)

),

custody_people as (

    select
        'custody.records|' || force_id || '|' || custody_ref as record_id,
        force_id,
        'custody' as source_feed,
        'records' as source_entity,
        custody_ref as source_ref,
        'arrested' as role,
        {{ person_columns() }},
        updated_at,
        source_month,
        first_source_month,
        source_file,
        source_row,
        arrested_at as event_at

    from custody

),

missing_people as (

    select
        'missing.episodes|' || force_id || '|' || episode_ref || '|missing_person' as record_id,
        force_id,
        'missing' as source_feed,
        'episodes' as source_entity,
        episode_ref as source_ref,
        'missing_person' as role,
        {{ person_columns() }},
        updated_at,
        source_month,
        first_source_month,
        source_file,
        source_row,
        went_missing_at as event_at

    from episodes

),

found_with_people as (

    -- the person a missing person was found with: a name, perhaps a date of birth and a phone
    select
        'missing.episodes|' || force_id || '|' || episode_ref || '|found_with' as record_id,
        force_id,
        'missing' as source_feed,
        'episodes' as source_entity,
        episode_ref as source_ref,
        'found_with' as role,
        cast(null as varchar) as person_ref,
        found_with_forenames as forenames,
        found_with_surname as surname,
        found_with_date_of_birth as date_of_birth,
        found_with_phone as phone,
        found_address as address,
        found_postcode as postcode,
        'absent' as pnc_id_status,
        'absent' as cro_number_status,
        updated_at,
        source_month,
        first_source_month,
        source_file,
        source_row,
        coalesce(returned_at, went_missing_at) as event_at

    from episodes
    where found_with_surname is not null
       or found_with_forenames is not null

),

visor_people as (

    select
        'visor.nominals|' || force_id || '|' || visor_ref as record_id,
        force_id,
        'visor' as source_feed,
        'nominals' as source_entity,
        visor_ref as source_ref,
        'visor_nominal' as role,
        {{ person_columns() }},
        updated_at,
        source_month,
        first_source_month,
        source_file,
        source_row,
        cast(registered_on as timestamp) as event_at

    from nominals

),

national_people as (

    select
        'central.national_nominals||' || nominal_ref as record_id,
        cast(null as varchar) as force_id,
        'central' as source_feed,
        'national_nominals' as source_entity,
        nominal_ref as source_ref,
        'national_nominal' as role,
        nominal_ref as person_ref,
        forenames,
        surname,
        date_of_birth,
        sex,
        ethnicity_self,
        pnc_id,
        pnc_id_recorded,
        pnc_id_status,
        cro_number,
        cro_number_status,
        last_known_postcode as postcode

    from national_nominals

),

ocg_people as (

    select
        'central.ocg_members||' || ocg_member_id as record_id,
        cast(null as varchar) as force_id,
        'central' as source_feed,
        'ocg_members' as source_entity,
        ocg_ref as source_ref,
        'ocg_member' as role,
        forenames,
        surname,
        date_of_birth,
        pnc_id,
        pnc_id_recorded,
        pnc_id_status,
        'absent' as cro_number_status

    from ocg_members

),

unioned as (

    select * from crime_people
    union all by name
    select * from intelligence_people
    union all by name
    select * from custody_people
    union all by name
    select * from missing_people
    union all by name
    select * from found_with_people
    union all by name
    select * from visor_people
    union all by name
    select * from national_people
    union all by name
    select * from ocg_people

),

final as (

    select
        record_id,
        force_id,
        source_feed,
        source_entity,
        source_ref,
        person_ref,
        role,
        forenames,
        surname,
        split_part({{ standard_name('forenames') }}, ' ', 1) as forename_std,
        {{ standard_name('forenames') }} as forenames_std,
        {{ standard_name('surname') }} as surname_std,
        date_of_birth,
        sex,
        ethnicity_self,
        ethnicity_officer,
        pnc_id,
        pnc_id_recorded,
        pnc_id_status,
        cro_number,
        cro_number_status,
        address,
        {{ address_key('address') }} as address_key,
        postcode,
        phone,
        event_at,
        updated_at,
        source_month,
        first_source_month,
        source_file,
        source_row

    from unioned

)

select * from final
