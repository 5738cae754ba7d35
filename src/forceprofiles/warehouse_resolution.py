"""Person resolution inside the warehouse: the ``build_warehouse(resolve_persons=...)`` hook.

Why not :func:`forceprofiles.linkage.resolve` on a DataFrame: a region's 36 months hold about
seven million person records (S1, ``docs/benchmarks.md``), and holding them as Python strings
took 14 GiB. Here the records never leave DuckDB, whose memory is bounded and spills to disk:

1. **normalise in lookup tables**: each prepared column depends on one raw column only
   (:data:`forceprofiles.linkage.NORMALISED_FROM`), so each *distinct* raw value is normalised
   once in Python, by the same functions as :func:`~forceprofiles.linkage.prepare_persons`, and
   joined back in SQL;
2. **group identical records**: records equal in every compared column
   (:data:`~forceprofiles.linkage.COMPARED_COLUMNS`) compare alike with every other record, so
   one row per group is what Splink predicts on (an Arrow table, not Python objects);
3. **clusters** over the groups' links: connected components, except that two PNC IDs, two
   CRO numbers or two implausible dates of birth are never one person
   (:mod:`forceprofiles.clustering`: at national volume plain components chained common names
   into one 187,282-record "person");
4. **expand in SQL** back to every record, and key each person by their anchor record.

The clusters are exactly those of comparing every record. Two identical records have the same
comparison vector against any third record, and against each other they have the vector of a
record against an identical copy, which the model scores once per null pattern
(:func:`~forceprofiles.linkage.score_identical_pairs`):

- where that score links (at or above the threshold, and a blocking rule pairs them), the
  group's records are one person, at least as likely as the identical-copy score;
- where it does not (a name and nothing else), each record of the group joins the group's
  links if it has any, and is a person of its own if not.

``tests/test_warehouse_resolution.py`` checks this against :func:`~forceprofiles.linkage.resolve`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from forceprofiles.clustering import Identifiers, constrained_components
from forceprofiles.linkage import (
    COMPARED_COLUMNS,
    NORMALISED_FROM,
    force_levels,
    load_model,
    normalise_column,
    score_identical_pairs,
    settings_for_table,
    splink_linker,
)

log = logging.getLogger(__name__)

# The raw columns of int_person_records that the compared columns are made from.
RAW_COMPARED: tuple[str, ...] = tuple(raw for raw, made in NORMALISED_FROM.items()
                                      if set(made) & set(COMPARED_COLUMNS))
# A raw column int_person_records does not hold by that name: the record's source is its force,
# or the central platform's records (force_id null).
_RAW_EXPRESSIONS: dict[str, str] = {"source": "coalesce(r.force_id, 'central')"}


def _raw_expression(raw: str) -> str:
    """The SQL for a raw compared column of int_person_records (aliased r)."""
    return _RAW_EXPRESSIONS.get(raw, f'r."{raw}"')


def _key(raw: str) -> str:
    """The column that numbers the distinct compared values a raw column gives (its lookup's
    ``dense_rank`` over them, nulls included): records with equal keys for every raw column are
    identical in every compared column, and grouping by integers is cheaper than by strings."""
    return f'"_key_{raw}"'


_TEMP_TABLES = ("_fp_person_records", "_fp_person_groups", "_fp_person_components", "_fp_person_self_links",
                *(f"_fp_lookup_{raw}" for raw in RAW_COMPARED))


def resolve_persons_in_warehouse(conn: Any, model_path: Path | str | None = None,
                                 threshold: float = 0.95) -> None:
    """int_person_records -> ``main.person_clusters(record_id, person_key, match_probability)``.

    Reads ``main.int_person_records`` (standardised, identifiers check-letter verified),
    resolves with the saved model and writes each record's person key: the key of the cluster's
    anchor, its earliest-seen record (ties: smallest id; see
    :func:`~forceprofiles.linkage.anchored_person_keys`), so that the keys depend on the month's
    records only, not on which months were built before. ``match_probability`` is the best link
    that put the record in its cluster (1.0 for a person of one record).
    """
    model = load_model(model_path)
    timer = _StepTimer()
    try:
        records, per_force = normalise_person_records(conn)
        settings = settings_for_table(model, records, per_force)
        _write_resolution_settings(conn, model, settings, records, len(per_force), threshold)
        prior = settings["probability_two_random_records_match"]
        timer.done("normalise", f"{records:,} records over {len(per_force)} forces, prior 1 in {1 / prior:,.0f}, "
                                f"same force u {_force_same_u(settings)}")
        groups = group_identical_records(conn)
        timer.done("group", f"{groups:,} distinct records to compare")
        self_links = _score_identical_copies(conn, settings, threshold)
        timer.done("identical copies", f"{len(self_links)} null patterns scored")
        left, right, probability = _predict_links(conn, settings, threshold, groups)
        timer.done("predict", f"{len(left):,} links at >= {threshold}")
        _write_components(conn, groups, left, right, probability)
        del left, right, probability
        timer.done("components")
        _write_person_clusters(conn)
        timer.done("expand", "person_clusters written")
    finally:
        for table in _TEMP_TABLES:
            conn.execute(f"drop table if exists {table}")
    log.info("person resolution: %d records resolved in %.1f s", records, timer.total)


RESOLUTION_SETTINGS = "main.person_resolution_settings"


def _write_resolution_settings(conn: Any, model: dict[str, Any], settings: dict[str, Any], records: int,
                               forces: int, threshold: float) -> None:
    """``main.person_resolution_settings``: one row of what this build resolved with, for the
    products' methodology appendix (the prior and the force's u depend on the table, not the model)."""
    conn.execute(f"""
        create or replace table {RESOLUTION_SETTINGS} as
        select ?::varchar as model_version, ?::bigint as records, ?::integer as forces,
               ?::double as prior, ?::double as force_same_u, ?::double as threshold
    """, [model.get("version"), records, forces, settings["probability_two_random_records_match"],
          _force_same_u(settings), threshold])


def _force_same_u(settings: dict[str, Any]) -> float | None:
    """The u of "same force" the settings use (None for a model without the comparison, before 1.3.0)."""
    levels = force_levels(settings)
    return levels[0]["u_probability"] if levels is not None else None


class _StepTimer:
    """Logs each step's seconds (counts only, nothing personal)."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()

    def done(self, step: str, detail: str = "") -> None:
        now = time.perf_counter()
        log.info("person resolution: %s %.1f s %s", step, now - self.last, detail)
        self.last = now

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


