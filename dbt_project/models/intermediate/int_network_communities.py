"""Communities of the association graph: one row per person in a community of strong edges.

A community is a connected component of the graph whose edges are the strong pairs of
``int_network_edges`` (pair weight >= networks.communities.min_strong_weight). Strong edges only,
because every prolific offender shares an intelligence report with someone: on all edges, a few
people chain most of the region into one component, which says nothing. A component larger than
networks.communities.max_size is split into modularity communities (Louvain, fixed seed, so the
result is deterministic); communities smaller than min_size are dropped.

A Python model because connected components and Louvain are graph algorithms (networkx, a
dependency of dbt-core) that SQL does badly: a recursive CTE enumerates every (node, reachable
node) pair, quadratic in a component's size.

community_id is 'N-' + the first 12 hex digits of the md5 of the smallest person_key of the
community: stable from month to month while that member stays in it, and no personal data.

The graph work is forceprofiles.communities (tested there): it sorts the edges first, because
DuckDB returns aggregate rows in no fixed order and Louvain depends on the order nodes were added.
"""

from forceprofiles.communities import communities


def model(dbt, session):
    dbt.config(materialized="table")
    pairs = (
        dbt.ref("int_network_edges")
        .filter("is_strong")
        .aggregate("person_key_a, person_key_b, max(pair_weight) as pair_weight", "person_key_a, person_key_b")
        .df()
    )
    return communities(pairs, min_size=int(dbt.config.get("community_min_size")),
                       max_size=int(dbt.config.get("community_max_size")),
                       seed=int(dbt.config.get("louvain_seed")))
