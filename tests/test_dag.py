"""The Airflow DAG ``force_profiles_monthly``: it imports, has the right shape and schedule, and
really runs the ingest half (``dag.test()``) on a small synthetic world of a file-drop force
(essex) and a PostgreSQL force (kent), including backfill semantics.

Airflow reads its configuration once, when it is first imported, so every Airflow call runs
in a subprocess with its own environment: an isolated ``AIRFLOW_HOME`` (SQLite metadata,
migrated once per session), ``dags/`` as the DAGs folder and the Kent connection as an
``AIRFLOW_CONN_*`` variable. This file is also that subprocess's program
(``python tests/test_dag.py inspect|run ...``): it prints one JSON result line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DAG_ID = "force_profiles_monthly"
RESULT_MARK = "@@FORCEPROFILES-RESULT@@ "
FORCES = ("essex", "kent")
MONTHS = ("2026-01", "2026-02", "2026-03")
WAREHOUSE_POOL = "duckdb_warehouse"


# ============================================================================================
# The subprocess side: runs with Airflow configured by the environment the tests give it.
# ============================================================================================

def _inspect() -> dict[str, Any]:
    """Load dags/ with a DagBag and describe the DAG, its timetable and its backfill months."""
    from datetime import UTC, datetime

    from airflow.dag_processing.dagbag import DagBag
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.base import TimeRestriction

    from forceprofiles.pipeline import report_month_for_interval

    bag = DagBag(dag_folder=str(REPO / "dags"))
    out: dict[str, Any] = {"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()},
                           "dag_ids": sorted(bag.dag_ids)}
    dag = bag.dags.get(DAG_ID)
    if dag is None:
        return out
    dag.check_cycle()  # raises on a cycle
    scheduler_dag = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag))
    timetable = scheduler_dag.timetable

    def interval(info_or_interval: Any) -> dict[str, str]:
        data_interval = getattr(info_or_interval, "data_interval", info_or_interval)
        return {"start": data_interval.start.isoformat(), "end": data_interval.end.isoformat(),
                "month": report_month_for_interval(data_interval.start)}

    # The scheduler after the January 2026 run: the next run is February's.
    january = timetable.infer_manual_data_interval(run_after=datetime(2026, 2, 10, tzinfo=UTC))
    restriction = TimeRestriction(earliest=dag.start_date, latest=None, catchup=True)
    after_january = timetable.next_dagrun_info(last_automated_data_interval=january, restriction=restriction)
    # `airflow backfill create --from-date 2026-01-01 --to-date 2026-04-30` iterates these.
    backfill = scheduler_dag.iter_dagrun_infos_between(datetime(2026, 1, 1, tzinfo=UTC),
                                                       datetime(2026, 4, 30, tzinfo=UTC))
    callback = dag.default_args.get("on_failure_callback")
    out.update({
        "task_ids": sorted(dag.task_ids),
        "upstream": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks},
        # Mapped themselves, or inside a mapped task group (one instance per force x feed).
        "mapped": sorted(t.task_id for t in dag.tasks
                         if "Mapped" in type(t).__name__ or t.get_closest_mapped_task_group()),
        "max_active_runs": dag.max_active_runs,
        "catchup": dag.catchup,
        "timezone": str(dag.timetable.timezone) if hasattr(dag.timetable, "timezone") else None,
        "params": {name: dag.params.get_param(name).value for name in dag.params},
        "retries": {t.task_id: t.retries for t in dag.tasks},
        "backoff": {t.task_id: float(t.retry_exponential_backoff) for t in dag.tasks},
        "task_callback": type(callback).__name__,
        "task_callback_to": getattr(callback, "to", None),
        "dag_callbacks": [type(c).__name__ for c in (dag.on_failure_callback if isinstance(
            dag.on_failure_callback, list) else [dag.on_failure_callback]) if c],
        "email_on_failure": [t.task_id for t in dag.tasks if t.email_on_failure and t.email],
        "trigger_rules": {t.task_id: getattr(t.trigger_rule, "value", str(t.trigger_rule)) for t in dag.tasks},
        "doc_md": dag.doc_md or "",
        "next_after_january": interval(after_january),
        "next_run_after": after_january.run_after.isoformat(),
        "manual_in_march": interval(timetable.infer_manual_data_interval(run_after=datetime(2026, 3, 10, tzinfo=UTC))),
        "backfill": [interval(info) for info in backfill],
    })
    return out


def _run(logical_date: str | None, conf: dict[str, Any] | None) -> dict[str, Any]:
    """One ``dag.test()`` run; the states of its task instances and decide_holds' result."""
    from datetime import datetime

    from airflow.dag_processing.dagbag import DagBag
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    bag = DagBag(dag_folder=str(REPO / "dags"))
    if bag.import_errors:
        return {"import_errors": {str(k): str(v) for k, v in bag.import_errors.items()}}
    dag = bag.dags[DAG_ID]
    when = datetime.fromisoformat(logical_date) if logical_date else None
    dag_run = dag.test(logical_date=when, run_conf=conf) if when else dag.test(run_conf=conf)
    with create_session() as session:
        tis = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == DAG_ID,
                                                         TaskInstance.run_id == dag_run.run_id)).all()
        states = {f"{ti.task_id}[{ti.map_index}]": str(ti.state) for ti in tis}
        labels = {f"{ti.task_id}[{ti.map_index}]": ti.rendered_map_index for ti in tis if ti.map_index >= 0}
        holds = session.scalars(select(XComModel.value).where(
            XComModel.dag_id == DAG_ID, XComModel.run_id == dag_run.run_id,
            XComModel.task_id == "decide_holds", XComModel.key == "return_value")).first()
    lake = Path(os.environ["FORCEPROFILES_LAKE"]) if os.environ.get("FORCEPROFILES_LAKE") else None
    return {
        # What the lake looked like right after this run (to check what a later run changes).
        "lake_sha256": _lake_hashes(lake) if lake and lake.is_dir() else {},
        "run_id": dag_run.run_id,
        "state": str(dag_run.state),
        "data_interval": [dag_run.data_interval_start.isoformat() if dag_run.data_interval_start else None,
                          dag_run.data_interval_end.isoformat() if dag_run.data_interval_end else None],
        "task_states": states,
        "map_labels": labels,
        "holds": json.loads(holds) if isinstance(holds, str) else holds,
    }


