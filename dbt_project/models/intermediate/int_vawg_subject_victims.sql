-- One row per (subject, VAWG occurrence, victim): every victim of each of the subject's offences in
-- the scoring window (int_vawg_subject_offences), as a resolved person other than the subject.
-- int_vawg_scores counts a subject's distinct victims from it (all of them, and those the
-- serial-perpetrator rule counts); fct_vawg_score_cards puts each victim's share of the victims
-- points on the subject's first offence against them.
--
-- is_first_against_victim: the subject's earliest offence against this victim (by offence_at,
-- then event_id).

with

subject_offences as (

    select * from {{ ref('int_vawg_subject_offences') }}

),

victims as (

    select event_id, person_key as victim_key
    from {{ ref('int_vawg_involvements') }}
    where involvement = 'victim'

),

subject_victims as (

    select
        subject_offences.person_key,
        subject_offences.event_id,
        victims.victim_key,
        subject_offences.offence_at,
        subject_offences.counts_for_serial

    from subject_offences
    inner join victims
        on subject_offences.event_id = victims.event_id
       and subject_offences.person_key <> victims.victim_key

),

final as (

    select
        *,
        row_number() over (
            partition by person_key, victim_key
            order by offence_at, event_id
        ) = 1 as is_first_against_victim

    from subject_victims

)

select * from final
