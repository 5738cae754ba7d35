-- One row per (report_month, force_id, person_key, item_id) for every subject of
-- fct_vawg_subjects: the records behind the score, each with the points it carries, so that a
-- subject's card sums to the score (to rounding).
--
-- How the points are shared out over the items:
--   offence       frequency points equally over the offences; gravity points in proportion to
--                 harm days (equally when none has harm); recency points to the latest offence;
--                 victims points equally over the distinct victims, each share on the first
--                 offence against that victim.
--   pattern       the serial-perpetrator, escalation and cross-force uplifts (one item each).
--   intelligence  each report's graded points, scaled down together when the cap applies.
--   visor         the ViSOR status points (the nominal worth most).
--   order         each civil order's points, scaled down together when the cap applies.
-- A cross-force subject's card shows his records in every force (item_force_id).

{%- set cfg = var('vawg') %}
{%- set orders = cfg['civil_orders'] %}

with

subjects as (

    select * from {{ ref('fct_vawg_subjects') }}
    where report_month = {{ report_month_literal() }}

),

people as (

    select distinct on (person_key) * from subjects

),

subject_offences as (

    select * from {{ ref('int_vawg_subject_offences') }}

),

subject_victims as (

    select * from {{ ref('int_vawg_subject_victims') }}

),

intelligence as (

    select * from {{ ref('int_vawg_intelligence') }}

),

visor as (

    select * from {{ ref('int_vawg_visor') }}

),

first_against_victim as (

    -- each distinct victim's share of the victims points goes to the first offence against them
    select person_key, event_id, count(*) as new_victims
    from subject_victims
    where is_first_against_victim
    group by person_key, event_id

),

offence_items as (

    select
        subject_offences.person_key,
        'offence|' || subject_offences.event_id as item_id,
        'offence' as item_type,
        subject_offences.offence_at as item_at,
        subject_offences.force_id as item_force_id,
        subject_offences.source_ref,
        subject_offences.ho_code,
        coalesce(subject_offences.offence_description, 'VAWG ' || subject_offences.event_type) as description,
        subject_offences.harm_days,
        subject_offences.victim_count,
        cast(null as varchar) as grading,
        people.frequency_points / people.offence_count as frequency_share,
        case
            when people.harm_days > 0
                then people.gravity_points * subject_offences.harm_days / people.harm_days
            else people.gravity_points / people.offence_count
        end as gravity_share,
        case
            when row_number() over (
                partition by subject_offences.person_key
                order by subject_offences.offence_at desc, subject_offences.event_id desc) = 1
                then people.recency_points
            else 0
        end as recency_share,
        case
            when people.victim_count = 0 then people.victims_points / people.offence_count
            else people.victims_points * coalesce(first_against_victim.new_victims, 0) / people.victim_count
        end as victims_share,
        subject_offences.event_type

    from subject_offences
    inner join people using (person_key)
    left join first_against_victim using (person_key, event_id)

),

offence_cards as (

    select
        person_key, item_id, item_type, item_at, item_force_id, source_ref, ho_code, description,
        harm_days, victim_count, grading,
        recency_share + frequency_share + gravity_share + victims_share as points,
        concat_ws('; ',
            replace(event_type, '_', ' ') || ' recorded by ' || item_force_id,
            'frequency ' || round(frequency_share, 2),
            'gravity ' || round(gravity_share, 2) || ' (' || round(harm_days, 2) || ' harm days)',
            case when recency_share > 0 then 'recency ' || round(recency_share, 2) || ' (latest offence)' end,
            case when victims_share > 0 then 'victims ' || round(victims_share, 2) end
        ) as detail

    from offence_items

),

