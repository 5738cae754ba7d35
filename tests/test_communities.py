"""Communities of the association graph do not depend on the order of their input rows.

DuckDB returns an aggregate's rows in no fixed order; a rebuild of the same month must still
split a large component into the same communities, or a backfill changes the products.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forceprofiles.communities import communities


def _clustered_pairs(seed: int = 7) -> pd.DataFrame:
    """Five dense clusters of 12 people chained by single bridges (one 60-person component, so
    Louvain runs), plus a separate pair and triangle (below and at the minimum size)."""
    rng = np.random.default_rng(seed)
    rows = []
    for cluster in range(5):
        people = [f"P{cluster:02d}{i:02d}" for i in range(12)]
        for i, a in enumerate(people):
            for b in people[i + 1:]:
                if rng.random() < 0.45:
                    rows.append((a, b, float(rng.integers(3, 9))))
        if cluster:
            rows.append((f"P{cluster - 1:02d}00", people[0], 3.0))
    rows += [("Q01", "Q02", 5.0), ("T01", "T02", 4.0), ("T02", "T03", 4.0), ("T01", "T03", 4.0)]
    return pd.DataFrame(rows, columns=["person_key_a", "person_key_b", "pair_weight"])


def _loose_pairs(seed: int = 3) -> pd.DataFrame:
    """60 people with random strong edges and no clear clusters: where Louvain's answer depends
    most on the order it visits nodes (unsorted, 12 row orders gave 12 different splits)."""
    rng = np.random.default_rng(seed)
    rows = [(f"K{i:03d}", f"K{j:03d}", float(rng.integers(3, 9)))
            for i in range(60) for j in range(i + 1, 60) if rng.random() < 0.08]
    return pd.DataFrame(rows, columns=["person_key_a", "person_key_b", "pair_weight"])


@pytest.mark.parametrize("make_pairs", [_clustered_pairs, _loose_pairs])
def test_a_large_component_is_split_the_same_way_whatever_the_row_order(make_pairs) -> None:
    pairs = make_pairs()
    expected = communities(pairs, min_size=3, max_size=30, seed=42)
    assert expected["was_split"].any(), "the 60-person component should be split by Louvain"
    assert expected["community_id"].nunique() >= 3
    assert "Q01" not in set(expected["person_key"])  # a pair is below min_size
    for shuffle in range(12):
        shuffled = pairs.sample(frac=1.0, random_state=shuffle).reset_index(drop=True)
        # swap the ends of some edges too: the graph is undirected
        flip = np.random.default_rng(shuffle).random(len(shuffled)) < 0.5
        shuffled.loc[flip, ["person_key_a", "person_key_b"]] = shuffled.loc[flip, ["person_key_b", "person_key_a"]].values
        got = communities(shuffled, min_size=3, max_size=30, seed=42)
        pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("max_size", [30, 100])
def test_every_member_is_in_exactly_one_community(max_size: int) -> None:
    got = communities(_clustered_pairs(), min_size=3, max_size=max_size, seed=42)
    assert got["person_key"].is_unique
    assert (got.groupby("community_id")["person_key"].count() == got.groupby("community_id")["community_size"].first()).all()
    if max_size == 100:
        assert not got["was_split"].any() and got["community_id"].nunique() == 2  # the chain and the triangle