def _notify() -> dict[str, Any]:
    """Fire the DAG's task-level and DAG-level failure notifiers with a representative context."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags")).dags[DAG_ID]
    context: dict[str, Any] = {
        "dag": dag, "run_id": "scheduled__2026-02-02T06:00:00+00:00",
        "data_interval_start": datetime(2026, 2, 2, 6, tzinfo=UTC),
        "data_interval_end": datetime(2026, 3, 2, 6, tzinfo=UTC),
    }
    task_callbacks = dag.get_task("ingest_feed.extract").on_failure_callback
    task_callbacks = task_callbacks if isinstance(task_callbacks, list) else [task_callbacks]
    dag_callbacks = dag.on_failure_callback if isinstance(dag.on_failure_callback, list) else [dag.on_failure_callback]
    ti = SimpleNamespace(task_id="ingest_feed.extract", map_index=7, try_number=3,
                         log_url="http://localhost:8080/log")
    for callback in task_callbacks:
        callback({**context, "ti": ti})
    for callback in dag_callbacks:
        callback(dict(context))
    return {"task_callbacks": len(task_callbacks), "dag_callbacks": len(dag_callbacks)}


def _lake_hashes(lake: Path) -> dict[str, str]:
    """sha256 of every file in the lake, by path relative to it."""
    return {path.relative_to(lake).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(lake.rglob("*")) if path.is_file()}


def _subprocess_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("inspect")
    commands.add_parser("notify")
    run = commands.add_parser("run")
    run.add_argument("--logical-date", action="append", default=[],
                     help="ISO datetime; repeat for several runs in order")
    run.add_argument("--conf", default=None, help="run conf (params) as JSON")
    args = parser.parse_args(argv)
    if args.command == "inspect":
        result: Any = _inspect()
    elif args.command == "notify":
        result = _notify()
    else:
        conf = json.loads(args.conf) if args.conf else None
        result = [_run(date, conf) for date in (args.logical_date or [None])]
    print(RESULT_MARK + json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    sys.exit(_subprocess_main(sys.argv[1:]))


# ============================================================================================
# The pytest side.
# ============================================================================================

import pytest  # noqa: E402  (the subprocess side above must not need pytest)


def _call(env: dict[str, str], *args: str, timeout: int = 600) -> Any:
    """Run this file as the Airflow subprocess and return its JSON result."""
    done = subprocess.run([sys.executable, __file__, *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=timeout)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if done.returncode != 0 or not lines:
        raise AssertionError(f"airflow subprocess {args} failed (exit {done.returncode}):\n"
                             f"--- stdout (tail)\n{done.stdout[-6000:]}\n--- stderr (tail)\n{done.stderr[-6000:]}")
    return json.loads(lines[-1][len(RESULT_MARK):])


def _airflow(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "airflow", *args], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, f"airflow {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment of an isolated Airflow: its own home and SQLite DB, migrated, with the pool."""
    home = tmp_path_factory.mktemp("airflow_home")
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_", "AIRFLOW_CTX_"))}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        # Failure alerts go to a local address; nothing listens there in tests.
        "AIRFLOW_CONN_SMTP_DEFAULT": "smtp://127.0.0.1:8025",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])),
    })
    _airflow(env, "db", "migrate")
    _airflow(env, "pools", "set", WAREHOUSE_POOL, "1", "single writer of the DuckDB warehouse")
    return env


