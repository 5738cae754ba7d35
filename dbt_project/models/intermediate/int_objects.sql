-- One row per appearance of an object (POLE "O": a phone, a vehicle, an address) in a record, as
-- at the report month. object_key is the normalised value that links appearances across records,
-- feeds and forces (phone digits, registration mark, address line key); record_id is the person
-- record the object belongs to, where it belongs to one.

with

person_records as (

    select * from {{ ref('int_person_records') }}
    where source_feed <> 'central'

),

subjects as (

    select * from {{ ref('stg_intelligence__subjects') }}
    where subject_type in ('phone', 'vehicle', 'address')

),

reports as (

    select force_id, intel_ref, created_at from {{ ref('stg_intelligence__reports') }}

),

episodes as (

    select * from {{ ref('stg_missing__episodes') }}

),

person_phones as (

    select
        'phone' as object_type,
        phone as object_key,
        phone as object_value,
        cast(null as varchar) as postcode,
        case when role = 'found_with' then 'found_with_phone' else 'person_phone' end as relationship,
        force_id,
        source_feed,
        source_entity,
        source_ref,
        record_id,
        event_at as seen_at

    from person_records
    where phone is not null

),

person_addresses as (

    select
        'address' as object_type,
        address_key as object_key,
        address as object_value,
        postcode,
        case when role = 'found_with' then 'found_address' else 'person_address' end as relationship,
        force_id,
        source_feed,
        source_entity,
        source_ref,
        record_id,
        event_at as seen_at

    from person_records
    where address_key is not null

),

intelligence_objects as (

    select
        subjects.subject_type as object_type,
        subjects.value_key as object_key,
        subjects.value as object_value,
        cast(null as varchar) as postcode,
        'intelligence_subject' as relationship,
        subjects.force_id,
        'intelligence' as source_feed,
        'subjects' as source_entity,
        subjects.intel_ref as source_ref,
        cast(null as varchar) as record_id,
        reports.created_at as seen_at

    from subjects
    left join reports using (force_id, intel_ref)
    where subjects.value_key is not null
    -- two values of one report that normalise to the same key are one appearance. Only here:
    -- the other appearances are one per person record or per episode, so they are unique by
    -- construction, and deduplicating every appearance was most of this model's time (the
    -- unique test on appearance_id still checks all of them)
    qualify row_number() over (
        partition by subjects.force_id, subjects.intel_ref, subjects.subject_type, subjects.value_key
        order by subjects.value
    ) = 1

),

found_addresses as (

    -- where a missing person was found, when nobody was recorded as found with them (otherwise
    -- the found_with person's record carries the address, above)
    select
        'address' as object_type,
        {{ address_key('found_address') }} as object_key,
        found_address as object_value,
        found_postcode as postcode,
        'found_address' as relationship,
        force_id,
        'missing' as source_feed,
        'episodes' as source_entity,
        episode_ref as source_ref,
        cast(null as varchar) as record_id,
        coalesce(returned_at, went_missing_at) as seen_at

    from episodes
    where found_address is not null
      and found_with_surname is null
      and found_with_forenames is null

),

unioned as (

    select * from person_phones
    union all
    select * from person_addresses
    union all
    select * from intelligence_objects
    union all
    select * from found_addresses

),

final as (

    select
        object_type || ':' || object_key as object_id,
        object_type || '|' || source_feed || '.' || source_entity || '|' || force_id || '|' || source_ref
            || '|' || relationship || '|' || coalesce(record_id, object_key) as appearance_id,
        *

    from unioned

)

select * from final
