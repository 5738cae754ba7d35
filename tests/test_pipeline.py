"""The monthly job without Airflow: report months, settings, ``pipeline.ingest_month`` and
``forceprofiles run`` on a small world of a file-drop force (essex) and a PostgreSQL force
(kent)."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from conftest import throwaway_database
from forceprofiles import contract, pipeline, settings
from forceprofiles.registry import force_config, load_registry

FORCES = ("essex", "kent")
MONTHS = ("2026-01", "2026-02")


# --------------------------------------------------------------------------------------------
# Which month
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "month"), [
    (datetime(2026, 2, 2, 6, 0, tzinfo=UTC), "2026-02"),          # the timetable's interval start (GMT)
    (datetime(2026, 4, 2, 5, 0, tzinfo=UTC), "2026-04"),          # 06:00 BST
    (datetime(2026, 2, 1, 0, 0, tzinfo=pipeline.LONDON), "2026-02"),  # a calendar-month interval
    (datetime(2026, 5, 31, 23, 30, tzinfo=UTC), "2026-06"),       # 00:30 BST on 1 June is June
    (datetime(2026, 2, 2, 6, 0), "2026-02"),                       # naive = UTC
])
def test_report_month_is_the_london_month_of_the_interval_start(start: datetime, month: str) -> None:
    assert pipeline.report_month_for_interval(start) == month


def test_previous_month_is_london_calendar_month() -> None:
    assert pipeline.previous_month(datetime(2026, 3, 10, tzinfo=UTC)) == "2026-02"
    assert pipeline.previous_month(datetime(2026, 1, 5, tzinfo=UTC)) == "2025-12"
    # 23:30 UTC on 31 May is already 1 June in London: the previous month is May.
    assert pipeline.previous_month(datetime(2026, 5, 31, 23, 30, tzinfo=UTC)) == "2026-05"


def test_resolve_report_month_prefers_the_parameter_then_the_interval() -> None:
    interval_start = datetime(2026, 2, 2, 6, 0, tzinfo=UTC)
    assert pipeline.resolve_report_month("2025-11", interval_start) == "2025-11"
    assert pipeline.resolve_report_month(None, interval_start) == "2026-02"
    assert pipeline.resolve_report_month("", None, datetime(2026, 3, 3, tzinfo=UTC)) == "2026-02"
    with pytest.raises(ValueError, match="YYYY-MM"):
        pipeline.resolve_report_month("2026-13", interval_start)


def test_resolve_forces_defaults_to_the_registry_and_checks_ids() -> None:
    assert pipeline.resolve_forces(None) == list(load_registry())
    assert pipeline.resolve_forces([]) == list(load_registry())
    assert pipeline.resolve_forces("kent, essex,kent") == ["kent", "essex"]
    with pytest.raises(ValueError, match="Not_A_Force"):
        pipeline.resolve_forces(["Not_A_Force"])


def test_plan_month_is_every_force_times_every_feed() -> None:
    plan = pipeline.plan_month("2026-02", ["essex", "kent"])
    assert len(plan) == 2 * len(contract.FEEDS)
    assert plan[0] == {"force_id": "essex", "feed": contract.FEEDS[0], "month": "2026-02"}
    assert json.loads(json.dumps(plan)) == plan  # XCom-safe


# --------------------------------------------------------------------------------------------
# Settings
# --------------------------------------------------------------------------------------------

def test_settings_defaults_are_under_the_project_home(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (settings.HOME_ENV, settings.LANDING_ENV, settings.LAKE_ENV, settings.WAREHOUSE_ENV,
                 settings.OUTPUT_ENV, settings.DATA_TEAM_ENV):
        monkeypatch.delenv(name, raising=False)
    home = settings.project_home()
    assert (home / "profiles").is_dir()
    assert settings.landing_root() == home / "var" / "world" / "landing"
    assert settings.lake_root() == home / "var" / "lake"
    assert settings.warehouse_path() == home / "var" / "warehouse" / "force_profiles.duckdb"
    assert settings.output_root() == home / "var" / "out"
    assert settings.data_team_email() == "data-team@force-profiles.example"


def test_settings_follow_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(settings.HOME_ENV, str(tmp_path))
    monkeypatch.delenv(settings.LAKE_ENV, raising=False)
    assert settings.lake_root() == tmp_path / "var" / "lake"
    monkeypatch.setenv(settings.LAKE_ENV, str(tmp_path / "elsewhere"))
    monkeypatch.setenv(settings.DATA_TEAM_ENV, "on-call@example.org")
    assert settings.lake_root() == tmp_path / "elsewhere"
    assert settings.data_team_email() == "on-call@example.org"


def test_postgres_dsn_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    kent, essex = force_config("kent"), force_config("essex")
    monkeypatch.delenv(settings.POSTGRES_DSN_ENV, raising=False)
    monkeypatch.delenv("AIRFLOW_CTX_DAG_ID", raising=False)
    assert settings.postgres_dsn_for(essex) is None          # file drop
    assert settings.postgres_dsn_for(kent) is None           # no route configured: its file drop
    monkeypatch.setenv(settings.POSTGRES_DSN_ENV, "postgresql://u@db.example/forces")
    assert settings.postgres_dsn_for(kent) == "postgresql://u@db.example/forces"
    assert settings.postgres_dsn_for(essex) is None


def test_connection_to_dsn() -> None:
    connection = SimpleNamespace(host="db.example", port=5433, login="reader", password="s3cret words",
                                 schema="forces", extra_dejson={"sslmode": "require", "cursor": "x"})
    dsn = settings.connection_to_dsn(connection)
    from psycopg.conninfo import conninfo_to_dict
    assert conninfo_to_dict(dsn) == {"host": "db.example", "port": "5433", "user": "reader",
                                     "password": "s3cret words", "dbname": "forces", "sslmode": "require"}


# --------------------------------------------------------------------------------------------
# ingest_month on a small world
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pipeline_database() -> Iterator[str]:
    """A throwaway PostgreSQL database for this module (its own, so no other test's world clobbers it)."""
    yield from throwaway_database("fp_pipeline")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, pipeline_database: str) -> Path:
    """Essex by file drop, Kent in PostgreSQL, January and February 2026."""
    from forceprofiles.synth.world import WorldSpec
    from forceprofiles.synth.writer import generate_world

    out = tmp_path_factory.mktemp("pipeline_world")
    generate_world(WorldSpec(forces=FORCES, start=MONTHS[0], end=MONTHS[-1], scale=0.005, seed=5), out,
                   postgres_dsn=pipeline_database)
    # Kent's extracts are only in PostgreSQL: landing it proves the database route.
    assert (out / "landing" / "essex").is_dir() and not (out / "landing" / "kent").exists()
    return out