@pytest.fixture(scope="session")
def dag_info(airflow_env: dict[str, str]) -> dict[str, Any]:
    return _call(airflow_env, "inspect")


# -------------------------------------------------------------------------------------------
# (a) import, shape and schedule
# -------------------------------------------------------------------------------------------

def test_dag_imports_without_errors(dag_info: dict[str, Any]) -> None:
    assert dag_info["import_errors"] == {}
    assert DAG_ID in dag_info["dag_ids"]


def test_dag_shape(dag_info: dict[str, Any]) -> None:
    assert dag_info["task_ids"] == ["build_warehouse", "decide_holds", "distribute", "ingest_feed.extract",
                                    "ingest_feed.validate", "plan", "plan_products", "render", "summarise",
                                    "write_manifest"]
    assert dag_info["upstream"]["build_warehouse"] == ["decide_holds"]
    assert dag_info["upstream"]["render"] == ["plan_products"]
    assert dag_info["upstream"]["distribute"] == ["render", "write_manifest"]
    assert {"render", "distribute"} <= set(dag_info["mapped"])
    # the run summary goes to the data team whatever happened to the products
    assert dag_info["trigger_rules"]["summarise"] == "all_done"
    assert dag_info["upstream"]["ingest_feed.extract"] == ["plan"]
    assert dag_info["upstream"]["ingest_feed.validate"] == ["ingest_feed.extract"]
    assert set(dag_info["upstream"]["decide_holds"]) == {"plan", "ingest_feed.validate"}
    assert {"ingest_feed.extract", "ingest_feed.validate"} <= set(dag_info["mapped"])
    # decide_holds must run (and hold the broken forces) even when some feeds failed.
    assert dag_info["trigger_rules"]["decide_holds"] == "all_done"


def test_dag_run_policy(dag_info: dict[str, Any]) -> None:
    assert dag_info["max_active_runs"] == 1
    assert dag_info["catchup"] is False
    assert dag_info["params"] == {"report_month": None, "forces": None}
    assert all(retries >= 1 for retries in dag_info["retries"].values())
    assert all(backoff > 1 for backoff in dag_info["backoff"].values())
    assert dag_info["task_callback"] == "SmtpNotifier"
    assert dag_info["task_callback_to"] == "data-team@force-profiles.example"
    assert dag_info["dag_callbacks"] == ["SmtpNotifier"]
    assert dag_info["email_on_failure"] == []
    for words in ("held", "backfill", "report_month", "quarantine", WAREHOUSE_POOL):
        assert words in dag_info["doc_md"]


def test_schedule_covers_the_previous_calendar_month(dag_info: dict[str, Any]) -> None:
    # After January 2026, the scheduler's next run covers February and starts on 2 March, 06:00 London.
    nxt = dag_info["next_after_january"]
    assert nxt == {"start": "2026-02-02T06:00:00+00:00", "end": "2026-03-02T06:00:00+00:00", "month": "2026-02"}
    assert dag_info["next_run_after"] == "2026-03-02T06:00:00+00:00"
    # A manual trigger on 10 March (no report_month) covers February too.
    assert dag_info["manual_in_march"]["month"] == "2026-02"


