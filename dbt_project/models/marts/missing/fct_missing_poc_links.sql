-- The evidence behind every person of concern: one row per link (person of concern, child,
-- evidence type, record, object) in the missing-persons window. Only the links of the persons who
-- meet the persons-of-concern rule (fct_missing_persons_of_concern); the raw links of everyone
-- are int_missing_poc_links.

with

links as (

    select * from {{ ref('int_missing_poc_links') }}

),

persons_of_concern as (

    select distinct person_key as poc_person_key
    from {{ ref('fct_missing_persons_of_concern') }}
    where report_month = {{ report_month_literal() }}

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        links.poc_person_key,
        links.child_person_key,
        links.evidence_type,
        links.force_id,
        links.source_ref,
        links.object_key,
        links.linked_at

    from links
    inner join persons_of_concern using (poc_person_key)

)

select * from final
