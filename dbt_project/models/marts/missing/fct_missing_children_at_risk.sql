-- Children at risk: one row per (force, child) for every child (under 18 on the day) who went
-- missing from the force in the missing-persons window, ranked within the force. The child's
-- episodes are counted over every force (a child missing from two forces is one child with all
-- their episodes), so each force sees the whole picture of its own children.
--
-- Repeat missing (repeat_missing in profiles/missing_persons.yml): at least min_episodes episodes
-- within any within_days days of the window. Score: the sum of the components in
-- children_at_risk.weights, the highest risk grade's points and the points of each distinct
-- exploitation indicator recorded in the window.

{%- set config_mp = var('missing_persons') %}
{%- set car = config_mp['children_at_risk'] %}
{%- set weights = car['weights'] %}
{%- set repeat = config_mp['repeat_missing'] %}

with

child_episodes as (

    select * from {{ ref('int_missing_episodes') }}
    where is_child and is_in_window and person_key is not null

),

persons as (

    select * from {{ ref('dim_persons') }}
    where report_month = {{ report_month_literal() }}

),

poc_links as (

    select child_person_key as person_key, count(distinct poc_person_key) as persons_of_concern_count
    from {{ ref('fct_missing_poc_links') }}
    where report_month = {{ report_month_literal() }}
    group by all

),

rolling as (

    -- for each episode, the child's episodes in the within_days days up to it (itself included)
    select
        episode.person_key,
        episode.episode_ref,
        episode.force_id,
        count(*) as episodes_in_span
    from child_episodes as episode
    inner join child_episodes as earlier
        on earlier.person_key = episode.person_key
       and earlier.went_missing_at <= episode.went_missing_at
       and earlier.went_missing_at > episode.went_missing_at - interval {{ repeat['within_days'] }} day
    group by all

),

indicators as (

    select distinct person_key, trim(indicator) as indicator
    from child_episodes
    cross join unnest(string_split(exploitation_indicators, ';')) as split(indicator)
    where exploitation_indicators is not null and trim(indicator) <> ''

),

indicator_points as (

    select
        person_key,
        string_agg(indicator, ';' order by indicator) as exploitation_indicators,
        sum(case indicator
            {%- for name, points in car['exploitation_indicator_points'].items() if name != 'default' %}
            when '{{ name }}' then {{ points }}
            {%- endfor %}
            else {{ car['exploitation_indicator_points'].get('default', 0) }} end) as indicator_points
    from indicators
    group by all

),

risk_points as (

    select
        person_key,
        max(case risk_grade
            {%- for grade, points in car['risk_grade_points'].items() %}
            when '{{ grade }}' then {{ points }}
            {%- endfor %}
            else 0 end) as risk_points
    from child_episodes
    group by all

),

per_child as (

    select
        person_key,
        count(*) as episodes_window,
        count(*) filter (
            where went_missing_at >= {{ report_period_end() }} - interval {{ config_mp['recent_days'] }} day
        ) as episodes_recent,
        bool_or(is_from_care) as is_from_care,
        bool_or(is_open) as is_missing_now,
        max(went_missing_at) as last_went_missing_at,
        string_agg(distinct force_id, ';' order by force_id) as forces_missing_from,
        count(distinct force_id) as forces_missing_from_count,
        {%- set grades = ['high', 'medium', 'low', 'no_apparent_risk'] %}
        case
            {%- for grade in grades %}
            when bool_or(risk_grade = '{{ grade }}') then '{{ grade }}'
            {%- endfor %}
        end as highest_risk_grade,
        min(date_of_birth) as episode_date_of_birth
    from child_episodes
    group by all

),

repeat_flags as (

    select person_key, max(episodes_in_span) as max_episodes_in_span
    from rolling
    group by all

),

per_force as (

    select person_key, force_id, count(*) as episodes_window_in_force
    from child_episodes
    group by all

),