def _ingest(world: Path, lake: Path, dsn: str, month: str = "2026-02", forces: tuple[str, ...] = FORCES,
            **kwargs: Any) -> dict[str, Any]:
    return pipeline.ingest_month(month, list(forces), landing_root=world / "landing", lake_root=lake,
                                 postgres_dsn=dsn, **kwargs)


def _hashes(root: Path) -> dict[str, str]:
    """sha256 of every lake file except the run manifests (they record when they ran)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "manifests" not in p.parts}


@pytest.fixture(scope="module")
def february(world: Path, pipeline_database: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """February ingested for both forces, once for the module: (lake, summary). Copy before changing."""
    lake = tmp_path_factory.mktemp("february") / "lake"
    return lake, _ingest(world, lake, pipeline_database)


def _copy(lake: Path, tmp_path: Path) -> Path:
    target = tmp_path / "lake"
    shutil.copytree(lake, target)
    return target


@pytest.mark.postgres
def test_ingest_month_lands_both_forces_and_accounts_for_every_row(february: tuple[Path, dict[str, Any]]) -> None:
    lake, summary = february
    assert summary["errors"] == []
    assert {(p["force_id"], p["feed"]) for p in summary["partitions"]} == {
        (f, feed) for f in FORCES for feed in contract.FEEDS}
    assert all(p["extract"] == "extracted" for p in summary["partitions"]), summary["partitions"]
    assert set(summary["decisions"]) == set(FORCES)
    for force_id in FORCES:
        assert list((lake / "raw").glob(f"*/force={force_id}/month=2026-02/*.parquet"))
    manifest = json.loads(Path(summary["manifest"]).read_text())
    assert Path(summary["manifest"]) == lake / "manifests" / "2026-02" / "run.json"
    assert manifest["month"] == "2026-02" and manifest["forces"] == list(FORCES)
    assert len(manifest["results"]) == len(FORCES) * len(contract.FEEDS)
    for entry in manifest["results"]:
        for entity, read in entry["rows_read"].items():
            assert read == entry["rows_landed"][entity] + entry["rows_quarantined"][entity], entry
    assert manifest["totals"]["rows_read"] > 0
    assert manifest["decisions"] == summary["decisions"]
    # What the CLI and XCom see is counts and statuses: no records, no file contents.
    json.dumps(summary)


@pytest.mark.postgres
def test_ingest_month_is_idempotent_and_touches_only_its_month(
        february: tuple[Path, dict[str, Any]], world: Path, pipeline_database: str, tmp_path: Path) -> None:
    """Re-running a month reproduces it byte for byte and leaves every other month alone.

    (Validation compares a month's volumes with the months before it, so it is January, the
    earlier month, that is run here next to an ingested February.)
    """
    lake = _copy(february[0], tmp_path)
    _ingest(world, lake, pipeline_database, month="2026-01", forces=("kent",))
    first = _hashes(lake)
    assert any("month=2026-01" in key for key in first) and any("month=2026-02" in key for key in first)
    _ingest(world, lake, pipeline_database, month="2026-01", forces=("kent",))
    assert _hashes(lake) == first


@pytest.mark.postgres
def test_parallel_ingest_lands_the_same_lake_as_sequential(
        february: tuple[Path, dict[str, Any]], world: Path, pipeline_database: str, tmp_path: Path) -> None:
    """Two worker processes land byte-identical files and the same summary, in plan order."""
    lake = tmp_path / "lake"
    summary = _ingest(world, lake, pipeline_database, workers=2)

    def contents(root: Path) -> dict[str, bytes]:  # validation results name their report by absolute path
        return {p.relative_to(root).as_posix(): p.read_bytes().replace(str(root).encode(), b"<lake>")
                for p in sorted(root.rglob("*")) if p.is_file() and "manifests" not in p.parts}

    assert contents(lake) == contents(february[0])
    assert summary["partitions"] == february[1]["partitions"]
    assert summary["decisions"] == february[1]["decisions"]


@pytest.mark.postgres
def test_one_force_crashing_holds_that_force_and_the_others_carry_on(
        world: Path, pipeline_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import forceprofiles.extract as extract_module

    real_extract = extract_module.extract

    def flaky(force_id: str, feed: str, month: str, **kwargs: Any) -> Any:
        if force_id == "kent" and feed == "custody":
            raise ConnectionError("server closed the connection unexpectedly")
        return real_extract(force_id, feed, month, **kwargs)

    monkeypatch.setattr(extract_module, "extract", flaky)
    lake = tmp_path / "lake"
    summary = _ingest(world, lake, pipeline_database)
    assert summary["errors"] == [{"force_id": "kent", "feed": "custody", "month": "2026-02", "stage": "extract",
                                  "error": "ConnectionError"}]
    assert summary["decisions"]["kent"].startswith("hold")
    assert "custody" in summary["decisions"]["kent"]
    assert "custody not validated" not in summary["decisions"]["essex"]
    assert all(p.get("validate") for p in summary["partitions"] if p["force_id"] == "essex")
    kent_other = [p for p in summary["partitions"] if p["force_id"] == "kent" and p["feed"] != "custody"]
    assert all(p.get("validate") for p in kent_other)
    manifest = json.loads(Path(summary["manifest"]).read_text())
    assert manifest["errors"][0]["error"] == "ConnectionError"
    assert "kent" in manifest["held_forces"]


@pytest.mark.postgres
def test_a_stale_result_from_an_earlier_run_cannot_release_a_force(february: tuple[Path, dict[str, Any]],
                                                                   tmp_path: Path) -> None:
    lake = _copy(february[0], tmp_path)
    results = [pipeline.load_validation(lake, f, feed, "2026-02") for f in FORCES for feed in contract.FEEDS]
    assert all(r is not None for r in results)
    # This run validated everything but crime: last run's crime results must not count.
    this_run = [r for r in results if r.feed != "crime"]
    final = pipeline.finalise_month("2026-02", list(FORCES), lake_root=lake, validations=this_run)
    assert all(decision.startswith("hold") and "crime" in decision for decision in final["decisions"].values())
    # Re-deciding from the lake (validations=None) takes every partition's latest result.
    again = pipeline.finalise_month("2026-02", list(FORCES), lake_root=lake)
    assert again["decisions"] == february[1]["decisions"]


@pytest.mark.postgres
def test_rerunning_one_force_keeps_the_other_forces_in_the_month_manifest(
        february: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    lake = _copy(february[0], tmp_path)
    before = json.loads((lake / "manifests" / "2026-02" / "run.json").read_text())
    kent_only = [pipeline.load_validation(lake, "kent", feed, "2026-02") for feed in contract.FEEDS]
    final = pipeline.finalise_month("2026-02", ["kent"], lake_root=lake, validations=kent_only[1:],
                                    errors=[{"force_id": "kent", "feed": "crime", "month": "2026-02",
                                             "stage": "extract", "error": "TimeoutError"}])
    after = json.loads((lake / "manifests" / "2026-02" / "run.json").read_text())
    assert after["forces"] == list(FORCES) and after["forces_this_run"] == ["kent"]
    assert final["decisions"]["essex"] == before["decisions"]["essex"]
    assert final["decisions"]["kent"].startswith("hold") and "crime" in final["decisions"]["kent"]
    essex_entries = lambda m: [r for r in m["results"] if r["force_id"] == "essex"]  # noqa: E731
    assert [r["rows_read"] for r in essex_entries(after)] == [r["rows_read"] for r in essex_entries(before)]
    assert len(after["results"]) == len(before["results"]) - 1  # kent's crime did not complete this time
    assert after["errors"] == [{"force_id": "kent", "feed": "crime", "month": "2026-02", "stage": "extract",
                                "error": "TimeoutError"}]


def test_finalise_month_holds_a_force_with_nothing_validated(tmp_path: Path) -> None:
    final = pipeline.finalise_month("2026-02", ["essex"], lake_root=tmp_path / "lake", validations=[])
    assert final["held"] == ["essex"]
    assert (tmp_path / "lake" / "manifests" / "2026-02" / "run.json").is_file()


@pytest.mark.postgres
def test_cli_run_prints_the_table_and_exits_zero(world: Path, pipeline_database: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The README's main command end to end for one force: ingest, build, render, email."""
    from forceprofiles.cli import main
    from forceprofiles.distribute.sink import start_sink

    lake = tmp_path / "lake"
    warehouse = tmp_path / "warehouse" / "fp.duckdb"
    out_root = tmp_path / "out"
    controller, sink = start_sink(tmp_path / "mail")
    monkeypatch.setenv("FORCEPROFILES_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("FORCEPROFILES_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("FORCEPROFILES_LEDGER", str(tmp_path / "ledger.sqlite"))
    monkeypatch.setenv("FORCEPROFILES_DISCLOSURE_LOG", str(tmp_path / "disclosures.sqlite"))
    for secret in ("kent_vawg_team", "kent_missing_team", "kent_strategic_readers"):
        monkeypatch.setenv(f"FORCEPROFILES_SECRET_{secret.upper()}", f"pw-{secret}")
    try:
        code = main(["run", "--world", str(world), "--lake", str(lake), "--postgres", pipeline_database,
                     "--forces", "kent", "--warehouse", str(warehouse), "--history", "2", "--out", str(out_root)])
    finally:
        controller.stop()
    out = capsys.readouterr().out
    assert code == 0
    pdfs = sorted(p.name for p in (out_root / "2026-02" / "kent").glob("*.pdf"))
    assert pdfs == ["missing-strategic.pdf", "missing-tactical.pdf", "vawg-strategic.pdf", "vawg-tactical.pdf"]
    assert all(address.endswith(".example") for m in sink.messages for address in m.rcpt_tos)
    assert len(sink.messages) >= 5  # the four products to their groups, and the data team's run summary
    assert len(list((tmp_path / "mail").glob("*.eml"))) == len(sink.messages)
    assert "2026-02" in out  # the world's last month by default
    assert "kent" in out and "essex" not in out
    for feed in contract.FEEDS:
        assert feed in out
    assert (lake / "manifests" / "2026-02" / "run.json").is_file()
    assert (lake / "manifests" / "2026-01" / "run.json").is_file(), "--history 2 ingests the month before first"
    assert "build 2026-02" in out and "resolve_persons_in_warehouse" in out
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as conn:
        volumes = conn.execute("select count(*) from fct_force_month_volumes where report_month = '2026-02'").fetchone()
    assert volumes[0] > 0


def test_cli_run_rejects_a_bad_month(capsys: pytest.CaptureFixture[str]) -> None:
    from forceprofiles.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--month", "2026-2"])
    assert exit_info.value.code == 2