def test_backfill_january_to_april_gives_exactly_january_to_april(dag_info: dict[str, Any]) -> None:
    backfill = dag_info["backfill"]
    assert [b["month"] for b in backfill] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    # London time: 06:00 GMT, then 06:00 BST (05:00 UTC) once the clocks change in late March.
    assert backfill[3]["start"] == "2026-04-02T05:00:00+00:00"
    # Consecutive, non-overlapping intervals.
    assert all(a["end"] == b["start"] for a, b in zip(backfill, backfill[1:]))


def test_failure_alerts_email_the_data_team(airflow_env: dict[str, str]) -> None:
    """The SMTP notifiers render (no undefined template variables) and really send mail."""
    import socket

    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self) -> None:
            self.messages: list[Any] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
            self.messages.append(envelope)
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        env = dict(airflow_env)
        env["AIRFLOW_CONN_SMTP_DEFAULT"] = f"smtp://127.0.0.1:{port}?disable_tls=true&disable_ssl=true"
        result = _call(env, "notify")
    finally:
        controller.stop()
    assert result == {"task_callbacks": 1, "dag_callbacks": 1}
    assert len(sink.messages) == 2
    assert all(m.rcpt_tos == ["data-team@force-profiles.example"] for m in sink.messages)
    task_mail, run_mail = (_parse_mail(m.content) for m in sink.messages)
    assert "ingest_feed.extract failed" in task_mail["subject"]
    assert "map index 7" in task_mail["body"] and "2026-02-02" in task_mail["body"]
    assert "the run failed" in run_mail["subject"]


def _parse_mail(raw: bytes) -> dict[str, str]:
    import email
    from email import policy

    message = email.message_from_bytes(raw, policy=policy.default)
    body = message.get_body(preferencelist=("html", "plain"))
    return {"subject": str(message["subject"]), "body": body.get_content() if body else ""}


# -------------------------------------------------------------------------------------------
# (b), (c) real runs with dag.test()
# -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """This module's own throwaway database (overrides conftest's shared one: another test's
    world loaded into the same force schemas would replace this one's months)."""
    from conftest import throwaway_database

    yield from throwaway_database("fp_dag")


@pytest.fixture(scope="module")
def airflow_world(tmp_path_factory: pytest.TempPathFactory, postgres_database: str) -> Path:
    """Essex (file drop) and Kent (PostgreSQL) for January to March 2026, at a small scale."""
    from forceprofiles.synth.world import WorldSpec
    from forceprofiles.synth.writer import generate_world

    out = tmp_path_factory.mktemp("airflow_world")
    spec = WorldSpec(forces=FORCES, start=MONTHS[0], end=MONTHS[-1], scale=0.005, seed=11)
    generate_world(spec, out, postgres_dsn=postgres_database)
    assert not (out / "landing" / "kent").exists(), "kent must come from PostgreSQL, not a file drop"
    return out


@pytest.fixture(scope="module")
def mail_sink() -> Iterator[Any]:
    """A real SMTP server on loopback for the runs' product emails (and the run summaries)."""
    from forceprofiles.distribute.sink import start_sink

    controller, handler = start_sink()
    handler.port = controller.port
    yield handler
    controller.stop()


def _run_env(airflow_env: dict[str, str], world: Path, lake: Path, postgres_dsn: str,
             mail_sink: Any = None) -> dict[str, str]:
    from forceprofiles.distribute.recipients import load_recipients

    env = dict(airflow_env)
    env.update({
        "FORCEPROFILES_LANDING": str(world / "landing"),
        "FORCEPROFILES_LAKE": str(lake),
        "FORCEPROFILES_WAREHOUSE": str(lake.parent / f"{lake.name}_warehouse" / "force_profiles.duckdb"),
        "FORCEPROFILES_CENTRAL": str(world / "central"),
        "FORCEPROFILES_OUT": str(lake.parent / f"{lake.name}_out"),
        "FORCEPROFILES_LEDGER": str(lake.parent / f"{lake.name}_ledger.sqlite"),
        "FORCEPROFILES_DISCLOSURE_LOG": str(lake.parent / f"{lake.name}_disclosures.sqlite"),
        "AIRFLOW_CONN_FP_FORCE_KENT": postgres_dsn,
    })
    if mail_sink is not None:
        env["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": mail_sink.port,
            "extra": {"disable_ssl": True, "disable_tls": True, "retry_limit": 0, "timeout": 10}})
        # The group passwords, as Airflow Variables (AIRFLOW_VAR_*), never in the repository.
        for group in load_recipients().all_groups():
            env[f"AIRFLOW_VAR_FP_SECRET_{group.secret.upper()}"] = f"test-password-{group.secret}"
    env.pop("FORCEPROFILES_POSTGRES_DSN", None)  # kent must be read through the Airflow connection
    return env


