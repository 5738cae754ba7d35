"""The benchmark scripts that measure a built warehouse run on the tests' small one.

The benchmarks themselves run on demand at scale (docs/benchmarks.md); this checks that the
profiling script a data engineer reaches for first still reads what a build leaves behind, and
that its check of a rewritten model against the compiled one can fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODEL_PROFILE = REPO / "benchmarks" / "model_profile.py"


def _profile(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(MODEL_PROFILE), *args], capture_output=True, text=True,
                          timeout=300, cwd=REPO)


def _benchmark_script(name: str, monkeypatch=None):
    """benchmarks/<name>.py as a module; with ``monkeypatch`` it is also in sys.modules for the
    test (monthly_run's dataclasses look their module up, and growth imports monthly_run)."""
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location(name, REPO / "benchmarks" / f"{name}.py")
    module = module_from_spec(spec)
    if monkeypatch is not None:
        monkeypatch.setitem(sys.modules, name, module)
    spec.loader.exec_module(module)
    return module


def _compiled_dim_persons(warehouse: Path) -> Path:
    return _benchmark_script("model_profile").compiled_sql(warehouse, "dim_persons")


def test_compiled_sql_is_the_model_not_its_unit_tests(built_warehouse: tuple[Path, str, Path]) -> None:
    warehouse, _, _ = built_warehouse

    compiled = _compiled_dim_persons(warehouse)

    assert compiled.parts[-3:] == ("marts", "core", "dim_persons.sql")
    assert "int_person_records" in compiled.read_text()


def test_model_profile_times_the_compiled_model_and_compares_a_rewrite(
        built_warehouse: tuple[Path, str, Path], tmp_path: Path) -> None:
    warehouse, _, _ = built_warehouse
    compiled = _compiled_dim_persons(warehouse)
    same = tmp_path / "same.sql"
    same.write_text(compiled.read_text())
    report = tmp_path / "profile.json"

    result = _profile("--warehouse", str(warehouse), "--model", "dim_persons", "--sql", str(same),
                      "--compare", "--threads", "1", "--json-out", str(report))

    assert result.returncode == 0, result.stderr
    figures = json.loads(report.read_text())
    persons = figures["compiled"]["rows"]
    assert persons > 0 and figures["candidate"]["rows"] == persons
    assert figures["rows_only_in"] == {"compiled": 0, "candidate": 0}
    assert figures["compiled"]["operators"], "DuckDB's profile gave no operators"
    assert "dim_persons (compiled)" in result.stdout and "dim_persons (candidate)" in result.stdout


def test_model_profile_fails_when_a_rewrite_loses_rows(built_warehouse: tuple[Path, str, Path],
                                                       tmp_path: Path) -> None:
    warehouse, _, _ = built_warehouse
    compiled = _compiled_dim_persons(warehouse)
    fewer = tmp_path / "fewer.sql"
    fewer.write_text(f"select * from ({compiled.read_text()}) where forces not like '%norfolk%'")

    result = _profile("--warehouse", str(warehouse), "--model", "dim_persons", "--sql", str(fewer),
                      "--compare", "--threads", "1")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "only in the compiled model's result: 0" not in result.stdout


def test_model_profile_names_a_model_the_build_did_not_compile(built_warehouse: tuple[Path, str, Path]) -> None:
    warehouse, _, _ = built_warehouse

    result = _profile("--warehouse", str(warehouse), "--model", "no_such_model")

    assert result.returncode != 0
    assert "no compiled SQL for no_such_model" in result.stderr


BLOCKING_PROFILE = REPO / "benchmarks" / "blocking_profile.py"


def test_blocking_profile_counts_the_pairs_of_each_rule_and_of_a_shorter_history(
        built_warehouse: tuple[Path, str, Path], tmp_path: Path) -> None:
    warehouse, _, _ = built_warehouse
    report = tmp_path / "blocking.json"

    result = subprocess.run([sys.executable, str(BLOCKING_PROFILE), "--warehouse", str(warehouse),
                             "--last-months", "1,2", "--json-out", str(report)],
                            capture_output=True, text=True, timeout=300, cwd=REPO)

    assert result.returncode == 0, result.stderr
    one_month, two_months = json.loads(report.read_text())
    assert [one_month["last_months"], two_months["last_months"]] == [1, 2]
    assert 0 < one_month["records"] < two_months["records"]
    assert 0 < one_month["pairs_to_score"] <= two_months["pairs_to_score"]
    for window in (one_month, two_months):
        assert window["distinct_records"] <= window["records"]
        assert sum(rule["pairs_added"] for rule in window["rules"]) == window["pairs_to_score"]
        assert [rule["cumulative_pairs"] for rule in window["rules"]] == sorted(
            rule["cumulative_pairs"] for rule in window["rules"])
    assert "pairs to score over" in result.stdout


def _monthly_run(monkeypatch):
    return _benchmark_script("monthly_run", monkeypatch)


def test_monthly_run_reports_what_its_figures_depend_on(monkeypatch) -> None:
    """Each monthly run report says how fast the machine is and which limits and model it ran
    with: the same S1 run took 316.5 s on one machine and 640.1 s on another (docs/benchmarks.md)."""
    from forceprofiles.linkage import load_model

    module = _monthly_run(monkeypatch)

    speed = module.machine_speed()
    assert set(speed) == {"python_s", "duckdb_s"} and all(seconds > 0 for seconds in speed.values()), speed
    monkeypatch.setenv("FORCEPROFILES_DUCKDB_MEMORY", "3GB")
    monkeypatch.setenv("FORCEPROFILES_LINKAGE_MEMORY", "2GB")
    assert module._settings() == {"warehouse_duckdb_memory_limit": "3GB", "splink_duckdb_memory_limit": "2GB",
                                  "person_model_version": load_model()["version"]}


def test_monthly_run_prints_where_each_dbt_step_spent_its_time(monkeypatch) -> None:
    """The per-node figures of a build (warehouse.node_seconds) reach the report a data engineer reads."""
    module = _monthly_run(monkeypatch)
    nodes = {"marts": {"thread_seconds": {"data_test": 42.5, "model": 194.5},
                       "slowest": [{"node": "dim_persons", "kind": "model", "seconds": 58.09},
                                   {"node": "int_resolved_person_records", "kind": "model", "seconds": 49.07}]},
             "staging+intermediate": {"thread_seconds": {}, "slowest": []}}

    lines = module.dbt_node_lines(nodes, shown=1)

    assert lines == ["dbt marts: thread-seconds data_test 42.5, model 194.5; slowest dim_persons 58.1",
                     "dbt staging+intermediate: thread-seconds -; slowest -"]
    assert module.dbt_node_lines({}) == []


def test_growth_keeps_the_machine_speed_of_each_point(monkeypatch) -> None:
    """A growth point says how fast the machine was when it ran: points from two machines of the
    same kind differ by 1.4 times for the same month (docs/benchmarks.md, sessions 20 and 21)."""
    _monthly_run(monkeypatch)
    growth = _benchmark_script("growth", monkeypatch)
    stage = {"wall_s": 1.0, "cpu_s": 1.0, "peak_rss_mib": 10, "detail": {"products": 4}}
    report = {"lake_extract_rows": 123, "monthly_run": {"wall_s": 5.0}, "build_steps": {"build_month_s": 1.0},
              "stages": {"build": stage, "render": stage},
              "machine": {"load_average_start": [1.5, 1.0, 1.0], "load_average_end": [2.0, 1.0, 1.0],
                          "speed_s": {"python_s": 0.17, "duckdb_s": 0.18}}}

    point = growth.point_from_report(report, axis="forces", forces=9, history=12, run_dir=None)

    assert point["machine_speed_s"] == {"python_s": 0.17, "duckdb_s": 0.18}
    assert point["products"] == 4 and point["load_average"] == [1.5, 2.0] and point["run_dir"] is None
    assert "detail" not in point["stages"]["build"]