scored as (

    select
        per_force.force_id,
        per_child.person_key,
        per_child.episodes_window,
        per_force.episodes_window_in_force,
        per_child.episodes_recent,
        repeat_flags.max_episodes_in_span >= {{ repeat['min_episodes'] }} as is_repeat_missing,
        repeat_flags.max_episodes_in_span,
        per_child.highest_risk_grade,
        per_child.is_from_care,
        per_child.is_missing_now,
        indicator_points.exploitation_indicators,
        per_child.last_went_missing_at,
        per_child.forces_missing_from,
        per_child.forces_missing_from_count > 1 as is_cross_force,
        coalesce(poc_links.persons_of_concern_count, 0) as persons_of_concern_count,
        per_child.episode_date_of_birth,
        {{ weights['per_episode_window'] }} * least(per_child.episodes_window, {{ weights['max_episodes_counted'] }})
            + {{ weights['per_episode_recent'] }} * per_child.episodes_recent as frequency_points,
        case when repeat_flags.max_episodes_in_span >= {{ repeat['min_episodes'] }}
             then {{ weights['repeat_missing'] }} else 0 end as repeat_points,
        risk_points.risk_points,
        coalesce(indicator_points.indicator_points, 0) as indicator_points,
        case when per_child.is_from_care then {{ weights['from_care'] }} else 0 end
            + case when per_child.forces_missing_from_count > 1 then {{ weights['cross_force'] }} else 0 end
            + case when per_child.is_missing_now then {{ weights['open_episode'] }} else 0 end
            as circumstance_points,
        {{ weights['per_person_of_concern'] }}
            * least(coalesce(poc_links.persons_of_concern_count, 0), {{ weights['max_persons_of_concern_counted'] }})
            as poc_points

    from per_force
    inner join per_child using (person_key)
    inner join repeat_flags using (person_key)
    inner join risk_points using (person_key)
    left join indicator_points using (person_key)
    left join poc_links using (person_key)

),

ranked as (

    select
        *,
        frequency_points + repeat_points + risk_points + indicator_points + circumstance_points + poc_points as score,
        row_number() over (
            partition by force_id
            order by frequency_points + repeat_points + risk_points + indicator_points + circumstance_points + poc_points desc,
                     poc_points desc, indicator_points desc, risk_points desc, frequency_points desc, person_key
        ) as rank
    from scored

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        ranked.force_id,
        ranked.person_key,
        ranked.rank,
        ranked.score,
        ranked.rank <= {{ car['list_size'] }} as in_top_list,
        ranked.episodes_window,
        ranked.episodes_window_in_force,
        ranked.episodes_recent,
        ranked.is_repeat_missing,
        ranked.max_episodes_in_span,
        ranked.highest_risk_grade,
        ranked.is_from_care,
        ranked.is_missing_now,
        ranked.exploitation_indicators,
        ranked.last_went_missing_at,
        ranked.forces_missing_from,
        ranked.is_cross_force,
        ranked.persons_of_concern_count,
        ranked.frequency_points,
        ranked.repeat_points,
        ranked.risk_points,
        ranked.indicator_points,
        ranked.circumstance_points,
        ranked.poc_points,
        concat_ws(', ',
            ranked.episodes_window || ' episode' || case when ranked.episodes_window = 1 then '' else 's' end
                || ' in ' || {{ config_mp['window_months'] }} || ' months ('
                || ranked.episodes_recent || ' in the last ' || {{ config_mp['recent_days'] }} || ' days)',
            case when ranked.is_repeat_missing then 'repeat missing' end,
            'highest risk ' || replace(ranked.highest_risk_grade, '_', ' '),
            case when ranked.exploitation_indicators is not null
                 then 'exploitation indicators ' || replace(ranked.exploitation_indicators, ';', ', ') end,
            case when ranked.is_from_care then 'missing from care' end,
            case when ranked.is_cross_force then 'missing from ' || ranked.forces_missing_from end,
            case when ranked.persons_of_concern_count > 0
                 then ranked.persons_of_concern_count || ' linked person'
                      || case when ranked.persons_of_concern_count = 1 then '' else 's' end || ' of concern' end,
            case when ranked.is_missing_now then 'still missing at month end' end
        ) || '.' as rank_reason,
        persons.forenames,
        persons.surname,
        coalesce(persons.date_of_birth, ranked.episode_date_of_birth) as date_of_birth,
        persons.sex,
        persons.ethnicity_self,
        persons.pnc_id

    from ranked
    left join persons using (person_key)

)

select * from final
