-- Every piece of evidence, in the networks window (var networks.window_months), that two resolved
-- people are associated: one row per (pair, edge type, piece of evidence), person_key_a <
-- person_key_b. int_network_edges sums them into weighted edges.
--
--   co_offending             both are suspects in the same crime (evidence: the crime)
--   co_presence              a missing person and the person they were found with (the episode)
--   intelligence_co_subject  both are person subjects of the same intelligence report (the report)
--   shared_phone / shared_vehicle / shared_address
--                            both hold the same object (evidence: the object). A person holds an
--                            object on their own records (a phone or home address on a record of
--                            theirs), or named in at least edges.min_reports_to_hold_object
--                            intelligence reports about them; an object held by more than
--                            edges.max_holders_per_object people is no evidence.
--
-- Central-platform records (national nominals, OCG members) are not evidence of association.

{%- set net = var('networks') %}
{%- set edges = net['edges'] %}
{%- set window_start -%}
    {{ report_period_start() }} - interval {{ net['window_months'] - 1 }} month
{%- endset %}

with

person_records as (

    select * from {{ ref('int_resolved_person_records') }}
    where event_at >= {{ window_start }}
      and event_at < {{ report_period_end() }}

),

objects as (

    select * from {{ ref('int_objects') }}
    where seen_at >= {{ window_start }}
      and seen_at < {{ report_period_end() }}

),

-- people in the same record ----------------------------------------------------------------------
same_record as (

    select
        least(a.person_key, b.person_key) as person_key_a,
        greatest(a.person_key, b.person_key) as person_key_b,
        case
            when a.source_feed = 'crime' then 'co_offending'
            when a.source_feed = 'missing' then 'co_presence'
            else 'intelligence_co_subject'
        end as edge_type,
        a.force_id,
        a.source_feed || ':' || a.source_ref as evidence_ref,
        greatest(a.event_at, b.event_at) as seen_at

    from person_records as a
    inner join person_records as b
        on a.force_id = b.force_id
       and a.source_feed = b.source_feed
       and a.source_entity = b.source_entity
       and a.source_ref = b.source_ref
       and a.person_key < b.person_key
    where (a.source_feed = 'crime' and a.role = 'suspect' and b.role = 'suspect')
       or (a.source_feed = 'intelligence' and a.role = 'intelligence_subject' and b.role = 'intelligence_subject')
       or (a.source_feed = 'missing' and a.role in ('missing_person', 'found_with')
           and b.role in ('missing_person', 'found_with') and a.role <> b.role)

),

-- people holding the same object -----------------------------------------------------------------
own_objects as (

    -- objects on a person's own records (phone, home address); found-with records are the
    -- missing person's account, their address is where the child was found, not a home
    select
        person_records.person_key,
        objects.object_type,
        objects.object_key,
        objects.force_id,
        objects.seen_at
    from objects
    inner join person_records using (record_id)
    where objects.relationship in ('person_phone', 'person_address', 'found_with_phone')

),

report_objects as (

    -- objects named in intelligence reports, with every person subject of the report
    select
        subjects.person_key,
        objects.object_type,
        objects.object_key,
        objects.force_id,
        objects.seen_at,
        objects.source_ref
    from objects
    inner join person_records as subjects
        on subjects.source_feed = 'intelligence'
       and subjects.role = 'intelligence_subject'
       and subjects.force_id = objects.force_id
       and subjects.source_ref = objects.source_ref
    where objects.relationship = 'intelligence_subject'

),

held_in_reports as (

    select person_key, object_type, object_key, min(force_id) as force_id, max(seen_at) as seen_at
    from report_objects
    group by all
    having count(distinct force_id || '|' || source_ref) >= {{ edges['min_reports_to_hold_object'] }}

),

holders as (

    select person_key, object_type, object_key, min(force_id) as force_id, max(seen_at) as seen_at
    from (
        select person_key, object_type, object_key, force_id, seen_at from own_objects
        union all
        select person_key, object_type, object_key, force_id, seen_at from held_in_reports
    )
    group by all

),

usable_objects as (

    select object_type, object_key
    from holders
    group by all
    having count(distinct person_key) between 2 and {{ edges['max_holders_per_object'] }}

),

shared_object as (

    select
        a.person_key as person_key_a,
        b.person_key as person_key_b,
        'shared_' || a.object_type as edge_type,
        a.force_id,
        a.object_type || ':' || a.object_key as evidence_ref,
        greatest(a.seen_at, b.seen_at) as seen_at

    from holders as a
    inner join usable_objects using (object_type, object_key)
    inner join holders as b
        on a.object_type = b.object_type
       and a.object_key = b.object_key
       and a.person_key < b.person_key

),

unioned as (

    select * from same_record
    union all
    select * from shared_object

),

final as (

    -- one row per (pair, type, evidence): a report naming a pair twice is one piece of evidence
    select
        person_key_a,
        person_key_b,
        edge_type,
        evidence_ref,
        min(force_id) as force_id,
        max(seen_at) as seen_at

    from unioned
    group by all

)

select * from final