def _london_run_after(month: str) -> str:
    """The logical date dag.test() needs so that its data interval is ``month`` (06:00 on the 2nd of M+1)."""
    year, number = (int(part) for part in month.split("-"))
    year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    offset = "+01:00" if 4 <= number <= 10 else "+00:00"  # BST from the last Sunday of March
    return f"{year:04d}-{number:02d}-02T06:00:00{offset}"


def _assert_all_succeeded(run: dict[str, Any]) -> None:
    assert "import_errors" not in run, run
    failed = {task: state for task, state in run["task_states"].items() if state != "success"}
    assert run["state"] == "success" and not failed, failed


def _assert_month_in_lake(lake: Path, month: str, forces: tuple[str, ...] = FORCES) -> dict[str, Any]:
    """Raw data for every force, and a manifest whose rows add up for every force/feed/entity."""
    from forceprofiles.contract import FEEDS

    for force_id in forces:
        raw = list((lake / "raw").glob(f"*/force={force_id}/month={month}/*.parquet"))
        assert raw, f"no raw data for {force_id} {month}"
    manifest_path = lake / "manifests" / month / "run.json"
    assert manifest_path.is_file(), f"no run manifest for {month}"
    manifest = json.loads(manifest_path.read_text())
    assert manifest["month"] == month and manifest["forces"] == list(forces)
    assert {(r["force_id"], r["feed"]) for r in manifest["results"]} == {(f, feed) for f in forces for feed in FEEDS}
    entities = 0
    for result in manifest["results"]:
        assert result["month"] == month
        for entity, read in result["rows_read"].items():
            assert read == result["rows_landed"][entity] + result["rows_quarantined"][entity], result
            entities += 1
    assert entities >= len(forces) * len(FEEDS)
    assert manifest["totals"]["rows_read"] > 0 and manifest["accounting_ok"] is True
    return manifest


def _of_month(hashes: dict[str, str], month: str) -> dict[str, str]:
    """The files of a lake snapshot that belong to ``month``."""
    return {path: digest for path, digest in hashes.items()
            if f"month={month}/" in path or f"/{month}/" in f"/{path}"}


@pytest.mark.postgres
@pytest.mark.slow
def test_dag_run_ingests_a_file_drop_force_and_a_postgres_force(
        airflow_env: dict[str, str], airflow_world: Path, postgres_database: str, tmp_path: Path,
        mail_sink: Any) -> None:
    """A manual trigger with report_month and forces: both forces land, the manifest adds up,
    both forces' four products are rendered and emailed, and the data team gets the summary."""
    lake = tmp_path / "lake"
    env = _run_env(airflow_env, airflow_world, lake, postgres_database, mail_sink)
    before = len(mail_sink.messages)
    conf = json.dumps({"report_month": "2026-02", "forces": list(FORCES)})
    [run] = _call(env, "run", "--logical-date", _london_run_after("2026-02"), "--conf", conf)
    _assert_all_succeeded(run)
    assert len([t for t in run["task_states"] if t.startswith("ingest_feed.extract[")]) == len(FORCES) * 5
    assert "kent/crime" in run["map_labels"].values()
    _assert_month_in_lake(lake, "2026-02")
    assert set(run["holds"]["decisions"]) == set(FORCES)
    # Only February was touched.
    assert not list(lake.rglob("month=2026-01")) and not list(lake.rglob("month=2026-03"))
    # Stage 4: four products per force, and the month's manifest.
    out = Path(env["FORCEPROFILES_OUT"]) / "2026-02"
    manifest = json.loads((out / "manifest.json").read_text())
    assert {(p["force_id"], p["product"]) for p in manifest["products"]} == {
        (f, p) for f in FORCES for p in ("missing-strategic", "missing-tactical", "vawg-strategic", "vawg-tactical")}
    assert all((out.parent / p["path"]).read_bytes().startswith(b"%PDF") for p in manifest["products"])
    assert len([t for t in run["task_states"] if t.startswith("render[")]) == 8
    # Stage 5: every product went to its force's own groups only, encrypted; one run summary.
    sent = mail_sink.messages[before:]
    summaries = [m for m in sent if m.rcpt_tos == ("data-team@force-profiles.example",)]
    assert len(summaries) == 1
    products = [m for m in sent if m not in summaries]
    assert products, "no product was emailed"
    for message in products:
        attachment = next(part for part in message.message().iter_attachments())
        name = attachment.get_filename()
        force = next(f for f in FORCES if f in name)
        assert name.endswith(".zip")
        if "tactical" in name:  # need to know: a tactical product stays inside its force
            assert all(address.endswith(f"@{force}.police.example") for address in message.rcpt_tos), name


