-- One row per VAWG subject (resolved person who is a suspect in at least one VAWG occurrence in
-- the scoring window, any force): the RFGV score and its components, computed over every force's
-- records (so offending across a border counts). All weights, bands and windows come from
-- var('vawg') (profiles/vawg.yml).
--
--   score = recency_points + frequency_points + gravity_points + victims_points + uplift_points
--   uplift_points = serial_points + escalation_points + cross_force_points + visor_points
--                   + civil_order_points + intel_points
--
-- Serial perpetrator (MATAC): at least serial_perpetrator.min_occurrences occurrences against at
-- least min_victims distinct victims, counting only occurrences where counts_for_serial.
-- Escalating: over the last escalation.last_n_offences offences in time order, harm rising
-- (each >= the previous, last > first) or gaps shortening (each gap <= the previous, last < first).

{%- set cfg = var('vawg') %}
{%- set esc = cfg['escalation'] %}
{%- set serial = cfg['serial_perpetrator'] %}

with

subject_offences as (

    select * from {{ ref('int_vawg_subject_offences') }}

),

subject_victims as (

    select distinct person_key, victim_key, counts_for_serial
    from {{ ref('int_vawg_subject_victims') }}

),

visor as (

    select * from {{ ref('int_vawg_visor') }}

),

intelligence as (

    select * from {{ ref('int_vawg_intelligence') }}

),

victim_totals as (

    select
        person_key,
        count(distinct victim_key) as victim_count,
        count(distinct victim_key) filter (where counts_for_serial) as serial_victim_count

    from subject_victims
    group by person_key

),

offence_totals as (

    select
        person_key,
        count(*) as offence_count,
        count(*) filter (where counts_for_serial) as serial_offence_count,
        sum(harm_days) as harm_days,
        min(offence_at) as first_offence_at,
        max(offence_at) as last_offence_at,
        min(offence_months_ago) as months_since_last_offence,
        count(distinct force_id) as force_count,
        string_agg(distinct force_id, ';' order by force_id) as forces_offended

    from subject_offences
    group by person_key

),

last_offences as (

    -- the last N offences, numbered oldest first, with the previous offence's harm and gap
    select
        person_key,
        offence_at,
        harm_days,
        lag(harm_days) over (partition by person_key order by offence_at, event_id) as previous_harm_days,
        date_diff('day', lag(offence_at) over (partition by person_key order by offence_at, event_id), offence_at) as gap_days

    from subject_offences
    qualify row_number() over (partition by person_key order by offence_at desc, event_id desc) <= {{ esc['last_n_offences'] }}

),

last_gaps as (

    select
        *,
        lag(gap_days) over (partition by person_key order by offence_at) as previous_gap_days,
        row_number() over (partition by person_key order by offence_at) as position

    from last_offences

),

escalation as (

    select
        person_key,
        count(*) = {{ esc['last_n_offences'] }}
            and bool_and(previous_harm_days is null or harm_days >= previous_harm_days)
            and max(harm_days) filter (where position = {{ esc['last_n_offences'] }})
                > max(harm_days) filter (where position = 1)
            as is_harm_rising,
        count(*) = {{ esc['last_n_offences'] }}
            and {{ esc['last_n_offences'] }} >= 3
            and bool_and(previous_gap_days is null or gap_days <= previous_gap_days)
            and max(gap_days) filter (where position = {{ esc['last_n_offences'] }})
                < max(gap_days) filter (where position = 2)
            as is_gaps_shortening

    from last_gaps
    group by person_key

),

intelligence_totals as (

    select
        person_key,
        count(*) as intel_report_count,
        sum(raw_points) as intel_raw_points

    from intelligence
    group by person_key

),

best_intelligence as (

    -- the best-weighted report's grading (ties: the most recent, then the report id)
    select person_key, grade as best_intel_grading
    from intelligence
    where weight > 0
    qualify row_number() over (
        partition by person_key order by weight desc, created_at desc, report_id
    ) = 1

),

