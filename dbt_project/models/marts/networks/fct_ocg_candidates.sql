-- Communities of the association graph (int_network_communities) as at the report month, matched
-- against the OCG register. One row per community (candidate_id). A community matches the
-- registered group most of its members belong to (as resolved register members) when at least
-- networks.ocg_match.min_members members and at least min_share of the community do; a community
-- that matches no registered group is an OCG candidate (matched_ocg_ref null, is_candidate), ranked
-- by score. Matched communities are kept, unranked, so an analyst can see the registered groups the
-- graph found too.
--
-- Score (networks.candidate_score): per_member x members + per_force x forces + per_co_offence,
-- per_co_presence, per_shared_object and per_intelligence_link x those pieces of evidence inside +
-- per_recent_evidence x evidence inside seen in the last recent_days days; all times the
-- community's density (strong pairs inside / member pairs) when scale_by_density, because an
-- organised group is dense and a chain of people who each share one report with the next is not.

{%- set net = var('networks') %}
{%- set match = net['ocg_match'] %}
{%- set score = net['candidate_score'] %}

with

communities as (

    select * from {{ ref('int_network_communities') }}

),

clusters as (

    select record_id, person_key from {{ source('resolution', 'person_clusters') }}

),

register_members as (

    -- register members are person records (role ocg_member, source_ref = the group's ocg_ref)
    select distinct clusters.person_key, records.source_ref as ocg_ref
    from {{ ref('int_person_records') }} as records
    inner join clusters using (record_id)
    where records.role = 'ocg_member'

),

register as (

    select ocg_ref from {{ ref('stg_central__ocg_register') }}

),

persons as (

    select person_key, forces
    from {{ ref('dim_persons') }}
    where report_month = {{ report_month_literal() }}

),

edges as (

    select * from {{ ref('int_network_edges') }}

),

evidence as (

    select * from {{ ref('int_network_edge_evidence') }}

),

inside_edges as (

    -- edges with both ends in the same community
    select a.community_id, edges.*
    from edges
    inner join communities as a on a.person_key = edges.person_key_a
    inner join communities as b on b.person_key = edges.person_key_b and b.community_id = a.community_id

),

strong_pairs as (

    select community_id, count(distinct person_key_a || '|' || person_key_b) as strong_pairs
    from inside_edges
    where is_strong
    group by all

),

edge_summary as (

    select
        community_id,
        sum(weight) filter (where is_strong) as strong_weight,
        sum(evidence_count) filter (where edge_type = 'co_offending') as co_offences,
        sum(evidence_count) filter (where edge_type = 'co_presence') as co_presences,
        sum(evidence_count) filter (where edge_type = 'intelligence_co_subject') as intelligence_links,
        sum(evidence_count) filter (where edge_type = 'shared_phone') as shared_phone_links,
        sum(evidence_count) filter (where edge_type = 'shared_vehicle') as shared_vehicle_links,
        sum(evidence_count) filter (where edge_type = 'shared_address') as shared_address_links,
        min(first_seen_at) as first_seen_at,
        max(last_seen_at) as last_seen_at
    from inside_edges
    group by all

),

recent_evidence as (

    select a.community_id, count(*) as recent_evidence
    from evidence
    inner join communities as a on a.person_key = evidence.person_key_a
    inner join communities as b on b.person_key = evidence.person_key_b and b.community_id = a.community_id
    where evidence.seen_at >= {{ report_period_end() }} - interval {{ score['recent_days'] }} day
    group by all

),

community_forces as (

    select
        communities.community_id,
        string_agg(distinct force.force_id, ';' order by force.force_id) as forces,
        count(distinct force.force_id) as force_count
    from communities
    inner join persons using (person_key)
    cross join unnest(string_split(persons.forces, ';')) as force(force_id)
    group by all

),

ocg_overlap as (

    select
        communities.community_id,
        register_members.ocg_ref,
        count(distinct communities.person_key) as members_on_register
    from communities
    inner join register_members using (person_key)
    inner join register using (ocg_ref)
    group by all

),

best_match as (

    select *
    from ocg_overlap
    qualify row_number() over (partition by community_id order by members_on_register desc, ocg_ref) = 1

),

per_community as (

    select
        community_id,
        count(*) as member_count,
        bool_or(was_split) as was_split
    from communities
    group by all

),

matched as (

    select
        per_community.community_id,
        per_community.member_count,
        per_community.was_split,
        best_match.ocg_ref as best_ocg_ref,
        coalesce(best_match.members_on_register, 0) as members_on_register,
        coalesce(best_match.members_on_register, 0) / per_community.member_count as register_share,
        coalesce(best_match.members_on_register, 0) >= {{ match['min_members'] }}
            and coalesce(best_match.members_on_register, 0) / per_community.member_count >= {{ match['min_share'] }}
            as is_match
    from per_community
    left join best_match using (community_id)

),

scored as (

    select
        matched.community_id as candidate_id,
        matched.member_count,
        coalesce(community_forces.forces, '') as forces,
        coalesce(community_forces.force_count, 0) as force_count,
        case when matched.is_match then matched.best_ocg_ref end as matched_ocg_ref,
        matched.members_on_register,
        matched.register_share,
        not matched.is_match as is_candidate,
        matched.was_split,
        coalesce(edge_summary.strong_weight, 0) as strong_weight,
        coalesce(edge_summary.co_offences, 0) as co_offences,
        coalesce(edge_summary.co_presences, 0) as co_presences,
        coalesce(edge_summary.intelligence_links, 0) as intelligence_links,
        coalesce(edge_summary.shared_phone_links, 0) as shared_phone_links,
        coalesce(edge_summary.shared_vehicle_links, 0) as shared_vehicle_links,
        coalesce(edge_summary.shared_address_links, 0) as shared_address_links,
        coalesce(recent_evidence.recent_evidence, 0) as recent_evidence,
        coalesce(strong_pairs.strong_pairs, 0) as strong_pairs,
        round(coalesce(strong_pairs.strong_pairs, 0) / (matched.member_count * (matched.member_count - 1) / 2.0), 3)
            as density,
        edge_summary.first_seen_at,
        edge_summary.last_seen_at,
        round((
            {{ score['per_member'] }} * matched.member_count
            + {{ score['per_force'] }} * coalesce(community_forces.force_count, 0)
            + {{ score['per_co_offence'] }} * coalesce(edge_summary.co_offences, 0)
            + {{ score['per_co_presence'] }} * coalesce(edge_summary.co_presences, 0)
            + {{ score['per_shared_object'] }} * (coalesce(edge_summary.shared_phone_links, 0)
                + coalesce(edge_summary.shared_vehicle_links, 0) + coalesce(edge_summary.shared_address_links, 0))
            + {{ score['per_intelligence_link'] }} * coalesce(edge_summary.intelligence_links, 0)
            + {{ score['per_recent_evidence'] }} * coalesce(recent_evidence.recent_evidence, 0)
        ){% if score.get('scale_by_density', true) %} * coalesce(strong_pairs.strong_pairs, 0)
            / (matched.member_count * (matched.member_count - 1) / 2.0){% endif %}, 2) as score

    from matched
    left join community_forces using (community_id)
    left join edge_summary using (community_id)
    left join recent_evidence using (community_id)
    left join strong_pairs using (community_id)

),

final as (

    select
        {{ report_month_literal() }} as report_month,
        *,
        case when is_candidate then row_number() over (
            partition by is_candidate order by score desc, member_count desc, strong_weight desc, candidate_id
        ) end as rank,
        concat_ws(', ',
            member_count || ' people seen in ' || case when force_count = 1 then '1 force' else force_count || ' forces' end
                || ' (' || cast(round(100 * density) as integer) || '% of pairs strongly linked)',
            case when co_offences > 0 then co_offences || ' co-offending link' || case when co_offences = 1 then '' else 's' end end,
            case when co_presences > 0 then co_presences || ' found-together link' || case when co_presences = 1 then '' else 's' end end,
            case when intelligence_links > 0 then intelligence_links || ' intelligence link' || case when intelligence_links = 1 then '' else 's' end end,
            case when shared_phone_links > 0 then shared_phone_links || ' shared phone' || case when shared_phone_links = 1 then '' else 's' end end,
            case when shared_vehicle_links > 0 then shared_vehicle_links || ' shared vehicle' || case when shared_vehicle_links = 1 then '' else 's' end end,
            case when shared_address_links > 0 then shared_address_links || ' shared address' || case when shared_address_links = 1 then '' else 'es' end end
        ) || case
            when is_candidate and members_on_register > 0
                then '; ' || members_on_register || ' on the OCG register (' || best_ocg_ref_text || '), too few to match it.'
            when is_candidate then '; no member on the OCG register.'
            else '; matches ' || matched_ocg_ref || ' (' || members_on_register || ' members on the register).'
        end as evidence

    from scored
    left join (select community_id as candidate_id, best_ocg_ref as best_ocg_ref_text from matched) using (candidate_id)

)

select
    final.* exclude (best_ocg_ref_text),
    coalesce(final.rank <= {{ net['list_size'] }}, false) as in_top_list
from final
