-- One row per VAWG occurrence (crime or non-crime incident) held as at the report month, in any
-- force: when it happened and was recorded, what offence, how harmful, which VAWG strand, and how
-- many months before the report month it was recorded. The base of every VAWG mart.
--
-- In scope: int_events rows with is_vawg (seeds/vawg_scope.csv codes, plus occurrences flagged
-- domestic abuse) whose event_type is in var('vawg').scope.event_types. offence_at is the
-- committed time, else the recorded time (recency and escalation run on it); windows run on the
-- recorded time (what the force had recorded by then).

{%- set cfg = var('vawg') %}

with

events as (

    select * from {{ ref('int_events') }}

),

offences as (

    select ho_code, description from {{ ref('int_offences') }}

),

in_scope as (

    select *
    from events
    where is_vawg
      and event_type in ({% for t in cfg['scope']['event_types'] %}'{{ t }}'{% if not loop.last %}, {% endif %}{% endfor %})
      and recorded_at < {{ report_period_end() }}

),

final as (

    select
        in_scope.event_id,
        in_scope.event_type,
        in_scope.force_id,
        in_scope.source_ref,
        in_scope.ho_code,
        offences.description as offence_description,
        in_scope.offence_subgroup,
        in_scope.vawg_strand,
        in_scope.is_domestic_abuse,
        coalesce(in_scope.event_at, in_scope.recorded_at) as offence_at,
        in_scope.recorded_at,
        in_scope.recorded_month,
        -- whole calendar months from the month recorded to the report month (0 = this month)
        date_diff('month', date_trunc('month', in_scope.recorded_at), {{ report_period_start() }}) as recorded_months_ago,
        date_diff('month', date_trunc('month', coalesce(in_scope.event_at, in_scope.recorded_at)), {{ report_period_start() }}) as offence_months_ago,
        in_scope.lsoa11cd,
        coalesce(in_scope.harm_days, 0) as harm_days,
        in_scope.status

    from in_scope
    left join offences using (ho_code)

)

select * from final
