"""The VAWG marts on a real warehouse (the session's ``built_warehouse``), and their evaluation.

The dbt build itself ran the models' data tests and unit tests (a failing one raises), so these
tests check the properties that cut across models or need an independent recomputation: ranks,
score = components = score card, the serial-perpetrator flag against the MATAC definition
recomputed from the POLE tables, every listed subject's VAWG occurrence in the listing force, the
as-at property, and the ground-truth evaluation.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from forceprofiles.evaluate import person_truth, record_truth
from forceprofiles.evaluate_vawg import evaluate_vawg
from forceprofiles.scoring_config import load_scoring_config

pytestmark = pytest.mark.slow

VAWG_MARTS = ("fct_vawg_subjects", "fct_vawg_score_cards", "fct_vawg_victims", "fct_vawg_force_month",
              "fct_vawg_offence_mix", "fct_vawg_harm_by_msoa", "fct_vawg_repeat_locations",
              "fct_vawg_force_summary", "fct_vawg_fairness")


@pytest.fixture(scope="module")
def conn(built_warehouse: tuple[Path, str, Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(built_warehouse[0]), read_only=True)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def subjects(conn: duckdb.DuckDBPyConnection, built_warehouse: tuple[Path, str, Path]) -> pd.DataFrame:
    return conn.execute("select * from main.fct_vawg_subjects where report_month = ?", [built_warehouse[1]]).df()


def test_every_vawg_mart_has_rows_for_the_month(conn: duckdb.DuckDBPyConnection,
                                                 built_warehouse: tuple[Path, str, Path]) -> None:
    for name in VAWG_MARTS:
        count = conn.execute(f"select count(*) from main.{name} where report_month = ?", [built_warehouse[1]]).fetchone()[0]
        assert count > 0, name


def test_ranks_are_unique_and_contiguous_per_force(subjects: pd.DataFrame) -> None:
    assert len(subjects) > 50
    for force, group in subjects.groupby("force_id"):
        assert sorted(group["rank"]) == list(range(1, len(group) + 1)), force
        ordered = group.sort_values("rank")
        assert ordered["score"].is_monotonic_decreasing, force


def test_score_is_the_sum_of_its_components(subjects: pd.DataFrame) -> None:
    components = subjects[["recency_points", "frequency_points", "gravity_points", "victims_points",
                           "uplift_points"]].sum(axis=1)
    assert (subjects["score"] - components).abs().max() < 1e-9
    uplifts = subjects[["serial_points", "escalation_points", "cross_force_points", "visor_points",
                        "civil_order_points", "intel_points"]].sum(axis=1)
    assert (subjects["uplift_points"] - uplifts).abs().max() < 1e-9
    assert subjects["uplift_points"].gt(0).any() and subjects["recency_points"].gt(0).all()


def test_score_cards_sum_to_the_score(conn: duckdb.DuckDBPyConnection, subjects: pd.DataFrame,
                                      built_warehouse: tuple[Path, str, Path]) -> None:
    cards = conn.execute("""
        select force_id, person_key, sum(points) as card_points,
               count(*) filter (where item_type = 'offence') as offences
        from main.fct_vawg_score_cards where report_month = ?
        group by force_id, person_key
    """, [built_warehouse[1]]).df()
    joined = subjects.merge(cards, on=["force_id", "person_key"], how="left", validate="one_to_one")
    assert joined["card_points"].notna().all(), "a subject without a score card"
    assert (joined["card_points"] - joined["score"]).abs().max() < 1e-6
    assert (joined["offences"] == joined["offence_count"]).all()


def test_every_subject_has_a_vawg_occurrence_as_suspect_in_its_force(conn: duckdb.DuckDBPyConnection,
                                                                     built_warehouse: tuple[Path, str, Path]) -> None:
    # Recomputed from the POLE tables, not from the helper models the mart is built on.
    orphans = conn.execute("""
        with evidence as (
            select distinct records.force_id, clusters.person_key
            from main.int_person_records as records
            inner join main.person_clusters as clusters using (record_id)
            inner join main.int_events as events
                on events.force_id = records.force_id and events.source_ref = records.source_ref
               and events.source_feed = 'crime'
            where records.source_feed = 'crime' and records.role in ('suspect', 'offender') and events.is_vawg
        )
        select count(*) from main.fct_vawg_subjects as subjects
        left join evidence using (force_id, person_key)
        where subjects.report_month = ? and evidence.person_key is null
    """, [built_warehouse[1]]).fetchone()[0]
    assert orphans == 0


def test_serial_flag_matches_the_matac_definition(conn: duckdb.DuckDBPyConnection, subjects: pd.DataFrame,
                                                  built_warehouse: tuple[Path, str, Path]) -> None:
    rule = load_scoring_config("vawg")["serial_perpetrator"]
    month = built_warehouse[1]
    # Independent recomputation: suspects and victims of VAWG occurrences recorded in the rule's
    # window, suspects aged min_age+ at the offence (or of unknown age, per the config).
    expected = conn.execute(f"""
        with occurrences as (
            select force_id, source_ref, event_id, coalesce(event_at, recorded_at) as offence_at
            from main.int_events
            where is_vawg and event_type in ('crime', 'non_crime_incident')
              and recorded_at < date_trunc('month', strptime(?, '%Y-%m')) + interval 1 month
              and recorded_at >= date_trunc('month', strptime(?, '%Y-%m')) - to_months({rule['within_months'] - 1})
        ),
        people as (
            select occurrences.event_id, clusters.person_key, records.role, records.date_of_birth,
                   occurrences.offence_at
            from main.int_person_records as records
            inner join main.person_clusters as clusters using (record_id)
            inner join occurrences on occurrences.force_id = records.force_id
                                  and occurrences.source_ref = records.source_ref
            where records.source_feed = 'crime'
        ),
        dobs as (
            select clusters.person_key, min(records.date_of_birth) as dob
            from main.int_person_records as records
            inner join main.person_clusters as clusters using (record_id)
            group by 1
        ),
        suspects as (
            select distinct people.event_id, people.person_key
            from people left join dobs using (person_key)
            where people.role in ('suspect', 'offender')
              and coalesce(date_sub('year', coalesce(people.date_of_birth, dobs.dob), cast(people.offence_at as date))
                           >= {rule['min_age']}, {str(rule['unknown_age_counts']).lower()})
        ),
        victims as (
            select distinct event_id, person_key as victim_key from people where role = 'victim'
        )
        select suspects.person_key,
               count(distinct suspects.event_id) as occurrences,
               count(distinct victims.victim_key) filter (where victims.victim_key <> suspects.person_key) as victims
        from suspects left join victims using (event_id)
        group by 1
    """, [month, month]).df()
    expected["serial"] = (expected["occurrences"] >= rule["min_occurrences"]) & (expected["victims"] >= rule["min_victims"])
    flags = subjects.drop_duplicates("person_key")[["person_key", "is_serial_perpetrator"]]
    joined = flags.merge(expected, on="person_key", how="left")
    joined["serial"] = joined["serial"].fillna(False).astype(bool)
    mismatched = joined[joined["serial"] != joined["is_serial_perpetrator"]]
    assert mismatched.empty, mismatched.head().to_dict(orient="records")
    assert joined["is_serial_perpetrator"].sum() > 0


def test_a_force_lists_the_same_score_for_a_cross_force_subject(subjects: pd.DataFrame) -> None:
    per_person = subjects.groupby("person_key")["score"].nunique()
    assert per_person.max() == 1
    cross = subjects[subjects["is_cross_force"]]
    for _, row in cross.iterrows():
        assert row["force_id"] in row["forces_offended"].split(";")


def test_evaluate_vawg_returns_sensible_figures(conn: duckdb.DuckDBPyConnection,
                                               built_warehouse: tuple[Path, str, Path]) -> None:
    _, month, world = built_warehouse
    keys = person_truth(record_truth(conn, world / "truth"))
    result = evaluate_vawg(conn, month, world / "truth", keys)
    planted = result["serial_perpetrators_planted"]
    assert 0 < planted <= result["serial_perpetrators_in_truth"]
    assert 0 <= result["serial_perpetrators_in_top_n_all_forces"] <= result["serial_perpetrators_in_top_n"] <= planted
    assert result["serial_in_top_n_share"] == result["serial_perpetrators_in_top_n"] / planted
    assert sum(force["planted"] for force in result["per_force"].values()) == planted
    assert len(result["misses"]) == planted - result["serial_perpetrators_in_top_n"]
    assert "denominator" in result["definition"]
    assert result["serial_perpetrators_visible_serial"] <= planted
    # Most planted serial perpetrators are found and flagged; the top-N share itself is a
    # measurement reported by `forceprofiles evaluate` (see the target), not asserted here.
    assert result["serial_perpetrators_listed"] >= 0.9 * planted
    assert result["serial_perpetrators_flagged_serial"] >= 0.5 * planted
    assert result["serial_perpetrators_in_top_n"] > 0


@pytest.fixture(scope="module")
def rebuilt(built_warehouse: tuple[Path, str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A copy of the warehouse and lake: the next month ingested and built, then the month rebuilt."""
    from forceprofiles.pipeline import ingest_month
    from forceprofiles.warehouse import build_warehouse

    warehouse_path, month, world = built_warehouse
    root = tmp_path_factory.mktemp("vawg_as_at")
    shutil.copytree(warehouse_path.parent / "lake", root / "lake")
    shutil.copy(warehouse_path, root / "warehouse.duckdb")
    before = _vawg_rows(root / "warehouse.duckdb", month)
    next_month = "2026-03"
    forces = sorted(path.name.split("=", 1)[1] for path in (root / "lake" / "raw" / "crime").glob("force=*"))
    ingest_month(next_month, forces, landing_root=world / "landing", lake_root=root / "lake")
    common = {"lake_root": root / "lake", "warehouse_path": root / "warehouse.duckdb", "central_root": world / "central"}
    build_warehouse(next_month, **common)
    later = _vawg_rows(root / "warehouse.duckdb", next_month)
    build_warehouse(month, **common)
    after = _vawg_rows(root / "warehouse.duckdb", month)
    return {"before": before, "after": after, "later": later}


