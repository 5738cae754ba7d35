-- One row per (resolved person, intelligence report) where the person is a subject of the
-- report and the report was created in the last var('vawg').intelligence.window_months months up
-- to the end of the report month (any force), and is about VAWG (its summary matches one of
-- intelligence.relevant_summary_patterns): the corroborating intelligence of a VAWG subject,
-- weighted by its grading.
--
-- 3x5x2: weight = source_weights[source evaluation 1/2/3] x assessment_weights[A-E] (E,
-- "suspected to be false", weighs nothing). Legacy 5x5x5: legacy_source_weights[A-E] x
-- legacy_intelligence_weights[1-5]. raw_points = points_per_report x weight; the cap applies per
-- person in int_vawg_scores. grade is the two-character grading, e.g. '1A' (3x5x2) or 'B2'.

{%- set intel = var('vawg')['intelligence'] %}
{%- set patterns = intel.get('relevant_summary_patterns') or [] %}

with

reports as (

    select * from {{ ref('stg_intelligence__reports') }}
    where created_at < {{ report_period_end() }}
      and created_at >= {{ report_period_start() }} - to_months({{ intel['window_months'] - 1 }})
      {%- if patterns %}
      and regexp_matches(coalesce(summary, ''), '{{ patterns | join("|") | replace("'", "''") }}', 'i')
      {%- endif %}

),

records as (

    select record_id, force_id, source_ref from {{ ref('int_person_records') }}
    where source_feed = 'intelligence' and role = 'intelligence_subject'

),

clusters as (

    select record_id, person_key from {{ source('resolution', 'person_clusters') }}

),

graded as (

    select
        reports.*,
        source_evaluation || intelligence_assessment as grade,
        case
            when grading_scheme = '5x5x5' then
                (case source_evaluation
                    {%- for key, w in intel['legacy_source_weights'].items() %}
                    when '{{ key }}' then {{ w }}
                    {%- endfor %}
                    else 0 end)
                * (case intelligence_assessment
                    {%- for key, w in intel['legacy_intelligence_weights'].items() %}
                    when '{{ key }}' then {{ w }}
                    {%- endfor %}
                    else 0 end)
            else
                (case source_evaluation
                    {%- for key, w in intel['source_weights'].items() %}
                    when '{{ key }}' then {{ w }}
                    {%- endfor %}
                    else 0 end)
                * (case intelligence_assessment
                    {%- for key, w in intel['assessment_weights'].items() %}
                    when '{{ key }}' then {{ w }}
                    {%- endfor %}
                    else 0 end)
        end as weight

    from reports

),

linked as (

    select distinct
        clusters.person_key,
        'intelligence.reports|' || graded.force_id || '|' || graded.intel_ref as report_id,
        graded.force_id,
        graded.intel_ref,
        graded.created_at,
        graded.grading_scheme,
        graded.grade,
        graded.handling_code,
        cast(graded.weight as double) as weight,
        cast({{ intel['points_per_report'] }} * graded.weight as double) as raw_points

    from graded
    inner join records
        on records.force_id = graded.force_id
       and records.source_ref = graded.intel_ref
    inner join clusters using (record_id)

),

final as (

    select * from linked

)

select * from final