def normalise_person_records(conn: Any) -> tuple[int, dict[str, int]]:
    """Step 1. ``_fp_person_records``: every record's id, source, first_seen and compared columns,
    and per raw column a key (:func:`_key`) numbering the distinct values it gives the compared
    columns; returns the number of records and the records per force (the central platform's are
    not a force), which the model's prior and force weight depend on.

    Each raw column's distinct values are normalised once (a region's records repeat the same
    names, dates and postcodes millions of times) and joined back by value. Public so that a
    benchmark (``benchmarks/blocking_profile.py``) prepares exactly the records predict scores."""
    joins, selected = [], []
    for raw in RAW_COMPARED:
        conn.execute(f'create or replace temp table _fp_lookup_{raw} as '
                     f'select (row_number() over () - 1)::bigint as value_id, raw_value '
                     f'from (select distinct {_raw_expression(raw)} as raw_value from main.int_person_records r)')
        values = conn.execute(f"select raw_value from _fp_lookup_{raw} order by value_id").df()["raw_value"]
        made = [column for column in NORMALISED_FROM[raw] if column in COMPARED_COLUMNS]
        derived = normalise_column(raw, values)
        normalised = pd.DataFrame({"value_id": np.arange(len(values), dtype=np.int64),
                                   **{column: derived[column] for column in made}})
        made_list = ", ".join(f'n."{column}"' for column in made)
        conn.register("_fp_lookup_frame", normalised)
        conn.execute(f"create or replace temp table _fp_lookup_{raw} as select l.raw_value, n.* exclude (value_id), "
                     f"dense_rank() over (order by {made_list}) as {_key(raw)} "
                     f"from _fp_lookup_{raw} l join _fp_lookup_frame n using (value_id)")
        conn.unregister("_fp_lookup_frame")
        joins.append(f"left join _fp_lookup_{raw} on {_raw_expression(raw)} "
                     f"is not distinct from _fp_lookup_{raw}.raw_value")
        selected += [f'_fp_lookup_{raw}."{column}"' for column in made] + [f"_fp_lookup_{raw}.{_key(raw)}"]
    conn.execute(f"""
        create or replace temp table _fp_person_records as
        select r.record_id, coalesce(r.force_id, 'central') as source,
               coalesce(r.first_source_month, '') as first_seen, {", ".join(selected)}
        from main.int_person_records r {" ".join(joins)}
    """)
    records = conn.execute("select count(*) from _fp_person_records").fetchall()[0][0]
    per_force = dict(conn.execute("select force, count(*) from _fp_person_records "
                                  "where force is not null group by force").fetchall())
    return records, per_force