points as (

    select
        offence_totals.*,
        coalesce(victim_totals.victim_count, 0) as victim_count,
        coalesce(victim_totals.serial_victim_count, 0) as serial_victim_count,
        offence_totals.serial_offence_count >= {{ serial['min_occurrences'] }}
            and coalesce(victim_totals.serial_victim_count, 0) >= {{ serial['min_victims'] }}
            as is_serial_perpetrator,
        coalesce({{ 'escalation.is_harm_rising' if esc['harm_rising'] else 'false' }}, false) as is_harm_rising,
        coalesce({{ 'escalation.is_gaps_shortening' if esc['gaps_shortening'] else 'false' }}, false) as is_gaps_shortening,
        offence_totals.force_count > 1 as is_cross_force,

        case
            {%- for band in cfg['recency']['bands'] %}
            when offence_totals.months_since_last_offence <= {{ band['max_months_ago'] }} then {{ band['points'] }}
            {%- endfor %}
            else 0
        end as recency_points,
        case
            {%- for band in cfg['frequency']['bands'] %}
            when offence_totals.offence_count >= {{ band['min_offences'] }} then {{ band['points'] }}
            {%- endfor %}
            else 0
        end as frequency_points,
        case
            {%- for band in cfg['gravity']['bands'] %}
            when offence_totals.harm_days >= {{ band['min_harm_days'] }} then {{ band['points'] }}
            {%- endfor %}
            else 0
        end as gravity_points,
        case
            {%- for band in cfg['victims']['bands'] %}
            when coalesce(victim_totals.victim_count, 0) >= {{ band['min_victims'] }} then {{ band['points'] }}
            {%- endfor %}
            else 0
        end as victims_points,

        visor.visor_status,
        visor.civil_orders,
        coalesce(visor.visor_points, 0) as visor_points,
        coalesce(visor.civil_order_points, 0) as civil_order_points,
        coalesce(intelligence_totals.intel_report_count, 0) as intel_report_count,
        best_intelligence.best_intel_grading,
        round(least({{ cfg['intelligence']['max_points'] }}, coalesce(intelligence_totals.intel_raw_points, 0)), 2) as intel_points

    from offence_totals
    left join victim_totals using (person_key)
    left join escalation using (person_key)
    left join visor using (person_key)
    left join intelligence_totals using (person_key)
    left join best_intelligence using (person_key)

),

uplifts as (

    select
        *,
        is_harm_rising or is_gaps_shortening as is_escalating,
        case when is_serial_perpetrator then {{ serial['points'] }} else 0 end as serial_points,
        case when is_harm_rising or is_gaps_shortening then {{ esc['points'] }} else 0 end as escalation_points,
        case when is_cross_force then {{ cfg['cross_force']['points'] }} else 0 end as cross_force_points

    from points

),

final as (

    select
        person_key,
        offence_count,
        victim_count,
        harm_days,
        first_offence_at,
        last_offence_at,
        months_since_last_offence,
        forces_offended,
        force_count,
        is_cross_force,
        serial_offence_count,
        serial_victim_count,
        is_serial_perpetrator,
        is_harm_rising,
        is_gaps_shortening,
        is_escalating,
        visor_status,
        civil_orders,
        intel_report_count,
        best_intel_grading,
        recency_points,
        frequency_points,
        gravity_points,
        victims_points,
        serial_points,
        escalation_points,
        cross_force_points,
        visor_points,
        civil_order_points,
        intel_points,
        cast(serial_points + escalation_points + cross_force_points + visor_points
             + civil_order_points + intel_points as double) as uplift_points,
        cast(recency_points + frequency_points + gravity_points + victims_points
             + serial_points + escalation_points + cross_force_points + visor_points
             + civil_order_points + intel_points as double) as score

    from uplifts

)

select * from final
