-- Locations of concern: addresses where missing children were found in the window (never the
-- child's own home), where at least locations_of_concern.min_children distinct children were
-- found over at least min_episodes episodes, counted over every force's episodes, or (when
-- include_if_linked_to_person_of_concern) where a child was found and a person of concern is
-- linked to the address (same_address evidence of fct_missing_poc_links). One row per
-- (force, location) for every force that recorded an episode found there or whose area holds the
-- address (its LSOA), ranked within the force.
--
-- location_key is the normalised address line (the address_key macro), so the same address
-- written by two forces is one location. Score: locations_of_concern.weights.

{%- set config_mp = var('missing_persons') %}
{%- set loc = config_mp['locations_of_concern'] %}
{%- set weights = loc['weights'] %}

with

found_episodes as (

    select * from {{ ref('int_missing_episodes') }}
    where is_child
      and is_in_window
      and person_key is not null
      and found_address_key is not null
      and not is_found_at_home

),

locations as (

    select lsoa11cd, force_id as area_force_id from {{ ref('int_locations') }}

),

poc_links as (

    select object_key as location_key, count(distinct poc_person_key) as persons_of_concern
    from {{ ref('fct_missing_poc_links') }}
    where report_month = {{ report_month_literal() }}
      and evidence_type = 'same_address'
    group by all

),

best_line as (

    -- the address as most often written, then its postcode and LSOA
    select
        found_address_key as location_key,
        found_address as address,
        found_postcode as postcode,
        found_lsoa11cd as lsoa11cd
    from found_episodes
    group by found_address_key, found_address, found_postcode, found_lsoa11cd
    qualify row_number() over (
        partition by found_address_key
        order by count(*) desc, found_address, found_postcode, found_lsoa11cd
    ) = 1

),

per_location as (

    select
        found_address_key as location_key,
        count(distinct person_key) as children,
        count(*) as episodes,
        count(*) filter (where has_exploitation_indicators) as episodes_with_indicators,
        count(distinct force_id) as forces_recording,
        string_agg(distinct force_id, ';' order by force_id) as forces,
        min(coalesce(returned_at, went_missing_at)) as first_found_at,
        max(coalesce(returned_at, went_missing_at)) as last_found_at
    from found_episodes
    group by all

),

qualifying as (

    select per_location.*
    from per_location
    left join poc_links using (location_key)
    where (per_location.children >= {{ loc['min_children'] }} and per_location.episodes >= {{ loc['min_episodes'] }})
    {%- if loc.get('include_if_linked_to_person_of_concern', false) %}
       or coalesce(poc_links.persons_of_concern, 0) > 0
    {%- endif %}

),

location_forces as (

    select found_address_key as location_key, force_id
    from found_episodes
    union
    select best_line.location_key, locations.area_force_id as force_id
    from best_line
    inner join locations using (lsoa11cd)

),

per_force as (

    select
        location_forces.force_id,
        location_forces.location_key,
        count(distinct found_episodes.person_key) as children_in_force
    from location_forces
    left join found_episodes
        on found_episodes.found_address_key = location_forces.location_key
       and found_episodes.force_id = location_forces.force_id
    group by all

),

scored as (

    select
        per_force.force_id,
        per_force.location_key,
        best_line.address,
        best_line.postcode,
        best_line.lsoa11cd,
        locations.area_force_id,
        per_location.children,
        per_force.children_in_force,
        per_location.episodes,
        per_location.episodes_with_indicators,
        per_location.forces,
        per_location.first_found_at,
        per_location.last_found_at,
        coalesce(poc_links.persons_of_concern, 0) as persons_of_concern,
        {{ weights['per_child'] }} * per_location.children
            + {{ weights['per_episode'] }} * per_location.episodes
            + {{ weights['per_episode_with_indicators'] }} * per_location.episodes_with_indicators
            + {{ weights['per_person_of_concern'] }} * coalesce(poc_links.persons_of_concern, 0) as score

    from per_force
    inner join qualifying as per_location using (location_key)
    inner join best_line using (location_key)
    left join locations using (lsoa11cd)
    left join poc_links using (location_key)

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        *,
        row_number() over (
            partition by force_id
            order by score desc, children desc, episodes_with_indicators desc, episodes desc, location_key
        ) as rank,
        'Where ' || children || ' missing children were found on ' || episodes || ' occasions'
            || case when episodes_with_indicators > 0
                    then ' (' || episodes_with_indicators || ' with exploitation indicators)' else '' end
            || case when persons_of_concern > 0
                    then '; linked to ' || persons_of_concern || ' person' || case when persons_of_concern = 1 then '' else 's' end
                         || ' of concern' else '' end
            || '.' as rank_reason

    from scored

)

select
    final.*,
    final.rank <= {{ loc['list_size'] }} as in_top_list
from final
