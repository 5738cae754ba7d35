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
"""

import hashlib

import networkx as nx
import pandas as pd

COLUMNS = ["person_key", "community_id", "community_size", "strong_degree", "strong_weight", "was_split"]


def _community_id(members: list[str]) -> str:
    return "N-" + hashlib.md5(min(members).encode("utf-8")).hexdigest()[:12]


def model(dbt, session):
    dbt.config(materialized="table")
    min_size = int(dbt.config.get("community_min_size"))
    max_size = int(dbt.config.get("community_max_size"))
    seed = int(dbt.config.get("louvain_seed"))

    pairs = (
        dbt.ref("int_network_edges")
        .filter("is_strong")
        .aggregate("person_key_a, person_key_b, max(pair_weight) as pair_weight", "person_key_a, person_key_b")
        .df()
    )
    graph = nx.Graph()
    for a, b, weight in pairs.itertuples(index=False):
        graph.add_edge(a, b, weight=float(weight))

    rows = []
    # sorted so that the order of rows and of Louvain's input is deterministic
    for component in sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: c[0]):
        if len(component) < min_size:
            continue
        parts = [component]
        was_split = False
        if len(component) > max_size:
            sub = graph.subgraph(component)
            parts = [sorted(p) for p in nx.community.louvain_communities(sub, weight="weight", seed=seed)]
            was_split = True
        for members in parts:
            if len(members) < min_size:
                continue
            sub = graph.subgraph(members)
            community_id = _community_id(members)
            for person_key in members:
                rows.append((person_key, community_id, len(members), int(sub.degree(person_key)),
                             float(sub.degree(person_key, weight="weight")), was_split))
    return pd.DataFrame(rows, columns=COLUMNS).astype(
        {"person_key": "string", "community_id": "string", "community_size": "int64",
         "strong_degree": "int64", "strong_weight": "float64", "was_split": "bool"})