def group_identical_records(conn: Any) -> int:
    """Step 2 (after :func:`normalise_person_records`). ``_fp_person_groups``: one row per set of
    records identical in every compared column; returns how many, the records predict compares.

    group_id runs 0..n-1 in order of the group's smallest record id (deterministic);
    ``pattern`` has bit i set when COMPARED_COLUMNS[i] is present (as in
    :func:`~forceprofiles.linkage.collapse_identical`).

    The records are grouped by their integer keys, one per raw column: each compared column is
    made from one raw column, and each key numbers the distinct values its raw column gives the
    compared columns, so equal keys are equal compared columns. The groups are numbered while
    they are narrow, and take the compared columns from their smallest record afterwards. At S1
    (6.9 million records) ranking the records over the eleven compared columns, then grouping
    them with every column carried through the aggregate and the numbering, took 39.6 s."""
    keys = ", ".join(_key(raw) for raw in RAW_COMPARED)
    compared = ", ".join(f'r."{c}"' for c in COMPARED_COLUMNS)
    pattern = " + ".join(f'(case when r."{c}" is null then 0 else {1 << i} end)' for i, c in enumerate(COMPARED_COLUMNS))
    conn.execute(f"""
        create or replace temp table _fp_person_groups as
        with grouped as (
            select {keys}, min(record_id) as representative, arg_min(source, record_id) as source,
                   count(*) as copies
            from _fp_person_records
            group by {keys}
        ),
        numbered as (
            select (row_number() over (order by representative) - 1)::bigint as group_id, *
            from grouped
        )
        select numbered.*, {compared}, {pattern} as pattern
        from numbered
        join _fp_person_records r on r.record_id = numbered.representative
    """)
    conn.execute(f"""
        create or replace temp table _fp_person_records as
        select r.record_id, r.first_seen, g.group_id
        from _fp_person_records r join _fp_person_groups g using ({keys})
    """)
    return conn.execute("select count(*) from _fp_person_groups").fetchall()[0][0]


def _score_identical_copies(conn: Any, settings: dict[str, Any], threshold: float) -> pd.DataFrame:
    """``_fp_person_self_links``: per null pattern of the groups with copies, the model's score of a
    record against an identical copy, and whether such copies are one person (collapsible)."""
    examples = conn.execute(f"""
        select representative as record_id, source, pattern, {", ".join(f'"{c}"' for c in COMPARED_COLUMNS)}
        from _fp_person_groups where copies > 1
        qualify row_number() over (partition by pattern order by group_id) = 1
    """).df()
    scored = score_identical_pairs(examples.drop(columns=["pattern"]), examples["pattern"], settings)
    self_links = pd.DataFrame({
        "pattern": scored.index.astype("int64"),
        "self_probability": scored["match_probability"].astype(float).to_numpy(),
        "collapsible": ((scored["match_probability"] >= threshold) & scored["found_by_blocking"]).astype(bool).to_numpy(),
    })
    conn.register("_fp_self_frame", self_links)
    conn.execute("create or replace temp table _fp_person_self_links as select * from _fp_self_frame")
    conn.unregister("_fp_self_frame")
    return self_links


