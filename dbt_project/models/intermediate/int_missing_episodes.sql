-- One row per missing-person episode as at the report month, with the resolved person who went
-- missing (person_key), the resolved person they were found with (found_with_person_key), their
-- age at the episode, whether they were a child then, where they were found (address key) and
-- whether the episode falls in the missing-persons window (var missing_persons.window_months).
--
-- Age: from the episode's own date of birth, else the person's best-known date of birth
-- (dim_persons). A person whose date of birth is unknown everywhere is not counted as a child
-- (is_child is false), because the products cannot say they are one.

{%- set config_mp = var('missing_persons') %}

with

episodes as (

    select * from {{ ref('stg_missing__episodes') }}

),

records as (

    select record_id, force_id, source_ref, role
    from {{ ref('int_person_records') }}
    where source_feed = 'missing' and source_entity = 'episodes'

),

clusters as (

    select record_id, person_key from {{ source('resolution', 'person_clusters') }}

),

persons as (

    select person_key, date_of_birth
    from {{ ref('dim_persons') }}
    where report_month = {{ report_month_literal() }}

),

keyed as (

    select
        records.force_id,
        records.source_ref as episode_ref,
        max(records.record_id) filter (where records.role = 'missing_person') as record_id,
        max(clusters.person_key) filter (where records.role = 'missing_person') as person_key,
        max(records.record_id) filter (where records.role = 'found_with') as found_with_record_id,
        max(clusters.person_key) filter (where records.role = 'found_with') as found_with_person_key

    from records
    inner join clusters using (record_id)
    group by all

),

joined as (

    select
        episodes.force_id,
        episodes.episode_ref,
        keyed.record_id,
        keyed.person_key,
        keyed.found_with_record_id,
        keyed.found_with_person_key,
        coalesce(episodes.date_of_birth, persons.date_of_birth) as date_of_birth,
        episodes.risk_grade,
        episodes.went_missing_at,
        episodes.returned_at,
        episodes.is_open,
        episodes.is_from_care,
        episodes.address as home_address,
        {{ address_key('episodes.address') }} as home_address_key,
        episodes.missing_from_postcode,
        episodes.missing_from_lsoa11cd,
        episodes.found_address,
        {{ address_key('episodes.found_address') }} as found_address_key,
        episodes.found_postcode,
        episodes.found_lsoa11cd,
        episodes.found_with_phone,
        episodes.exploitation_indicators,
        episodes.has_cse_indicator,
        episodes.has_cce_indicator,
        episodes.return_interview_at

    from episodes
    left join keyed using (force_id, episode_ref)
    left join persons on persons.person_key = keyed.person_key

),

final as (

    select
        *,
        date_part('year', age(cast(went_missing_at as date), date_of_birth)) as age_at_episode,
        coalesce(date_part('year', age(cast(went_missing_at as date), date_of_birth))
                 <= {{ config_mp['child_max_age'] }}, false) as is_child,
        coalesce(found_address_key = home_address_key, false) as is_found_at_home,
        exploitation_indicators is not null as has_exploitation_indicators,
        went_missing_at >= {{ report_period_start() }} - interval {{ config_mp['window_months'] - 1 }} month
            and went_missing_at < {{ report_period_end() }} as is_in_window

    from joined

)

select * from final