@pytest.mark.postgres
@pytest.mark.slow
def test_dag_backfill_lands_each_month_and_a_rerun_touches_only_its_month(
        airflow_env: dict[str, str], airflow_world: Path, postgres_database: str, tmp_path: Path,
        mail_sink: Any) -> None:
    """Three scheduled-style runs (data intervals January, February, March), then February again.

    Kent only (its extracts come month by month out of one PostgreSQL schema, the case where a
    wrong month would most easily leak in), to keep the four runs quick.
    """
    lake = tmp_path / "lake"
    env = _run_env(airflow_env, airflow_world, lake, postgres_database, mail_sink)
    mail_before = len(mail_sink.messages)
    # No report_month: the month comes from each run's data interval, as for a scheduled or
    # backfill run. `forces` limits the runs to one force (default: all nine). The fourth run
    # reruns February, in a second subprocess so that February's first products can be kept to
    # compare with the rerun's (Airflow and GX start once per subprocess).
    conf = json.dumps({"forces": ["kent"]})
    dates = [_london_run_after(month) for month in MONTHS]
    runs = _call(env, "run", *[arg for date in dates for arg in ("--logical-date", date)], "--conf", conf,
                 timeout=1800)
    out = Path(env["FORCEPROFILES_OUT"])
    first_february = {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "2026-02").rglob("*.pdf"))}
    assert len(first_february) == 4, sorted(first_february)
    runs += _call(env, "run", "--logical-date", dates[1], "--conf", conf, timeout=900)
    for run, month in zip(runs, [*MONTHS, MONTHS[1]]):
        _assert_all_succeeded(run)
        assert run["holds"]["month"] == month
        _assert_month_in_lake(lake, month, forces=("kent",))

    before, after = runs[2]["lake_sha256"], runs[3]["lake_sha256"]
    for month in ("2026-01", "2026-03"):
        assert _of_month(before, month) and _of_month(after, month) == _of_month(before, month)
    # The rerun month is reproduced exactly, apart from the run manifest (it records its run).
    february = {k: v for k, v in _of_month(before, "2026-02").items() if not k.startswith("manifests/")}
    assert february and {k: after.get(k) for k in february} == february
    assert set(after) == set(before)  # nothing added or left behind
    assert sorted(p.name for p in out.iterdir()) == list(MONTHS)
    # The backfill of February, after March has loaded, renders the same bytes as its first run.
    changed = [path for path, pdf in first_february.items() if (out / path).read_bytes() != pdf]
    assert not changed, "February's products changed on the rerun:\n" + "\n".join(
        f"{path}: {_first_text_difference(first_february[path], (out / path).read_bytes())}" for path in changed)
    # ... and so the ledger emailed nothing again: each product once to each recipient, no revision.
    product_mail = [m for m in mail_sink.messages[mail_before:] if "data-team@" not in m.rcpt_tos[0]]
    deliveries = [(str(m.message()["subject"]), m.rcpt_tos) for m in product_mail]
    assert deliveries and len(deliveries) == len(set(deliveries)), "a product was emailed twice to someone"
    assert not [subject for subject, _ in deliveries if "Revision" in subject]


def _first_text_difference(old: bytes, new: bytes) -> str:
    """Where two renders of a product first differ in their extracted text (for the failure message)."""
    import difflib
    import io

    from pypdf import PdfReader

    texts = [[page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages] for pdf in (old, new)]
    if len(texts[0]) != len(texts[1]):
        return f"{len(texts[0])} pages, then {len(texts[1])}"
    for number, (a, b) in enumerate(zip(*texts), start=1):
        if a != b:
            diff = [line for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
                    if line[:1] in "+-" and line[:3] not in ("+++", "---")]
            return f"page {number}: " + " | ".join(diff[:8])
    return "same text, different bytes (layout, fonts or metadata)"
