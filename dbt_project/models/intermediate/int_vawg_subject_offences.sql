-- One row per (subject, VAWG occurrence) in the scoring window: every occurrence recorded in the
-- last var('vawg').window_months months (report month included), in any force, with each resolved
-- person recorded as its suspect. The offences behind a subject's score and score card.
--
-- victim_count: distinct victims (resolved persons other than the subject) of the occurrence.
-- counts_for_serial: inside the serial-perpetrator window and the subject aged
-- serial_perpetrator.min_age or over at the offence (unknown age per unknown_age_counts).

{%- set cfg = var('vawg') %}
{%- set serial = cfg['serial_perpetrator'] %}

with

occurrences as (

    select * from {{ ref('int_vawg_occurrences') }}
    where recorded_months_ago between 0 and {{ cfg['window_months'] - 1 }}

),

involvements as (

    select * from {{ ref('int_vawg_involvements') }}

),

suspects as (

    select * from involvements where involvement = 'suspect'

),

victims as (

    select * from involvements where involvement = 'victim'

),

victim_counts as (

    select
        suspects.event_id,
        suspects.person_key,
        count(distinct victims.person_key) as victim_count

    from suspects
    left join victims
        on suspects.event_id = victims.event_id
       and suspects.person_key <> victims.person_key
    group by suspects.event_id, suspects.person_key

),

final as (

    select
        suspects.person_key,
        occurrences.event_id,
        occurrences.event_type,
        occurrences.force_id,
        occurrences.source_ref,
        occurrences.ho_code,
        occurrences.offence_description,
        occurrences.vawg_strand,
        occurrences.offence_at,
        occurrences.recorded_at,
        occurrences.recorded_months_ago,
        occurrences.offence_months_ago,
        occurrences.harm_days,
        victim_counts.victim_count,
        suspects.record_id as suspect_record_id,
        suspects.age_at_offence,
        occurrences.recorded_months_ago < {{ serial['within_months'] }}
            and coalesce(suspects.age_at_offence >= {{ serial['min_age'] }}, {{ 'true' if serial['unknown_age_counts'] else 'false' }})
            as counts_for_serial

    from occurrences
    inner join suspects using (event_id)
    inner join victim_counts
        on victim_counts.event_id = suspects.event_id
       and victim_counts.person_key = suspects.person_key

)

select * from final
