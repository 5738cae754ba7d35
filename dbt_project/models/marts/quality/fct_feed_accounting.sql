-- Row accounting per force, feed, entity and extract month (every month up to the report month):
-- rows read from the force's extract, landed in the lake, quarantined, and whether they add up;
-- with the validation status and the run's decision for the force. One row set per report_month.
--
-- The expected partitions are every force a month's run covered x every lake entity, so a
-- partition that was never validated (its extract crashed) shows as 'not_validated' instead of
-- silently missing. Feeds validated outside a run manifest are included too.

with

validations as (

    select * from {{ ref('stg_pipeline__validations') }}

),

runs as (

    select * from {{ ref('stg_pipeline__run_manifests') }}

),

lake_entities as (

    select feed, entity from {{ ref('lake_entities') }}

),

expected as (

    select runs.force_id, lake_entities.feed, lake_entities.entity, runs.month
    from runs
    cross join lake_entities

    union

    select force_id, feed, entity, month
    from validations

),

joined as (

    select
        expected.force_id,
        expected.feed,
        expected.entity,
        expected.month,
        coalesce(validations.validation_status, 'not_validated') as validation_status,
        coalesce(validations.rows_read, 0) as rows_read,
        coalesce(validations.rows_landed, 0) as rows_landed,
        coalesce(validations.rows_quarantined, 0) as rows_quarantined,
        validations.suite_version,
        validations.report_path,
        runs.force_decision,
        coalesce(runs.is_held, false) as is_force_held

    from expected
    left join validations using (force_id, feed, entity, month)
    left join runs using (force_id, month)

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        force_id,
        feed,
        entity,
        month,
        validation_status,
        rows_read,
        rows_landed,
        rows_quarantined,
        rows_read = rows_landed + rows_quarantined as is_accounted,
        suite_version,
        report_path,
        force_decision,
        is_force_held

    from joined

)

select * from final
