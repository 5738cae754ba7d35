-- One row per (report_month, force_id, person_key): a VAWG subject listed by a force. A person is
-- listed by every force that recorded at least one of his VAWG occurrences (as a suspect) in the
-- scoring window; his score is computed over all forces' records (int_vawg_scores), so it is the
-- same in every force that lists him.
--
-- rank: 1 = highest, unique within (report_month, force_id); ties go to gravity, victims,
-- frequency, recency and uplift points, then person_key. previous_rank and rank_change compare
-- with this mart's rows for the previous report month (null / 'new' when not listed then, or
-- when that month was never built).

{%- set cfg = var('vawg') %}

with

scores as (

    select * from {{ ref('int_vawg_scores') }}

),

subject_offences as (

    select * from {{ ref('int_vawg_subject_offences') }}

),

persons as (

    select * from {{ ref('dim_persons') }}
    where report_month = {{ report_month_literal() }}

),

{% if is_incremental() %}
previous as (

    select force_id, person_key, rank as previous_rank
    from {{ this }}
    where report_month = strftime({{ report_period_start() }} - interval 1 month, '%Y-%m')

),
{% else %}
previous as (

    select
        cast(null as varchar) as force_id,
        cast(null as varchar) as person_key,
        cast(null as bigint) as previous_rank
    where false

),
{% endif %}

force_subjects as (

    select distinct force_id, person_key from subject_offences

),

ranked as (

    select
        force_subjects.force_id,
        scores.*,
        row_number() over (
            partition by force_subjects.force_id
            order by scores.score desc, scores.gravity_points desc, scores.victims_points desc,
                     scores.frequency_points desc, scores.recency_points desc, scores.uplift_points desc,
                     scores.person_key
        ) as rank

    from force_subjects
    inner join scores using (person_key)

),

explained as (

    select
        *,
        concat_ws('; ',
            case when is_serial_perpetrator then 'Serial perpetrator: ' else '' end
                || offence_count || ' VAWG offence' || case when offence_count = 1 then '' else 's' end
                || ' against ' || victim_count || ' victim' || case when victim_count = 1 then '' else 's' end
                || case when is_cross_force then ' in ' || force_count || ' forces (' || replace(forces_offended, ';', ', ') || ')' else '' end
                || ', ' || format('{:,}', cast(round(harm_days) as bigint)) || ' harm days',
            'last offence ' || case
                when months_since_last_offence <= 0 then 'this month'
                when months_since_last_offence = 1 then '1 month ago'
                else months_since_last_offence || ' months ago' end,
            case when is_escalating then 'escalating ('
                || concat_ws(' and ',
                    case when is_harm_rising then 'harm rising' end,
                    case when is_gaps_shortening then 'offences closer together' end) || ')' end,
            case when visor_status is not null then 'ViSOR ' || visor_status end,
            case when civil_orders is not null then 'civil orders ' || replace(civil_orders, ';', ', ') end,
            case when intel_report_count > 0 then intel_report_count || ' intelligence report'
                || case when intel_report_count = 1 then '' else 's' end
                || coalesce(' (best graded ' || best_intel_grading || ')', '') end
        ) || '.' as rank_reason

    from ranked

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        explained.force_id,
        explained.person_key,
        explained.rank,
        explained.score,
        explained.recency_points,
        explained.frequency_points,
        explained.gravity_points,
        explained.victims_points,
        explained.uplift_points,
        explained.serial_points,
        explained.escalation_points,
        explained.cross_force_points,
        explained.visor_points,
        explained.civil_order_points,
        explained.intel_points,
        explained.offence_count,
        explained.victim_count,
        explained.harm_days,
        explained.first_offence_at,
        explained.last_offence_at,
        explained.months_since_last_offence,
        explained.forces_offended,
        explained.is_cross_force,
        explained.is_serial_perpetrator,
        explained.is_escalating,
        explained.is_harm_rising,
        explained.is_gaps_shortening,
        explained.visor_status,
        explained.civil_orders,
        explained.intel_report_count,
        explained.best_intel_grading,
        explained.rank <= {{ cfg['list_size'] }} as is_in_top_list,
        explained.rank_reason,
        previous.previous_rank,
        case
            when previous.previous_rank is null then 'new'
            when explained.rank < previous.previous_rank then 'up'
            when explained.rank > previous.previous_rank then 'down'
            else 'same'
        end as rank_change,
        persons.forenames,
        persons.surname,
        persons.date_of_birth,
        persons.pnc_id,
        persons.sex,
        persons.ethnicity_self

    from explained
    left join previous
        on previous.force_id = explained.force_id
       and previous.person_key = explained.person_key
    left join persons
        on persons.person_key = explained.person_key

)

select * from final
