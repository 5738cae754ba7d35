-- One row per event (POLE "E") as at the report month: crimes and non-crime incidents, custody
-- records, missing-person episodes and intelligence reports, in one shape: when, where, what
-- offence, how harmful, whether in VAWG scope.
--
-- Harm days are counted for crimes only (a non-crime incident, an arrest, a missing episode or
-- a piece of intelligence is not itself an offence with a sentencing starting point). VAWG:
-- an offence code in seeds/vawg_scope.csv, or (var vawg_include_domestic_abuse_flag) an
-- occurrence the force flagged as domestic abuse.

{%- set include_da = var('vawg_include_domestic_abuse_flag', true) %}

with

occurrences as (

    select * from {{ ref('stg_crime__occurrences') }}

),

custody as (

    select * from {{ ref('stg_custody__records') }}

),

episodes as (

    select * from {{ ref('stg_missing__episodes') }}

),

reports as (

    select * from {{ ref('stg_intelligence__reports') }}

),

offences as (

    select * from {{ ref('int_offences') }}

),

crime_events as (

    select
        'crime.occurrences|' || occurrences.force_id || '|' || occurrences.crime_ref as event_id,
        case when occurrences.record_type = 'crime' then 'crime' else 'non_crime_incident' end as event_type,
        occurrences.force_id,
        'crime' as source_feed,
        'occurrences' as source_entity,
        occurrences.crime_ref as source_ref,
        occurrences.committed_at as event_at,
        occurrences.reported_at as recorded_at,
        occurrences.lsoa11cd,
        occurrences.ho_code,
        case when occurrences.record_type = 'crime' then coalesce(offences.harm_days, 0) else 0 end as harm_days,
        case
            when occurrences.record_type <> 'crime' then 'non_crime'
            when offences.ho_code is null then 'unknown_code'
            else offences.harm_basis
        end as harm_basis,
        coalesce(offences.is_vawg_offence, false)
            {%- if include_da %} or occurrences.is_domestic_abuse{% endif %} as is_vawg,
        case
            when offences.is_vawg_offence then offences.vawg_strand
            {%- if include_da %}
            when occurrences.is_domestic_abuse then 'domestic_abuse_flag'
            {%- endif %}
        end as vawg_strand,
        occurrences.is_domestic_abuse,
        occurrences.is_cse,
        occurrences.outcome as status,
        occurrences.updated_at

    from occurrences
    left join offences using (ho_code)

),

custody_events as (

    select
        'custody.records|' || custody.force_id || '|' || custody.custody_ref as event_id,
        'custody' as event_type,
        custody.force_id,
        'custody' as source_feed,
        'records' as source_entity,
        custody.custody_ref as source_ref,
        custody.arrested_at as event_at,
        custody.arrested_at as recorded_at,
        cast(null as varchar) as lsoa11cd,
        custody.ho_code,
        cast(null as double) as harm_days,
        'not_a_crime_record' as harm_basis,
        coalesce(offences.is_vawg_offence, false) as is_vawg,
        offences.vawg_strand,
        false as is_domestic_abuse,
        false as is_cse,
        custody.disposal as status,
        custody.updated_at

    from custody
    left join offences using (ho_code)

),

missing_events as (

    select
        'missing.episodes|' || episodes.force_id || '|' || episodes.episode_ref as event_id,
        'missing_episode' as event_type,
        episodes.force_id,
        'missing' as source_feed,
        'episodes' as source_entity,
        episodes.episode_ref as source_ref,
        episodes.went_missing_at as event_at,
        episodes.went_missing_at as recorded_at,
        episodes.missing_from_lsoa11cd as lsoa11cd,
        cast(null as varchar) as ho_code,
        cast(null as double) as harm_days,
        'not_a_crime_record' as harm_basis,
        false as is_vawg,
        cast(null as varchar) as vawg_strand,
        false as is_domestic_abuse,
        episodes.has_cse_indicator as is_cse,
        episodes.risk_grade as status,
        episodes.updated_at

    from episodes

),

intelligence_events as (

    select
        'intelligence.reports|' || reports.force_id || '|' || reports.intel_ref as event_id,
        'intelligence_report' as event_type,
        reports.force_id,
        'intelligence' as source_feed,
        'reports' as source_entity,
        reports.intel_ref as source_ref,
        reports.created_at as event_at,
        reports.created_at as recorded_at,
        reports.lsoa11cd,
        cast(null as varchar) as ho_code,
        cast(null as double) as harm_days,
        'not_a_crime_record' as harm_basis,
        false as is_vawg,
        cast(null as varchar) as vawg_strand,
        false as is_domestic_abuse,
        false as is_cse,
        reports.grading as status,
        reports.updated_at

    from reports

),

unioned as (

    select * from crime_events
    union all by name
    select * from custody_events
    union all by name
    select * from missing_events
    union all by name
    select * from intelligence_events

),

final as (

    select
        unioned.event_id,
        unioned.event_type,
        unioned.force_id,
        unioned.source_feed,
        unioned.source_entity,
        unioned.source_ref,
        unioned.event_at,
        unioned.recorded_at,
        strftime(unioned.recorded_at, '%Y-%m') as recorded_month,
        unioned.lsoa11cd,
        unioned.ho_code,
        offences.offence_subgroup,
        offences.policeuk_category,
        unioned.harm_days,
        unioned.harm_basis,
        unioned.is_vawg,
        unioned.vawg_strand,
        unioned.is_domestic_abuse,
        unioned.is_cse,
        unioned.status,
        unioned.updated_at

    from unioned
    left join offences using (ho_code)

)

select * from final
