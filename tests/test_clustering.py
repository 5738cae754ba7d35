"""Clusters from links without chaining different people (forceprofiles.clustering), and the
same through person resolution with the saved model: many people sharing a common name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from forceprofiles.clustering import Identifiers, constrained_components, plausible_same_dob
from forceprofiles.identifiers import format_pnc
from forceprofiles.linkage import load_model, resolve


def _ids(pnc: list, dob: list, cro: list | None = None) -> Identifiers:
    return Identifiers.from_columns(np.array(pnc, dtype=object), np.array(cro or [None] * len(pnc), dtype=object),
                                    np.array(dob, dtype=object))


def _same(labels: np.ndarray, *nodes: int) -> bool:
    return len({int(labels[n]) for n in nodes}) == 1


def test_a_record_without_pnc_does_not_bridge_two_pnc_ids() -> None:
    # 0 (PNC A) - 1 (no PNC) - 2 (PNC B), all the same date: 1 joins its stronger link only
    labels = constrained_components(3, np.array([0, 1]), np.array([1, 2]), np.array([0.99, 0.97]),
                                    _ids(["A", None, "B"], ["1990-05-12"] * 3))
    assert _same(labels, 0, 1) and not _same(labels, 1, 2)


def test_a_shared_pnc_outweighs_a_mistyped_date_and_dates_far_apart_are_two_people() -> None:
    dates = ["1990-05-12", "1984-11-30", "1990-05-12", "1971-02-03"]
    labels = constrained_components(4, np.array([0, 2]), np.array([1, 3]), np.array([0.99, 0.99]),
                                    _ids(["A", "A", None, None], dates))
    assert _same(labels, 0, 1), "same PNC: one person whatever the dates"
    assert not _same(labels, 2, 3), "no identifier and implausible dates: two people"


def test_plausible_dates_are_the_models_date_levels() -> None:
    assert plausible_same_dob("1990-05-12", "1990-12-05")  # day/month swapped
    assert plausible_same_dob("1990-05-12", "1991-05-12")  # year off by one
    assert plausible_same_dob("1990-05-12", "1990-05-13")  # one character
    assert not plausible_same_dob("1990-05-12", "1979-08-21")


def test_without_conflicts_the_clusters_are_the_connected_components() -> None:
    rng = np.random.default_rng(3)
    nodes = 400
    left, right = rng.integers(0, nodes, 300), rng.integers(0, nodes, 300)
    labels = constrained_components(nodes, left, right, rng.random(300), _ids([None] * nodes, ["2001-01-01"] * nodes))
    _, expected = connected_components(coo_matrix((np.ones(300), (left, right)), shape=(nodes, nodes)), directed=False)
    assert pd.crosstab(labels, expected).astype(bool).sum(axis=1).eq(1).all()
    assert len(set(labels)) == len(set(expected))


def test_the_result_does_not_depend_on_the_order_links_arrive_in() -> None:
    rng = np.random.default_rng(11)
    nodes = 300
    pnc = [f"P{i % 40}" if i % 3 == 0 else None for i in range(nodes)]
    dob = [f"19{70 + i % 7}-0{1 + i % 5}-1{i % 9}" for i in range(nodes)]
    left, right = rng.integers(0, nodes, 900), rng.integers(0, nodes, 900)
    strength = np.round(rng.random(900), 2)  # many ties
    expected = constrained_components(nodes, left, right, strength, _ids(pnc, dob))
    for seed in range(5):
        order = np.random.default_rng(seed).permutation(900)
        got = constrained_components(nodes, left[order], right[order], strength[order], _ids(pnc, dob))
        assert (got == expected).all()


@pytest.fixture(scope="module")
def common_name_people() -> pd.DataFrame:
    """60 different people all called Jamie Smith, born on 6 dates, each with a PNC ID. Each has a
    record carrying the PNC and a record without one (a victim statement, an intelligence
    report): the records without a PNC link to everyone of the same name and date."""
    rows = []
    for person in range(60):
        dob = f"1990-0{1 + person % 6}-1{person % 6}"
        pnc = format_pnc(2010, 1000 + person)
        rows.append({"record_id": f"R{person:03d}a", "pnc_id": pnc, "date_of_birth": dob, "postcode": f"MK{person} 1AA"})
        rows.append({"record_id": f"R{person:03d}b", "pnc_id": None, "date_of_birth": dob, "postcode": f"LU{person} 2BB"})
    frame = pd.DataFrame(rows).assign(source="bedfordshire", forenames="Jamie", surname="Smith", sex="M",
                                      address="1 High Street", cro_number=None)
    frame["date_of_birth"] = pd.to_datetime(frame["date_of_birth"]).dt.date
    return frame


def test_people_sharing_a_common_name_and_date_are_not_chained_into_one(common_name_people: pd.DataFrame) -> None:
    clusters, links = resolve(common_name_people, load_model())
    ids = pd.Index(common_name_people["record_id"])
    # the scenario does chain: plain connected components over the model's links join PNC ids
    graph = coo_matrix((np.ones(len(links)), (ids.get_indexer(links["record_id_l"]), ids.get_indexer(links["record_id_r"]))),
                       shape=(len(ids), len(ids)))
    _, plain = connected_components(graph, directed=False)
    pncs = common_name_people["pnc_id"]
    assert pd.Series(pncs.to_numpy()).groupby(plain).nunique().max() > 1
    # the resolved clusters never hold two PNC ids: 60 people stay (at least) 60
    resolved = clusters.set_index("record_id").loc[ids, "cluster_id"].to_numpy()
    assert pd.Series(pncs.to_numpy()).groupby(resolved).nunique().max() == 1
    assert pd.Series(resolved).nunique() >= 60
