-- Every piece of evidence in the missing-persons window that links a person to a child who went
-- missing in that window: the raw material of the persons-of-concern rule
-- (fct_missing_persons_of_concern applies it). One row per (person, child, evidence type, record,
-- object).
--
-- Evidence types (profiles/missing_persons.yml):
--   found_with    the child's episode records them as found with the person (the found-with
--                 record resolves to the person)
--   same_phone    a phone on the person's records (their own, or the found-with record of another
--                 episode) is the phone of whoever the child was found with, or a phone named in
--                 an intelligence report about the child
--   same_address  the child was found at the person's home address, at an address named in an
--                 intelligence report about the person, or where the person was found with
--                 another missing child (never the child's own home; never a home shared by more
--                 than max_residents_for_address_link people)
--   intelligence  the person and the child are subjects of the same intelligence report
--   co_offending  the person and the child are suspects in the same crime
--
-- Only adults: the person is adult_min_age or older at the end of the report month, or has no
-- known date of birth (when unknown_age_is_adult), and is not a missing child of the window.

{%- set config_mp = var('missing_persons') %}
{%- set poc = config_mp['persons_of_concern'] %}
{%- set window_start -%}
    {{ report_period_start() }} - interval {{ config_mp['window_months'] - 1 }} month
{%- endset %}

with

episodes as (

    select * from {{ ref('int_missing_episodes') }}

),

child_episodes as (

    select * from episodes
    where is_child and is_in_window and person_key is not null

),

children as (

    select distinct person_key as child_person_key from child_episodes

),

person_records as (

    select * from {{ ref('int_resolved_person_records') }}

),

window_records as (

    select * from person_records
    where event_at >= {{ window_start }}
      and event_at < {{ report_period_end() }}

),

objects as (

    select * from {{ ref('int_objects') }}

),

persons as (

    select person_key, date_of_birth
    from {{ ref('dim_persons') }}
    where report_month = {{ report_month_literal() }}

),

-- found_with: the person the child was found with -----------------------------------------------
found_with as (

    select
        found_with_person_key as poc_person_key,
        person_key as child_person_key,
        'found_with' as evidence_type,
        force_id,
        episode_ref as source_ref,
        cast(null as varchar) as object_key,
        coalesce(returned_at, went_missing_at) as linked_at

    from child_episodes
    where found_with_person_key is not null

),

-- same_phone ------------------------------------------------------------------------------------
phone_holders as (

    -- a phone on one of the person's own records, or on the found-with record of another
    -- episode (the person found with one child used the phone another child was found with)
    select distinct
        person_key,
        phone as object_key,
        case when role = 'found_with' then force_id || '|' || source_ref end as found_with_episode
    from person_records
    where phone is not null

),

child_phones as (

    select
        person_key as child_person_key,
        force_id,
        episode_ref as source_ref,
        found_with_phone as object_key,
        coalesce(returned_at, went_missing_at) as linked_at
    from child_episodes
    where found_with_phone is not null

    union all

    select
        subjects.person_key as child_person_key,
        subjects.force_id,
        subjects.source_ref,
        objects.object_key,
        subjects.event_at as linked_at
    from window_records as subjects
    inner join children on children.child_person_key = subjects.person_key
    inner join objects
        on objects.source_feed = 'intelligence'
       and objects.object_type = 'phone'
       and objects.force_id = subjects.force_id
       and objects.source_ref = subjects.source_ref
    where subjects.role = 'intelligence_subject'

),

same_phone as (

    select distinct
        phone_holders.person_key as poc_person_key,
        child_phones.child_person_key,
        'same_phone' as evidence_type,
        child_phones.force_id,
        child_phones.source_ref,
        child_phones.object_key,
        child_phones.linked_at

    from child_phones
    inner join phone_holders using (object_key)
    -- not the found-with record of the same episode: that is the found_with evidence itself
    where phone_holders.found_with_episode is distinct from child_phones.force_id || '|' || child_phones.source_ref

),

-- same_address ----------------------------------------------------------------------------------
home_addresses as (

    select distinct person_key, address_key as object_key
    from person_records
    where address_key is not null and role <> 'found_with'

),

crowded_addresses as (

    select object_key
    from home_addresses
    group by object_key
    having count(distinct person_key) > {{ poc['max_residents_for_address_link'] }}

),

intelligence_addresses as (

    -- an address named in an intelligence report, held by every person subject of the report
    select distinct subjects.person_key, objects.object_key
    from window_records as subjects
    inner join objects
        on objects.source_feed = 'intelligence'
       and objects.object_type = 'address'
       and objects.force_id = subjects.force_id
       and objects.source_ref = subjects.source_ref
    where subjects.role = 'intelligence_subject'

),

address_holders as (

    select person_key, object_key, cast(null as varchar) as found_with_episode
    from home_addresses
    where object_key not in (select object_key from crowded_addresses)

    union

    select person_key, object_key, null
    from intelligence_addresses

    union

    -- where the person was found with another missing child
    select found_with_person_key, found_address_key, force_id || '|' || episode_ref
    from child_episodes
    where found_with_person_key is not null and found_address_key is not null

),

same_address as (

    select distinct
        address_holders.person_key as poc_person_key,
        child_episodes.person_key as child_person_key,
        'same_address' as evidence_type,
        child_episodes.force_id,
        child_episodes.episode_ref as source_ref,
        child_episodes.found_address_key as object_key,
        coalesce(child_episodes.returned_at, child_episodes.went_missing_at) as linked_at

    from child_episodes
    inner join address_holders on address_holders.object_key = child_episodes.found_address_key
    where not child_episodes.is_found_at_home
      and address_holders.found_with_episode is distinct from child_episodes.force_id || '|' || child_episodes.episode_ref

),

-- intelligence and co-offending: subjects or suspects of the same record -------------------------
shared_records as (

    select
        other.person_key as poc_person_key,
        child.person_key as child_person_key,
        case child.role when 'intelligence_subject' then 'intelligence' else 'co_offending' end as evidence_type,
        child.force_id,
        child.source_ref,
        cast(null as varchar) as object_key,
        child.event_at as linked_at

    from window_records as child
    inner join children on children.child_person_key = child.person_key
    inner join window_records as other
        on other.force_id = child.force_id
       and other.source_feed = child.source_feed
       and other.source_ref = child.source_ref
       and other.role = child.role
    where child.role in ('intelligence_subject', 'suspect')

),

unioned as (

    select * from found_with
    union all
    select * from same_phone
    union all
    select * from same_address
    union all
    select * from shared_records

),

adults as (

    select distinct unioned.poc_person_key
    from unioned
    left join persons on persons.person_key = unioned.poc_person_key
    left join children on children.child_person_key = unioned.poc_person_key
    where children.child_person_key is null
      and (
          date_part('year', age(cast({{ report_period_end() }} - interval 1 day as date), persons.date_of_birth))
              >= {{ poc['adult_min_age'] }}
          {%- if poc['unknown_age_is_adult'] %}
          or persons.date_of_birth is null
          {%- endif %}
      )

),

final as (

    select distinct unioned.*
    from unioned
    inner join adults using (poc_person_key)
    where unioned.poc_person_key <> unioned.child_person_key

)

select * from final