def test_rebuilding_the_month_after_the_next_has_loaded_gives_the_same_rows(rebuilt: dict[str, Any]) -> None:
    for name in VAWG_MARTS:
        assert len(rebuilt["before"][name]) > 0, name
        pd.testing.assert_frame_equal(rebuilt["before"][name], rebuilt["after"][name], obj=name)


def test_next_month_compares_ranks_with_the_month_before(rebuilt: dict[str, Any]) -> None:
    later = rebuilt["later"]["fct_vawg_subjects"]
    assert set(later["rank_change"]) <= {"new", "up", "down", "same"}
    carried = later[later["previous_rank"].notna()]
    assert len(carried) > 0  # subjects listed both months
    previous = rebuilt["before"]["fct_vawg_subjects"].set_index(["force_id", "person_key"])["rank"]
    for row in carried.itertuples():
        assert previous[(row.force_id, row.person_key)] == row.previous_rank
    assert (later[later["previous_rank"].isna()]["rank_change"] == "new").all()


def _vawg_rows(warehouse_path: Path, month: str) -> dict[str, pd.DataFrame]:
    """Every VAWG mart's rows for ``month``, sorted on all columns (comparable frames)."""
    connection = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        frames = {}
        for name in VAWG_MARTS:
            frame = connection.execute(f"select * from main.{name} where report_month = ?", [month]).df()
            frames[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return frames
    finally:
        connection.close()