def _predict_links(conn: Any, settings: dict[str, Any], threshold: float,
                   groups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Splink's links at or above ``threshold`` between the groups (one row each): group ids and
    probabilities. The groups go to Splink's own DuckDB as Arrow (no Python object per record)."""
    empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0))
    if groups < 2:
        return empty
    table = distinct_records_table(conn)
    linker = splink_linker(table, settings)
    del table
    predictions = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    links = predictions.as_duckdbpyrelation().query(
        "p", "select record_id_l, record_id_r, match_probability from p").fetchnumpy()
    if not len(links["record_id_l"]):
        return empty
    return (np.asarray(links["record_id_l"], dtype=np.int64), np.asarray(links["record_id_r"], dtype=np.int64),
            np.asarray(links["match_probability"], dtype=float))


def distinct_records_table(conn: Any) -> pa.Table:
    """The groups of :func:`group_identical_records` as Splink's input, one row each (the group id
    as its record id), as an Arrow table: no Python object per record."""
    compared = ", ".join(f'"{c}"' for c in COMPARED_COLUMNS)
    return conn.sql(f"select group_id as record_id, source, {compared} from _fp_person_groups "
                    f"order by group_id").to_arrow_table()


def _write_components(conn: Any, groups: int, left: np.ndarray, right: np.ndarray, probability: np.ndarray) -> None:
    """``_fp_person_components``: each group's cluster (:func:`~forceprofiles.clustering.constrained_components`:
    links strongest first, never joining two PNC IDs, CRO numbers or implausible dates of birth)
    and its best link within that cluster (-1: none). Ties go in group order, i.e. of each group's smallest record id,
    as :func:`~forceprofiles.linkage.resolve` breaks them by record id."""
    identifiers = conn.execute("select pnc, cro, dob_str from _fp_person_groups order by group_id").df()
    component = constrained_components(
        groups, left, right, probability,
        Identifiers.from_columns(identifiers["pnc"], identifiers["cro"], identifiers["dob_str"]))
    best = np.full(groups, -1.0)
    kept = component[left] == component[right]  # the links the clustering did not refuse
    np.maximum.at(best, left[kept], probability[kept])
    np.maximum.at(best, right[kept], probability[kept])
    frame = pd.DataFrame({"group_id": np.arange(groups, dtype=np.int64), "component": component.astype(np.int64),
                          "best_link": best})
    conn.register("_fp_components_frame", frame)
    conn.execute("create or replace temp table _fp_person_components as select * from _fp_components_frame")
    conn.unregister("_fp_components_frame")


def _write_person_clusters(conn: Any) -> None:
    """Every record's cluster, probability and anchored person key, in SQL.

    A group whose identical copies the model links is one person, in its component; a group whose
    copies it does not link joins its component only if the group has links, and is otherwise a
    person per record. The key is 'P' + the first 16 hex of sha1 of the anchor record id
    (:func:`~forceprofiles.linkage.cluster_key`)."""
    conn.execute("""
        create or replace table main.person_clusters as
        with groups as (
            select g.group_id, g.copies, c.component, c.best_link,
                   coalesce(s.collapsible, false) as collapsible, s.self_probability
            from _fp_person_groups g
            join _fp_person_components c using (group_id)
            left join _fp_person_self_links s using (pattern)
        ),
        records as (
            select r.record_id, r.first_seen,
                   case when g.collapsible or g.best_link >= 0 then 'c' || g.component::varchar
                        else 'r' || r.record_id end as cluster,
                   case when g.collapsible and g.copies > 1 then greatest(g.best_link, g.self_probability)
                        when g.best_link >= 0 then g.best_link
                        else 1.0 end as match_probability
            from _fp_person_records r join groups g using (group_id)
        ),
        anchors as (
            select cluster, first(record_id order by first_seen, record_id) as anchor
            from records group by cluster
        )
        select r.record_id, 'P' || left(sha1(a.anchor), 16) as person_key,
               cast(r.match_probability as double) as match_probability
        from records r join anchors a using (cluster)
    """)
