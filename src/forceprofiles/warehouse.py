"""Stage 3, build: the DuckDB warehouse for one report month (dbt, person resolution, dbt).

The warehouse is a dbt project (``dbt_project/``) on DuckDB. Person resolution runs in Python
between its layers, in the same process, because a DuckDB file has a single writer:

1. ``dbt build`` of the seeds, staging and intermediate models (with their data tests):
   every lake entity as at the report month, and ``int_person_records``, the person records
   person resolution works on;
2. person resolution writes ``main.person_clusters(record_id, person_key, match_probability)``:
   the ``resolve_persons`` callable when given (Splink), else :func:`baseline_person_clusters`;
3. ``dbt build`` of the marts (and the tests on ``person_clusters``): the products' tables,
   one row set per report month.

dbt and Python never hold the file at the same time: dbt's DuckDB connection is closed after
each dbt step, and the Python connection is closed before the next one.

Idempotence and "as at": staging keeps only lake partitions up to the report month and record
versions written before its end, so building month M gives the same result whenever it runs,
even after later months have loaded. The marts are incremental with one row set per
``report_month``; rebuilding a month deletes its rows and inserts the new ones (the custom
``overwrite_report_month`` strategy, ``dbt_project/macros/overwrite_report_month.sql``) and
never touches another month, so the marts keep the month-by-month history. Staging and
intermediate tables are rebuilt whole on every run (they hold the last month built).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from forceprofiles import settings
from forceprofiles.memory import memory_limit, share_of_memory
from forceprofiles.scoring_config import scoring_vars

log = logging.getLogger(__name__)

DBT_PROJECT_ENV = "FORCEPROFILES_DBT_PROJECT"
PERSON_CLUSTERS = "main.person_clusters"
# DuckDB's memory limit for the build (dbt's connection reads it from the profile, the person
# resolution's from duckdb_config()): without one DuckDB takes up to 80% of the machine; with it,
# big joins and sorts spill to a temporary folder beside the warehouse instead.
MEMORY_ENV = "FORCEPROFILES_DUCKDB_MEMORY"
# Without the variable: a quarter of the memory the process may use (forceprofiles.memory),
# 6GB on a 24 GiB machine. DuckDB keeps what it is allowed and the process needs some 0.5 to
# 1 GiB beyond it, so the build's peak follows the limit: at a third (8GB) the nine forces'
# 36-month build peaked at 7.9 to 8.2 GiB, at 6GB at 6.2 GiB in the same time. A fixed 4GB ran
# out of memory at national volume (43 forces, 6 months); see docs/benchmarks.md for the
# national build at 6GB. The rest is left to Splink's own DuckDB
# (linkage.LINKAGE_MEMORY_SHARE), Python and the worker's other tasks.
MEMORY_SHARE = 1 / 4
# dbt's unit tests check the models' logic on fixed fixtures, not the month's data, so they
# cannot fail in production where CI passed on the same commit (dbt Labs runs them in
# development and CI only). The monthly build leaves them out (--exclude-resource-type
# unit_test); the test suite's builds, and a build with this variable set to 1, run them.
UNIT_TESTS_ENV = "FORCEPROFILES_DBT_UNIT_TESTS"
# How many of a dbt step's nodes its summary names as the slowest (benchmarks/monthly_run.py).
SLOWEST_NODES = 12


def duckdb_config() -> dict[str, str]:
    """The DuckDB settings of the build's connections: ``$FORCEPROFILES_DUCKDB_MEMORY`` as given
    (DuckDB's units: ``8GB``, ``6GiB``), else :func:`default_memory_limit`."""
    return {"memory_limit": memory_limit(MEMORY_ENV, MEMORY_SHARE)}


def wants_unit_tests(asked: bool | None) -> bool:
    """Whether a build runs dbt's unit tests: as the caller asks, else ``$FORCEPROFILES_DBT_UNIT_TESTS=1``."""
    return asked if asked is not None else os.environ.get(UNIT_TESTS_ENV, "").strip() == "1"


def default_memory_limit(available_bytes: int | None = None) -> str:
    """:data:`MEMORY_SHARE` of the memory available (:func:`forceprofiles.memory.share_of_memory`)."""
    return share_of_memory(MEMORY_SHARE, available_bytes)


PERSON_CLUSTER_COLUMNS: tuple[str, ...] = ("record_id", "person_key", "match_probability")

# What each dbt step builds. Step 1 runs a test only when all its parents are selected ("cautious"
# indirect selection: a mart's relationship test to a seed waits for the mart) and leaves out
# everything downstream of the person_clusters source, not written yet (dbt's cautious mode does
# not count sources as parents): the tests that read it, such as "every person record is
# resolved". Step 2 selects the marts and that source; their tests run then.
BEFORE_RESOLUTION: tuple[str, ...] = ("resource_type:seed", "path:models/staging", "path:models/intermediate")
BEFORE_RESOLUTION_EXCLUDE: tuple[str, ...] = ("source:resolution+",)
AFTER_RESOLUTION: tuple[str, ...] = ("path:models/marts", "source:resolution+")

_FAILED_STATUSES = {"error", "fail", "runtime error"}
_BUILD_LOCK = threading.Lock()  # dbt runs in-process and is not re-entrant

ResolvePersons = Callable[[duckdb.DuckDBPyConnection], None]


class WarehouseBuildError(RuntimeError):
    """A dbt step or person resolution failed; ``failures`` names the failing nodes."""

    def __init__(self, step: str, message: str, failures: Sequence[dict[str, str]] = ()):
        self.step = step
        self.failures = list(failures)
        lines = [f"warehouse build failed in step '{step}': {message}"]
        lines += [f"  - {f['node']} ({f['status']}): {f['message']}" for f in self.failures]
        super().__init__("\n".join(lines))


def dbt_project_dir() -> Path:
    """The dbt project: ``$FORCEPROFILES_DBT_PROJECT``, else ``<project home>/dbt_project``."""
    value = os.environ.get(DBT_PROJECT_ENV, "").strip()
    return Path(value).expanduser() if value else settings.project_home() / "dbt_project"


def dbt_vars(month: str, *, lake_root: Path, central_root: Path | None = None) -> dict[str, Any]:
    """The dbt vars of a build (absolute paths: dbt resolves relative ones from its own cwd), with
    the scoring profiles (``profiles/vawg.yml`` and friends) as vars of their own names."""
    return {
        "report_month": _check_month(month),
        "lake_root": str(Path(lake_root).resolve()),
        "central_root": str(Path(central_root).resolve()) if central_root is not None else "",
        **scoring_vars(),
    }


def build_warehouse(
    month: str,
    *,
    lake_root: Path,
    warehouse_path: Path,
    central_root: Path | None = None,
    resolve_persons: ResolvePersons | None = None,
    quiet: bool = True,
    unit_tests: bool | None = None,
) -> dict[str, Any]:
    """Build the warehouse as at ``month`` (YYYY-MM): dbt, person resolution, dbt.

    ``lake_root`` is the lake the extract and validate stages wrote; ``central_root`` the central
    platform's Parquet files (None: no central platform, its staging models are empty).
    ``resolve_persons(conn)`` must write ``main.person_clusters(record_id, person_key,
    match_probability)`` covering every ``main.int_person_records.record_id``; without it the
    exact-match baseline (:func:`baseline_person_clusters`) is used. The previous build's
    ``person_clusters`` is still there when the resolver runs, but the Splink resolver does not
    read it (keys are anchored on each person's earliest record, so they do not depend on which
    months were built before); the marts step's tests check that the table covers exactly this build's person
    records, so a resolver that leaves a stale table fails the build. ``quiet`` keeps dbt's
    progress lines off stdout; dbt's log and compiled SQL go to ``<warehouse stem>_dbt/`` next
    to the warehouse file. ``unit_tests`` runs dbt's unit tests too (None: only when
    ``$FORCEPROFILES_DBT_UNIT_TESTS`` is 1, see :data:`UNIT_TESTS_ENV`); data tests always run.

    Returns a JSON-able summary: the month, the warehouse file, which resolution ran, per dbt
    step the count of nodes by status, how many were unit tests, the seconds taken and where
    they went (:func:`node_seconds`), and the rows each mart holds for the month. Raises
    :class:`WarehouseBuildError` naming the failing models and tests.
    """
    month = _check_month(month)
    warehouse_path = Path(warehouse_path).resolve()
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    project = dbt_project_dir()
    variables = dbt_vars(month, lake_root=lake_root, central_root=central_root)
    artifacts = warehouse_path.with_name(warehouse_path.stem + "_dbt")
    common = ["--project-dir", str(project), "--profiles-dir", str(project), "--target", "local",
              "--vars", json.dumps(variables), "--target-path", str(artifacts / "target"),
              "--log-path", str(artifacts / "logs"), "--log-level-file", "info", "--no-write-json"]
    if quiet:
        common.append("--quiet")
    unit_tests = wants_unit_tests(unit_tests)

    summary: dict[str, Any] = {"month": month, "warehouse": str(warehouse_path), "steps": []}
    # One memory limit for both: dbt's profile reads it from the environment, the person
    # resolution's connection takes it below.
    config = duckdb_config()
    environment = {settings.WAREHOUSE_ENV: str(warehouse_path), MEMORY_ENV: config["memory_limit"]}
    with _BUILD_LOCK, _environment(environment):
        from dbt.cli.main import dbtRunner

        started = time.monotonic()
        parsed = dbtRunner().invoke(["parse", *common])
        if not parsed.success:
            raise WarehouseBuildError("parse", _exception_text(parsed))
        runner = dbtRunner(manifest=parsed.result)
        log.info("warehouse %s: dbt project parsed in %.1fs", month, time.monotonic() - started)

        summary["steps"].append(_dbt_build(runner, common, BEFORE_RESOLUTION, "staging+intermediate",
                                           exclude=BEFORE_RESOLUTION_EXCLUDE, indirect_selection="cautious",
                                           unit_tests=unit_tests))

        started = time.monotonic()
        conn = duckdb.connect(str(warehouse_path), config=config)
        try:
            # What a Splink resolver records of its settings; the baseline has none, and a
            # previous build's must not describe this one.
            conn.execute("drop table if exists main.person_resolution_settings")
            if resolve_persons is not None:
                resolve_persons(conn)
                summary["person_resolution"] = getattr(resolve_persons, "__name__", "custom")
            else:
                baseline_person_clusters(conn)
                summary["person_resolution"] = "baseline"
            summary["person_clusters"] = _check_person_clusters(conn)
        except WarehouseBuildError:
            raise
        except Exception as error:
            raise WarehouseBuildError("person resolution", f"{type(error).__name__}: {error}") from error
        finally:
            conn.close()
        log.info("warehouse %s: person resolution (%s) in %.1fs", month, summary["person_resolution"],
                 time.monotonic() - started)

        marts_step = _dbt_build(runner, common, AFTER_RESOLUTION, "marts", unit_tests=unit_tests)
        summary["steps"].append(marts_step)

    summary["marts"] = mart_row_counts(warehouse_path, month, marts_step.pop("models"))
    for step in summary["steps"]:
        step.pop("models", None)
    log.info("warehouse %s built: %s", month, json.dumps(summary["marts"]))
    return summary


def baseline_person_clusters(conn: duckdb.DuckDBPyConnection) -> None:
    """Write ``main.person_clusters`` by exact matching: the baseline that Splink replaces.

    Deterministic and explainable, and kept on purpose: it is the fallback when no resolver is
    configured and the floor that Splink's precision and recall are measured against.

    - A record with a valid PNC ID (check letter verified, normalised to the long form in
      staging) belongs to that PNC ID's person.
    - Otherwise, a record with surname, first forename and date of birth belongs to the person
      with exactly that (lower-cased, accent- and punctuation-free) surname, first forename and
      date of birth. If records with that same name and date of birth carry exactly one PNC ID,
      the record joins that PNC ID's person (an unambiguous exact match).
    - Otherwise the record is a person on its own.

    No spelling variants, nicknames, swapped days and months or typo-ed identifiers are
    forgiven: that is Splink's job. ``person_key`` is a hash of the evidence (the PNC ID or the
    name and date of birth), so it is stable from month to month and carries no personal data;
    ``match_probability`` is 1.0.
    """
    conn.execute(f"""
        create or replace table {PERSON_CLUSTERS} as
        with keyed as (
            select
                record_id,
                case when pnc_id is not null then 'pnc|' || pnc_id end as pnc_evidence,
                case
                    when surname_std is not null and forename_std is not null and date_of_birth is not null
                    then 'name|' || surname_std || '|' || forename_std || '|' || strftime(date_of_birth, '%Y-%m-%d')
                end as name_evidence
            from main.int_person_records
        ),
        name_to_pnc as (
            select name_evidence, min(pnc_evidence) as pnc_evidence
            from keyed
            where name_evidence is not null and pnc_evidence is not null
            group by name_evidence
            having count(distinct pnc_evidence) = 1
        ),
        resolved as (
            select
                keyed.record_id,
                coalesce(keyed.pnc_evidence, name_to_pnc.pnc_evidence, keyed.name_evidence,
                         'record|' || keyed.record_id) as evidence
            from keyed
            left join name_to_pnc using (name_evidence)
        )
        select
            record_id,
            'bp-' || substr(md5(evidence), 1, 16) as person_key,
            cast(1.0 as double) as match_probability
        from resolved
        order by record_id
    """)


def mart_row_counts(warehouse_path: Path, month: str, models: Sequence[str]) -> dict[str, int]:
    """Rows each mart holds for ``month`` (read-only; the build is over)."""
    counts: dict[str, int] = {}
    if not models:
        return counts
    conn = duckdb.connect(str(warehouse_path), read_only=True)
    try:
        for name in sorted(models):
            row = conn.execute(f'select count(*) from main."{name}" where report_month = ?', [month]).fetchone()
            counts[name] = int(row[0]) if row else 0
    finally:
        conn.close()
    return counts


# --------------------------------------------------------------------------------------------


def _dbt_build(runner: Any, common: list[str], select: Sequence[str], step: str, *,
               unit_tests: bool, exclude: Sequence[str] = (), indirect_selection: str = "eager") -> dict[str, Any]:
    """One ``dbt build``; the step's summary, or WarehouseBuildError naming the failed nodes."""
    started = time.monotonic()
    args = ["build", *common, "--select", *select, "--indirect-selection", indirect_selection]
    if exclude:
        args += ["--exclude", *exclude]
    if not unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    try:
        result = runner.invoke(args)
    finally:
        _release_duckdb()
    seconds = round(time.monotonic() - started, 1)
    node_results = list(getattr(result.result, "results", None) or [])
    if result.exception is not None and not node_results:
        raise WarehouseBuildError(step, _exception_text(result))
    counts = Counter(str(r.status) for r in node_results)
    failures = [
        {"node": r.node.unique_id, "status": str(r.status), "message": _one_line(r.message)}
        for r in node_results if str(r.status) in _FAILED_STATUSES
    ]
    if failures or not result.success:
        skipped = counts.get("skipped", 0)
        message = f"{len(failures)} node(s) failed" if failures else _exception_text(result)
        if skipped:
            message += f", {skipped} skipped because of them"
        raise WarehouseBuildError(step, message, failures)
    # the month's marts (models under models/marts/, one row set per report_month); intermediate
    # models built in this step (those downstream of person resolution) are rebuilt whole
    models = sorted(r.node.name for r in node_results
                    if r.node.resource_type == "model" and "marts" in Path(str(r.node.original_file_path)).parts)
    unit_tests_run = sum(1 for r in node_results if r.node.resource_type == "unit_test")
    log.info("warehouse: dbt %s: %s (%d unit tests) in %.1fs", step, dict(counts), unit_tests_run, seconds)
    return {"step": step, "select": list(select), "counts": dict(sorted(counts.items())), "unit_tests": unit_tests_run,
            "seconds": seconds, **node_seconds(node_results), "models": models}


def node_seconds(node_results: Sequence[Any], slowest: int = SLOWEST_NODES) -> dict[str, Any]:
    """Where a dbt step's time went: seconds summed by kind of node, and the slowest nodes.

    dbt runs nodes on its threads side by side, so the sums are thread-seconds and add up to
    more than the step's wall time; they say whether the models or the data tests cost more at
    a given volume, which the step's wall time cannot.
    """
    by_kind: Counter[str] = Counter()
    timed = []
    for result in node_results:
        kind = "data_test" if result.node.resource_type == "test" else str(result.node.resource_type)
        seconds = float(result.execution_time)
        by_kind[kind] += seconds
        timed.append((seconds, kind, str(result.node.name)))
    timed.sort(key=lambda item: (-item[0], item[2]))
    return {"thread_seconds": {kind: round(total, 1) for kind, total in sorted(by_kind.items())},
            "slowest": [{"node": name, "kind": kind, "seconds": round(seconds, 2)}
                        for seconds, kind, name in timed[:slowest]]}


def _check_person_clusters(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """person_clusters exists with its columns; its row and person counts."""
    try:
        columns = [row[0] for row in conn.execute(f"describe {PERSON_CLUSTERS}").fetchall()]
    except duckdb.Error as error:
        raise WarehouseBuildError("person resolution", f"{PERSON_CLUSTERS} was not written: {error}") from error
    missing = [c for c in PERSON_CLUSTER_COLUMNS if c not in columns]
    if missing:
        raise WarehouseBuildError("person resolution", f"{PERSON_CLUSTERS} lacks column(s) {', '.join(missing)}")
    records, persons = conn.execute(f"select count(*), count(distinct person_key) from {PERSON_CLUSTERS}").fetchone()
    return {"records": int(records), "persons": int(persons)}


def _release_duckdb() -> None:
    """Make sure dbt-duckdb no longer holds the warehouse file open."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover - dbt-duckdb is a dependency
        return
    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        try:
            environment.close()
        except Exception:  # closing twice is harmless
            log.debug("closing dbt-duckdb's environment", exc_info=True)
    DuckDBConnectionManager.close_all_connections()


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _check_month(month: str) -> str:
    text = str(month)
    if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit() or not 1 <= int(text[5:]) <= 12:
        raise ValueError(f"month must be YYYY-MM, got {month!r}")
    return text


def _exception_text(result: Any) -> str:
    if result.exception is not None:
        return _first_line(str(result.exception), limit=2000)
    return "dbt reported failure"


def _first_line(text: Any, limit: int = 500) -> str:
    value = str(text or "").strip()
    first = value.splitlines()[0] if value else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _one_line(text: Any, limit: int = 800) -> str:
    """A dbt message on one line (dbt's first line is often only 'Runtime Error in ...')."""
    value = " | ".join(line.strip() for line in str(text or "").splitlines() if line.strip())
    return value if len(value) <= limit else value[: limit - 1] + "…"