pattern_cards as (

    select person_key, 'pattern|serial' as item_id, 'pattern' as item_type, last_offence_at as item_at,
           cast(null as varchar) as item_force_id, cast(null as varchar) as source_ref, cast(null as varchar) as ho_code,
           'Serial perpetrator' as description, harm_days, victim_count, cast(null as varchar) as grading,
           cast(serial_points as double) as points,
           offence_count || ' occurrences against ' || victim_count || ' victims in the window (MATAC: {{ cfg['serial_perpetrator']['min_occurrences'] }}+ occurrences, {{ cfg['serial_perpetrator']['min_victims'] }}+ victims, aged {{ cfg['serial_perpetrator']['min_age'] }}+, {{ cfg['serial_perpetrator']['within_months'] }} months)' as detail
    from people where is_serial_perpetrator

    union all

    select person_key, 'pattern|escalation', 'pattern', last_offence_at, null, null, null,
           'Escalating', null, null, null, cast(escalation_points as double),
           concat_ws(' and ', case when is_harm_rising then 'harm rising' end,
                     case when is_gaps_shortening then 'gaps between offences shortening' end)
           || ' over the last {{ cfg['escalation']['last_n_offences'] }} offences'
    from people where is_escalating

    union all

    select person_key, 'pattern|cross_force', 'pattern', last_offence_at, null, null, null,
           'Offends in more than one force', null, null, null, cast(cross_force_points as double),
           'VAWG offences recorded by ' || replace(forces_offended, ';', ', ')
    from people where is_cross_force

),

intelligence_totals as (

    select person_key, sum(raw_points) as raw_total from intelligence group by person_key

),

intelligence_cards as (

    select
        intelligence.person_key,
        'intelligence|' || intelligence.report_id as item_id,
        'intelligence' as item_type,
        intelligence.created_at as item_at,
        intelligence.force_id as item_force_id,
        intelligence.intel_ref as source_ref,
        cast(null as varchar) as ho_code,
        'Intelligence report (' || intelligence.grading_scheme || ')' as description,
        cast(null as double) as harm_days,
        cast(null as bigint) as victim_count,
        intelligence.grade as grading,
        case when intelligence_totals.raw_total > 0
            then people.intel_points * intelligence.raw_points / intelligence_totals.raw_total
            else 0 end as points,
        'graded ' || intelligence.grade || ', weight ' || round(intelligence.weight, 2) as detail

    from intelligence
    inner join people using (person_key)
    inner join intelligence_totals using (person_key)

),

visor_cards as (

    select
        visor.person_key,
        'visor|' || visor.visor_record_id as item_id,
        'visor' as item_type,
        cast(null as timestamp) as item_at,
        visor.visor_force_id as item_force_id,
        visor.visor_ref as source_ref,
        cast(null as varchar) as ho_code,
        'ViSOR nominal: ' || visor.visor_status as description,
        cast(null as double) as harm_days,
        cast(null as bigint) as victim_count,
        cast(null as varchar) as grading,
        cast(visor.visor_points as double) as points,
        'managed by ' || visor.visor_force_id as detail

    from visor
    inner join people using (person_key)

),

orders as (

    select
        people.person_key,
        people.civil_order_points,
        trim(order_type) as order_type,
        case trim(order_type)
            {%- for key, points in orders['order_points'].items() %}
            when '{{ key }}' then {{ points }}
            {%- endfor %}
            else {{ orders['other_order_points'] }} end as raw_points

    from people, unnest(string_split(people.civil_orders, ';')) as split(order_type)
    where people.civil_orders is not null

),

order_cards as (

    select
        person_key,
        'order|' || order_type as item_id,
        'order' as item_type,
        cast(null as timestamp) as item_at,
        cast(null as varchar) as item_force_id,
        cast(null as varchar) as source_ref,
        cast(null as varchar) as ho_code,
        'Civil order: ' || order_type as description,
        cast(null as double) as harm_days,
        cast(null as bigint) as victim_count,
        cast(null as varchar) as grading,
        civil_order_points * raw_points / sum(raw_points) over (partition by person_key) as points,
        'held on ViSOR' as detail

    from orders

),

items as (

    select * from offence_cards
    union all by name
    select * from pattern_cards
    union all by name
    select * from intelligence_cards
    union all by name
    select * from visor_cards
    union all by name
    select * from order_cards

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        subjects.force_id,
        subjects.person_key,
        items.item_id,
        items.item_type,
        items.item_at,
        items.item_force_id,
        items.source_ref,
        items.ho_code,
        items.description,
        items.harm_days,
        items.victim_count,
        items.grading,
        cast(items.points as double) as points,
        items.detail

    from subjects
    inner join items using (person_key)

)

select * from final
