"""Clusters of person records from pairwise links, without chaining different people together.

Why not plain connected components: each link says two *records* are one person, but connected
components also join every record reachable through a chain of links. At national volume the
common names chain: Jamie Smith born 1990-05-12 with PNC A links to a Jamie Smith record with the
same date and no PNC, which links to the Jamie Smith with PNC B born the same day, whose
day/month-swapped record links to a James Smith... In a 43-force warehouse one "person" held
187,282 records, 42,472 PNC ids and 892 forenames (``docs/benchmarks.md``, session 7), and was
ranked second in Kent's VAWG list with 15,584 offences.

What this does instead (greedy agglomeration with cannot-link constraints, as entity-resolution
systems do): links are taken strongest first, and two clusters merge only if nothing they hold
says they are different people (:func:`_compatible`):

- if they share a PNC ID or a CRO number, they merge (a shared checked identifier outweighs a
  mistyped date of birth);
- otherwise, if both hold PNC IDs (or both CRO numbers) and none is shared, they stay apart: two
  checked identifiers mean two people;
- otherwise, if both hold dates of birth and some date of one is not a plausible recording of a
  date of the other (the model's own date levels: equal, day/month swapped, year off by one, at
  most two characters different), they stay apart.

A cluster is therefore at most what one person's records can look like, however many links run
through it. Components whose records carry at most one value of each identifier cannot hold a
conflict, so only the others go through the (Python) greedy loop; the rest keep scipy's
connected components.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Identifiers:
    """Per node (record or group of identical records): its PNC ID, CRO number and date of birth
    (ISO string), each as an integer code (-1: missing), and the strings behind the date codes."""

    pnc: np.ndarray
    cro: np.ndarray
    dob: np.ndarray
    dob_values: tuple[str, ...] = field(default=())

    @classmethod
    def from_columns(cls, pnc: pd.Series | np.ndarray, cro: pd.Series | np.ndarray,
                     dob: pd.Series | np.ndarray) -> Identifiers:
        """Codes from the prepared columns (``pnc``, ``cro``, ``dob_str``); nulls become -1."""
        pnc_codes, _ = pd.factorize(pd.Series(pnc), use_na_sentinel=True)
        cro_codes, _ = pd.factorize(pd.Series(cro), use_na_sentinel=True)
        dob_codes, dob_uniques = pd.factorize(pd.Series(dob), use_na_sentinel=True)
        return cls(pnc=np.asarray(pnc_codes, dtype=np.int64), cro=np.asarray(cro_codes, dtype=np.int64),
                   dob=np.asarray(dob_codes, dtype=np.int64), dob_values=tuple(str(v) for v in dob_uniques))


def plausible_same_dob(first: str, second: str) -> bool:
    """Could these two recorded dates of birth be one person's? The model's date levels above
    "all other": equal, day/month swapped, same day and month a year apart, or at most two
    characters different (ISO ``YYYY-MM-DD`` strings)."""
    if first == second:
        return True
    if _levenshtein(first, second) <= 2:
        return True
    if first[5:] == second[5:] and first[:4].isdigit() and second[:4].isdigit() \
            and abs(int(first[:4]) - int(second[:4])) == 1:
        return True
    return _swapped(first) == second or _swapped(second) == first


def _swapped(iso: str) -> str:
    return f"{iso[:5]}{iso[8:10]}-{iso[5:7]}" if len(iso) == 10 else iso


def _levenshtein(first: str, second: str) -> int:
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, start=1):
        current = [i]
        for j, b in enumerate(second, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


class _Cluster:
    """What one cluster holds: its identifier codes (small sets: one person's records)."""

    __slots__ = ("pnc", "cro", "dob")

    def __init__(self, pnc: int, cro: int, dob: int) -> None:
        self.pnc = {pnc} if pnc >= 0 else set()
        self.cro = {cro} if cro >= 0 else set()
        self.dob = {dob} if dob >= 0 else set()

    def absorb(self, other: _Cluster) -> None:
        self.pnc |= other.pnc
        self.cro |= other.cro
        self.dob |= other.dob


def _compatible(first: _Cluster, second: _Cluster, same_dob: Callable[[int, int], bool]) -> bool:
    """May these two clusters be one person? (The rules in the module docstring.)"""
    if first.pnc & second.pnc or first.cro & second.cro:
        return True
    if (first.pnc and second.pnc) or (first.cro and second.cro):
        return False
    return all(same_dob(a, b) for a in first.dob for b in second.dob)


def constrained_components(nodes: int, left: np.ndarray, right: np.ndarray, strength: np.ndarray,
                           identifiers: Identifiers, tie_break: np.ndarray | None = None) -> np.ndarray:
    """A cluster label (0..k-1) per node from the links ``left[i]``-``right[i]`` of ``strength[i]``.

    Links are taken strongest first; ties in order of ``tie_break`` (a rank per node, e.g. of
    record ids; default the node index), so that the result is deterministic. Labels are
    numbered in order of each cluster's smallest node.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if nodes == 0:
        return np.empty(0, dtype=np.int64)
    left, right = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    graph = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(nodes, nodes))
    _, component = connected_components(graph, directed=False)
    in_greedy = _in_conflicting_components(component, identifiers)
    parent = np.arange(nodes, dtype=np.int64)
    greedy_links = in_greedy[left]  # a link's two ends share a component
    _agglomerate(np.flatnonzero(in_greedy), left[greedy_links], right[greedy_links],
                 np.asarray(strength, dtype=float)[greedy_links], identifiers,
                 tie_break if tie_break is not None else np.arange(nodes), parent)
    # a node of a conflicting component takes its greedy cluster (its root, numbered past the
    # components); any other node keeps its connected component
    label_source = np.where(in_greedy, nodes + _find_all(parent), component)
    _, labels = np.unique(label_source, return_inverse=True)
    return _renumber_by_first_node(labels.astype(np.int64))


def _in_conflicting_components(component: np.ndarray, identifiers: Identifiers) -> np.ndarray:
    """Per node: is it in a component holding more than one PNC, CRO or date of birth? Only
    those can hold a conflict; the others are one person as they stand."""
    frame = pd.DataFrame({"component": component, "pnc": identifiers.pnc, "cro": identifiers.cro,
                          "dob": identifiers.dob}).replace(-1, np.nan)
    distinct = frame.groupby("component")[["pnc", "cro", "dob"]].nunique()
    flagged = distinct.index[(distinct > 1).any(axis=1)].to_numpy()
    return np.isin(component, flagged)


def _agglomerate(members: np.ndarray, left: np.ndarray, right: np.ndarray, strength: np.ndarray,
                 identifiers: Identifiers, rank: np.ndarray, parent: np.ndarray) -> None:
    """Greedy constrained merging over the links (strongest first, ties by ``rank``); writes
    each merged node's root into ``parent`` (union by size keeps the trees shallow)."""
    low, high = np.minimum(rank[left], rank[right]), np.maximum(rank[left], rank[right])
    order = np.lexsort((high, low, -strength))
    dob_values = identifiers.dob_values

    @lru_cache(maxsize=None)
    def same_dob(a: int, b: int) -> bool:
        return plausible_same_dob(dob_values[a], dob_values[b])

    clusters = {node: _Cluster(pnc, cro, dob) for node, pnc, cro, dob in zip(
        members.tolist(), identifiers.pnc[members].tolist(), identifiers.cro[members].tolist(),
        identifiers.dob[members].tolist())}
    size = dict.fromkeys(clusters, 1)
    up: dict[int, int] = {}  # a merged node's parent (roots are absent)

    def find(node: int) -> int:
        while node in up:
            node = up[node]
        return node

    for a, b in zip(left[order].tolist(), right[order].tolist()):
        root_a, root_b = find(a), find(b)
        if root_a == root_b or not _compatible(clusters[root_a], clusters[root_b], same_dob):
            continue
        if size[root_a] < size[root_b]:
            root_a, root_b = root_b, root_a
        up[root_b] = root_a
        size[root_a] += size.pop(root_b)
        clusters[root_a].absorb(clusters.pop(root_b))
    merged = list(up)
    parent[merged] = [find(node) for node in merged]


def _find_all(parent: np.ndarray) -> np.ndarray:
    """Every node's root (vectorised pointer jumping)."""
    roots = parent.copy()
    while True:
        jumped = roots[roots]
        if np.array_equal(jumped, roots):
            return roots
        roots = jumped


def _renumber_by_first_node(labels: np.ndarray) -> np.ndarray:
    _, first = np.unique(labels, return_index=True)
    order = np.argsort(first, kind="stable")
    renumber = np.empty(len(order), dtype=np.int64)
    renumber[order] = np.arange(len(order))
    return renumber[labels]
