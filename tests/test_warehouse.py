"""The warehouse (stage 3): dbt on DuckDB around person resolution.

One tiny world (two forces, three months) is ingested month by month and built as the monthly
job would: month 2 is built when only months 1-2 have landed, month 3 after month 3 lands, then
month 2 is rebuilt. Every build runs the models, their data tests and their unit tests (a
failing one raises). dbt starts slowly, so the builds are shared by the tests below.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from forceprofiles import linkage, memory, warehouse
from forceprofiles.pipeline import ingest_month
from forceprofiles.synth.world import WorldSpec
from forceprofiles.synth.writer import generate_world

pytestmark = pytest.mark.slow

FORCES = ("bedfordshire", "hertfordshire")
SPEC = WorldSpec(forces=FORCES, start="2026-01", end="2026-03", scale=0.005, seed=11)
REPO = Path(__file__).resolve().parents[1]


def _marts(warehouse_path: Path, month: str, names: list[str]) -> dict[str, pd.DataFrame]:
    """Every mart's rows for ``month``, sorted on all columns (comparable frames)."""
    conn = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        frames = {}
        for name in names:
            frame = conn.execute(f'select * from main."{name}" where report_month = ?', [month]).df()
            frames[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return frames
    finally:
        conn.close()


def splink_stand_in(conn: duckdb.DuckDBPyConnection) -> None:
    """A resolver as Splink will be called: it gets the connection and writes person_clusters."""
    warehouse.baseline_person_clusters(conn)


@pytest.fixture(scope="module")
def monthly_builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Ingest and build as the monthly job would; the summaries and month-2 snapshots."""
    root = tmp_path_factory.mktemp("warehouse")
    world, lake, db = root / "world", root / "lake", root / "warehouse" / "fp.duckdb"
    months = generate_world(SPEC, world)["months"]
    assert months == ["2026-01", "2026-02", "2026-03"]
    for month in months[:2]:
        ingest_month(month, list(FORCES), landing_root=world / "landing", lake_root=lake)

    common = {"lake_root": lake, "warehouse_path": db, "central_root": world / "central"}
    first = warehouse.build_warehouse("2026-02", unit_tests=True, **common)
    marts = sorted(first["marts"])
    before = _marts(db, "2026-02", marts)

    ingest_month(months[2], list(FORCES), landing_root=world / "landing", lake_root=lake)
    last = warehouse.build_warehouse("2026-03", resolve_persons=splink_stand_in, **common)
    again = warehouse.build_warehouse("2026-02", **common)
    after = _marts(db, "2026-02", marts)
    return {"first": first, "last": last, "again": again, "before": before, "after": after, "db": db,
            "lake": lake, "marts": marts}


def test_last_month_builds_with_every_test_passing(monthly_builds: dict[str, Any]) -> None:
    summary = monthly_builds["last"]
    assert summary["month"] == "2026-03"
    steps = {step["step"]: step["counts"] for step in summary["steps"]}
    assert set(steps) == {"staging+intermediate", "marts"}
    for counts in steps.values():
        assert set(counts) <= {"success", "pass"}, counts  # no error, fail, warn or skip
    assert steps["staging+intermediate"]["pass"] > 100  # the data tests ran
    assert summary["marts"]["fct_force_month_volumes"] > 0
    assert summary["marts"]["dim_persons"] > 0
    assert summary["marts"]["fct_feed_accounting"] == len(FORCES) * 7 * 3  # forces x entities x months


def test_unit_tests_run_when_asked_and_the_monthly_build_leaves_them_out(monthly_builds: dict[str, Any]) -> None:
    """dbt's unit tests check the models' logic on fixtures: CI runs them, the monthly job does not."""
    asked = {step["step"]: step for step in monthly_builds["first"]["steps"]}
    monthly = {step["step"]: step for step in monthly_builds["last"]["steps"]}
    assert asked["staging+intermediate"]["unit_tests"] > 0 and asked["marts"]["unit_tests"] > 0
    assert monthly["staging+intermediate"]["unit_tests"] == 0 and monthly["marts"]["unit_tests"] == 0
    # the same data tests ran either way: only the unit tests are left out
    for step in ("staging+intermediate", "marts"):
        assert asked[step]["counts"]["pass"] - asked[step]["unit_tests"] == monthly[step]["counts"]["pass"], step
        # and each step says where its time went, unit tests apart
        assert {"model", "data_test", "unit_test"} <= set(asked[step]["thread_seconds"]), asked[step]["thread_seconds"]
        assert "unit_test" not in monthly[step]["thread_seconds"]
        slowest = monthly[step]["slowest"]
        assert 0 < len(slowest) <= warehouse.SLOWEST_NODES
        assert [node["seconds"] for node in slowest] == sorted((node["seconds"] for node in slowest), reverse=True)
        assert slowest[0]["seconds"] <= sum(monthly[step]["thread_seconds"].values())


def test_a_development_environment_turns_the_unit_tests_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(warehouse.UNIT_TESTS_ENV, raising=False)
    assert warehouse.wants_unit_tests(None) is False
    assert warehouse.wants_unit_tests(True) is True
    monkeypatch.setenv(warehouse.UNIT_TESTS_ENV, "1")
    assert warehouse.wants_unit_tests(None) is True
    assert warehouse.wants_unit_tests(False) is False  # the caller's word wins


def test_a_given_resolver_replaces_the_baseline(monthly_builds: dict[str, Any]) -> None:
    assert monthly_builds["last"]["person_resolution"] == "splink_stand_in"
    assert monthly_builds["first"]["person_resolution"] == "baseline"
    clusters = monthly_builds["last"]["person_clusters"]
    assert 0 < clusters["persons"] < clusters["records"]  # some records were linked


def test_rebuilding_a_month_after_later_months_reproduces_it(monthly_builds: dict[str, Any]) -> None:
    before, after = monthly_builds["before"], monthly_builds["after"]
    assert {"dim_persons", "fct_feed_accounting", "fct_force_month_volumes", "fct_vawg_subjects",
            "fct_missing_children_at_risk", "fct_ocg_candidates"} <= set(before)
    for name in ("dim_persons", "fct_feed_accounting", "fct_force_month_volumes", "fct_vawg_subjects"):
        assert len(before[name]) > 0, name
    for name in before:  # every mart, scores and ranks included, comes back row for row
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)
    assert monthly_builds["again"]["marts"] == monthly_builds["first"]["marts"]


def test_marts_keep_every_month_built_once(monthly_builds: dict[str, Any]) -> None:
    conn = duckdb.connect(str(monthly_builds["db"]), read_only=True)
    try:
        for name in monthly_builds["marts"]:
            counts = dict(conn.execute(f'select report_month, count(*) from main."{name}" group by 1').fetchall())
            assert set(counts) == {"2026-02", "2026-03"}, name
            assert counts["2026-02"] == monthly_builds["first"]["marts"][name]  # not doubled by the rebuild
        # as at February, nothing from March
        latest = conn.execute("select max(month) from main.fct_force_month_volumes where report_month = '2026-02'")
        assert latest.fetchone()[0] == "2026-02"
    finally:
        conn.close()


def test_feed_accounting_matches_the_lake(monthly_builds: dict[str, Any]) -> None:
    conn = duckdb.connect(str(monthly_builds["db"]), read_only=True)
    try:
        landed = conn.execute("""
            select sum(rows_landed), bool_and(is_accounted), count(*) filter (where validation_status = 'not_validated')
            from main.fct_feed_accounting where report_month = '2026-03'
        """).fetchone()
    finally:
        conn.close()
    rows_in_lake = duckdb.sql(
        f"select count(*) from read_parquet('{monthly_builds['lake']}/raw/*/force=*/month=*/*.parquet', union_by_name = true)"
    ).fetchall()[0][0]
    assert landed == (rows_in_lake, True, 0)


def test_an_empty_lake_builds_empty_marts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(warehouse.MEMORY_ENV, "3GiB")
    seen: dict[str, str] = {}

    def resolver(conn: duckdb.DuckDBPyConnection) -> None:
        seen["resolution"] = conn.execute("select current_setting('memory_limit')").fetchall()[0][0]
        seen["dbt profile"] = os.environ[warehouse.MEMORY_ENV]  # what profiles.yml's env_var() reads
        warehouse.baseline_person_clusters(conn)

    summary = warehouse.build_warehouse("2026-03", lake_root=tmp_path / "no_lake",
                                        warehouse_path=tmp_path / "empty.duckdb", resolve_persons=resolver)
    assert seen == {"resolution": "3.0 GiB", "dbt profile": "3GiB"}
    assert summary["person_clusters"] == {"records": 0, "persons": 0}
    assert summary["marts"] and all(rows == 0 for rows in summary["marts"].values())
    conn = duckdb.connect(str(tmp_path / "empty.duckdb"), read_only=True)
    try:  # typed, empty staging tables: the contract's columns are there
        columns = {row[0]: row[1] for row in conn.execute("describe main.stg_crime__occurrences").fetchall()}
    finally:
        conn.close()
    assert columns["reported_at"] == "TIMESTAMP" and columns["is_domestic_abuse"] == "BOOLEAN"


def _resolve_all_but_one(conn: duckdb.DuckDBPyConnection) -> None:
    warehouse.baseline_person_clusters(conn)
    conn.execute("delete from main.person_clusters where record_id = (select min(record_id) from main.person_clusters)")


def test_resolution_failures_are_reported_and_release_the_file(tmp_path: Path,
                                                                monthly_builds: dict[str, Any]) -> None:
    def broken(conn: duckdb.DuckDBPyConnection) -> None:
        raise RuntimeError("model not trained")

    db = tmp_path / "w.duckdb"
    with pytest.raises(warehouse.WarehouseBuildError, match="person resolution.*model not trained"):
        warehouse.build_warehouse("2026-03", lake_root=tmp_path / "no_lake", warehouse_path=db,
                                  resolve_persons=broken)
    # nothing holds the DuckDB file: another process can open it for writing
    probe = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(db)!r}).close()"],
                           capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr

    # a person record left unresolved fails the marts step, and the error names the test
    with pytest.raises(warehouse.WarehouseBuildError) as caught:
        warehouse.build_warehouse("2026-03", lake_root=monthly_builds["lake"], warehouse_path=db,
                                  resolve_persons=_resolve_all_but_one)
    assert caught.value.step == "marts"
    assert [f["node"].split(".")[2] for f in caught.value.failures] == [
        "relationships_int_person_records_record_id__record_id__source_resolution_person_clusters_"]


def test_dbt_failures_name_the_failing_nodes() -> None:
    class Node:
        def __init__(self, unique_id: str) -> None:
            self.unique_id, self.name, self.resource_type = unique_id, unique_id.split(".")[-1], "test"

    class Result:
        def __init__(self, unique_id: str, status: str, message: str) -> None:
            self.node, self.status, self.message = Node(unique_id), status, message

    class Outcome:
        success, exception = False, None
        result = type("R", (), {"results": [
            Result("test.forceprofiles.unique_dim_persons_person_key", "fail", "Got 2 results,\nconfigured to fail if != 0"),
            Result("model.forceprofiles.dim_persons", "success", "OK"),
            Result("test.forceprofiles.not_null_dim_persons_forces", "skipped", ""),
        ]})()

    class Runner:
        def invoke(self, args: list[str]) -> Outcome:
            return Outcome()

    with pytest.raises(warehouse.WarehouseBuildError) as caught:
        warehouse._dbt_build(Runner(), [], ("path:models/marts",), "marts", unit_tests=False)
    error = caught.value
    assert error.step == "marts"
    assert [f["node"] for f in error.failures] == ["test.forceprofiles.unique_dim_persons_person_key"]
    assert "unique_dim_persons_person_key (fail): Got 2 results, | configured to fail if != 0" in str(error)
    assert "1 skipped" in str(error)


def test_the_dbt_project_parses_and_its_generated_files_are_current(tmp_path: Path) -> None:
    from dbt.cli.main import dbtRunner

    project = warehouse.dbt_project_dir()
    variables = warehouse.dbt_vars("2026-03", lake_root=tmp_path / "lake")
    result = dbtRunner().invoke(["parse", "--project-dir", str(project), "--profiles-dir", str(project),
                                 "--vars", str(variables).replace("'", '"'), "--target-path", str(tmp_path / "target"),
                                 "--log-path", str(tmp_path / "logs"), "--quiet"])
    assert result.success, result.exception
    manifest = result.result
    models = {node.name for node in manifest.nodes.values() if node.resource_type == "model"}
    assert {"stg_crime__occurrences", "int_person_records", "int_events", "int_objects", "int_locations",
            "fct_force_month_volumes", "fct_feed_accounting", "dim_persons"} <= models
    unit_tests = {test.model for test in manifest.unit_tests.values()}
    assert {"stg_crime__occurrences", "int_events", "fct_force_month_volumes", "dim_persons"} <= unit_tests
    check = subprocess.run([sys.executable, str(project / "scripts" / "make_seeds.py"), "--check"],
                           capture_output=True, text=True, env={"PYTHONPATH": str(REPO / "src"), "PATH": ""})
    assert check.returncode == 0, check.stderr


def test_the_memory_limit_is_a_share_of_the_memory_available_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert warehouse.default_memory_limit(24 * 2**30) == "6GB"  # a quarter, whole (decimal) GB down
    assert warehouse.default_memory_limit(64 * 2**30) == "17GB"
    assert warehouse.default_memory_limit(2**30) == "1GB"  # never below the minimum
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert 0 < memory.available_memory_bytes() <= physical

    monkeypatch.delenv(warehouse.MEMORY_ENV, raising=False)
    assert warehouse.duckdb_config() == {"memory_limit": warehouse.default_memory_limit()}
    monkeypatch.setenv(warehouse.MEMORY_ENV, " 12GB ")
    assert warehouse.duckdb_config() == {"memory_limit": "12GB"}


def test_splinks_database_takes_a_sixth_of_the_memory_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """Splink's DuckDB runs beside the warehouse's during resolution: together under half of the
    machine by default (a quarter and a sixth), so neither fixed value can outgrow a small container."""
    assert memory.share_of_memory(linkage.LINKAGE_MEMORY_SHARE, 24 * 2**30) == "4GB"
    assert memory.share_of_memory(linkage.LINKAGE_MEMORY_SHARE, 4 * 2**30) == "1GB"
    persons = pd.DataFrame({"record_id": ["a", "b"], "source": ["x", "y"]})
    settings = {"link_type": "dedupe_only", "unique_id_column_name": "record_id", "comparisons": [],
                "blocking_rules_to_generate_predictions": []}

    def splinks_limit() -> str:
        connection = linkage.splink_linker(persons, settings)._db_api.duckdb_con
        return connection.execute("select current_setting('memory_limit')").fetchall()[0][0]

    monkeypatch.delenv(linkage.LINKAGE_MEMORY_ENV, raising=False)
    expected_gb = int(memory.share_of_memory(linkage.LINKAGE_MEMORY_SHARE)[:-2])
    assert splinks_limit() == f"{expected_gb * 10**9 / 2**30:.1f} GiB"
    monkeypatch.setenv(linkage.LINKAGE_MEMORY_ENV, "3GiB")
    assert splinks_limit() == "3.0 GiB"


def test_report_month_is_checked() -> None:
    with pytest.raises(ValueError, match="YYYY-MM"):
        warehouse.build_warehouse("2026-13", lake_root=Path("lake"), warehouse_path=Path("w.duckdb"))
