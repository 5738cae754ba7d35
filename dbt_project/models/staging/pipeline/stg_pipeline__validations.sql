-- One row per force x feed x entity x extract month validated (months up to the report month):
-- rows read, landed in the lake and quarantined, from each partition's _validation.json.

with

source as (

    {{ lake_source('pipeline', 'validations') }}

),

as_at as (

    select * from source
    where month <= {{ report_month_literal() }}

),

lake_entities as (

    select feed, entity from {{ ref('lake_entities') }}

),

entities as (

    -- every entity of the feed, also when the extract was missing or unreadable (no counts)
    select
        as_at.force_id,
        as_at.feed,
        as_at.month,
        as_at.status,
        as_at.accounting_ok,
        as_at.suite_version,
        as_at.report_path,
        lake_entities.entity,
        cast(json_extract(as_at.rows_read, '$."' || lake_entities.entity || '"') as bigint) as rows_read,
        cast(json_extract(as_at.rows_landed, '$."' || lake_entities.entity || '"') as bigint) as rows_landed,
        cast(json_extract(as_at.rows_quarantined, '$."' || lake_entities.entity || '"') as bigint) as rows_quarantined

    from as_at
    inner join lake_entities
        on lower(trim(as_at.feed)) = lake_entities.feed

),

final as (

    select
        {{ clean_text('force_id') }} as force_id,
        {{ clean_lower_code('feed') }} as feed,
        {{ clean_lower_code('entity') }} as entity,
        month,
        {{ clean_lower_code('status') }} as validation_status,
        coalesce(rows_read, 0) as rows_read,
        coalesce(rows_landed, 0) as rows_landed,
        coalesce(rows_quarantined, 0) as rows_quarantined,
        accounting_ok,
        suite_version,
        report_path

    from entities

)

select * from final
