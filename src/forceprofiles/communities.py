"""Communities of the association graph (the work of dbt's ``int_network_communities``).

A community is a connected component of the graph of strong person-to-person edges; a
component larger than ``max_size`` is split into modularity communities (Louvain). It lives here
rather than inside the dbt Python model so it can be tested on its own, and because its one
subtle requirement is easy to break there: **the result must not depend on the order of the
input rows.** DuckDB returns an aggregate's rows in whatever order its threads finish, and
networkx's Louvain, even with a fixed seed, visits nodes in the order they were added to the
graph; fed unsorted rows, a rebuild of the same month could split a large component differently
and the products would change (a backfill that cannot be proved identical). So the edges are
sorted and the nodes added in sorted order before anything is computed.
"""

from __future__ import annotations

import hashlib

import networkx as nx
import pandas as pd

COLUMNS = ["person_key", "community_id", "community_size", "strong_degree", "strong_weight", "was_split"]


def community_id(members: list[str]) -> str:
    """'N-' + 12 hex digits of the md5 of the smallest member's key: stable while that member
    stays in the community, and no personal data."""
    return "N-" + hashlib.md5(min(members).encode("utf-8")).hexdigest()[:12]


def strong_graph(pairs: pd.DataFrame) -> nx.Graph:
    """The graph of ``pairs`` (person_key_a, person_key_b, pair_weight), built in sorted order."""
    ordered = pairs.sort_values(["person_key_a", "person_key_b"], kind="mergesort")
    graph = nx.Graph()
    graph.add_nodes_from(sorted(set(ordered["person_key_a"]) | set(ordered["person_key_b"])))
    for a, b, weight in ordered[["person_key_a", "person_key_b", "pair_weight"]].itertuples(index=False):
        graph.add_edge(a, b, weight=float(weight))
    return graph


def communities(pairs: pd.DataFrame, *, min_size: int, max_size: int, seed: int) -> pd.DataFrame:
    """One row per person in a community of at least ``min_size`` (see the module docstring)."""
    graph = strong_graph(pairs)
    rows = []
    for component in sorted((sorted(c) for c in nx.connected_components(graph)), key=lambda c: c[0]):
        if len(component) < min_size:
            continue
        parts = [component]
        was_split = False
        if len(component) > max_size:
            sub = graph.subgraph(component)
            parts = sorted((sorted(p) for p in nx.community.louvain_communities(sub, weight="weight", seed=seed)),
                           key=lambda p: p[0])
            was_split = True
        for members in parts:
            if len(members) < min_size:
                continue
            sub = graph.subgraph(members)
            identifier = community_id(members)
            for person_key in members:
                rows.append((person_key, identifier, len(members), int(sub.degree(person_key)),
                             float(sub.degree(person_key, weight="weight")), was_split))
    return pd.DataFrame(rows, columns=COLUMNS).astype(
        {"person_key": "string", "community_id": "string", "community_size": "int64",
         "strong_degree": "int64", "strong_weight": "float64", "was_split": "bool"})
