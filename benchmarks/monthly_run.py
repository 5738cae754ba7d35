"""Benchmark: the monthly run (S1 regional, S2 national) with wall time, CPU and peak memory per stage.

    .venv/bin/python benchmarks/monthly_run.py --scenario s1 --work var/bench      # 9 forces, scale 1.0, 36 months
    .venv/bin/python benchmarks/monthly_run.py --scenario s2 --work var/bench      # 43 forces, scale 1.0, 36 months
    .venv/bin/python benchmarks/monthly_run.py --forces all9 --scale 0.002 --months 4 --work /tmp/fpbench  # tiny

Preparation (cached in --work, timed and reported, NOT part of the monthly run): the synthetic
world (`forceprofiles synth`) and the history lake, i.e. every month but the last ingested
(extract + validate, two worker processes, as `forceprofiles run --history N` does). A fresh
world's history is ingested side by side with its synthesis, each month as soon as the synthesis
has written it (the two overlap on the two cores). A rerun with the same world arguments reuses
both; an interrupted history ingest resumes at the next month.

The monthly run is then timed for the world's last month, in a fresh run folder whose lake
links (symlinks) the prepared history partitions, with a fresh warehouse, ledger and disclosure
log. Each stage runs in its own child process, in the order and with the functions the Airflow
DAG uses (`forceprofiles.pipeline`):

    extract    extract_partition over every force x feed, 2 worker processes (the DAG's mapped tasks)
    validate   validate_partition over every force x feed, 2 workers, then finalise_month (holds,
               run manifest). ingest_month does extract+validate per partition in one call; the
               DAG runs them as separate tasks, and so does this benchmark, to time each.
    build      build_month: dbt staging+intermediate, Splink person resolution, dbt marts (scoring)
    render     render_one over plan_products (4 products a force not held), 2 worker processes,
               then write_products_manifest
    send       distribute_month and the run summary to a local aiosmtpd sink started by this
               script on 127.0.0.1 (FORCEPROFILES_SMTP_HOST/PORT), development passwords in the
               run folder, ledger and disclosure log in the run folder

Columns: wall s is the stage child's wall time seen from here (Python start-up and imports
included, as an Airflow task pays them); CPU s is user+system of the child and all its worker
processes (getrusage(RUSAGE_SELF) + getrusage(RUSAGE_CHILDREN) inside the child); peak RSS MiB is the
kernel's high-water mark of the largest single process of the stage (inside the child:
max(getrusage(RUSAGE_SELF), getrusage(RUSAGE_CHILDREN)).ru_maxrss), exact but per process; tree
MiB is a psutil sampler (every 0.2 s) of the RSS summed over the child and its workers, the
stage's footprint with two workers side by side (sampled, so a spike shorter than 0.2 s can be
missed; shared pages counted once per process).

Workarounds for what the pipeline API does not offer (src/ is not changed by this script):
- build_month returns dbt's per-step seconds but not person resolution's or dbt parse's: they
  are read from the log lines of forceprofiles.warehouse.
- profiles/recipients.yml lists only the nine forces; for any other force of the run a recipient
  file in the run folder gives it the same three groups as Norfolk on <force>.police.example,
  so that S2's send stage emails all 43 forces' products instead of skipping 34.
- Forces configured for PostgreSQL delivery (Kent, West Mercia) read their file drop here:
  FORCEPROFILES_POSTGRES_DSN is removed from the children's environment.

Prints a table and a JSON line (--json-out FILE writes the JSON too). Run it on an idle machine:
figures on a shared machine are upper bounds (the load average is recorded at start and end).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_END = "2026-10"
DEFAULT_SEED = 42
WORKERS = 2
RUN_STAGES = ("extract", "validate", "build", "render", "send")
SCENARIOS: dict[str, dict[str, Any]] = {
    "s1": {"forces": "all9", "scale": 1.0, "months": 36},
    "s2": {"forces": "national", "scale": 1.0, "months": 36},
}
CHILD_FLAG = "--stage-child"
# Environment the children must not inherit: another database, Airflow or SMTP route than ours.
DROPPED_ENV = ("FORCEPROFILES_POSTGRES_DSN", "FORCEPROFILES_SMTP_CONN_ID", "AIRFLOW_CTX_DAG_ID",
               "FORCEPROFILES_DEV_SECRETS")


# ============================================================================================
# The world and its prepared history lake (cached in --work)
# ============================================================================================

@dataclass(frozen=True)
class WorldKey:
    """The arguments that define a synthetic world: the same key is the same cached world."""

    forces: str
    scale: float
    months: int
    end: str = DEFAULT_END
    seed: int = DEFAULT_SEED

    def force_ids(self) -> tuple[str, ...]:
        """The world's force ids (all9, national or a comma-separated list)."""
        from forceprofiles.cli import resolve_forces

        return resolve_forces(self.forces)

    def month_list(self) -> list[str]:
        """The world's months, oldest first; the last is the monthly run's report month."""
        import pandas as pd

        end = pd.Period(self.end, freq="M")
        return [str(end - offset) for offset in range(self.months - 1, -1, -1)]

    def label(self) -> str:
        """A folder name for the cache (a long force list is hashed)."""
        plain = self.forces.replace(",", "+")
        forces = plain if re.fullmatch(r"[a-z0-9+-]{1,40}", plain) else \
            "f" + hashlib.sha256(self.forces.encode()).hexdigest()[:10]
        return f"{forces}-s{self.scale:g}-m{self.months}-{self.end}-seed{self.seed}"


@dataclass
class Prepared:
    """A prepared world: its folder, its history lake and what preparing it cost."""

    key: WorldKey
    root: Path
    timings: dict[str, Any] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)  # the parts this invocation did (not from the cache)

    @property
    def cached(self) -> bool:
        return not self.fresh

    @property
    def world(self) -> Path:
        return self.root / "world"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def state_file(self) -> Path:
        return self.root / "prepared.json"

    def history_done(self) -> list[str]:
        """Months already ingested into the history lake (written month by month by the child)."""
        path = self.root / "history_done.json"
        return list(json.loads(path.read_text())) if path.is_file() else []


def prepare(work: Path, key: WorldKey, *, log: Callable[[str], None] = print) -> Prepared:
    """Synthesise the world and ingest its history months, unless --work already holds them.

    Each part runs in a child process like a stage, so its wall, CPU and peak RSS are recorded;
    the figures of the run that did the work are kept in prepared.json and reported on reuse.
    """
    prepared = Prepared(key, Path(work).resolve() / "prepared" / key.label())
    prepared.root.mkdir(parents=True, exist_ok=True)
    if prepared.state_file.is_file():
        prepared.timings = json.loads(prepared.state_file.read_text())
    env = child_environment({"FORCEPROFILES_DISCLOSURE_LOG": str(prepared.root / "disclosures.sqlite"),
                             "FORCEPROFILES_LEDGER": str(prepared.root / "ledger.sqlite")})
    history = key.month_list()[:-1]
    missing = [m for m in history if m not in prepared.history_done()]
    need_synth = "synth" not in prepared.timings or not (prepared.world / "world.json").is_file()
    if need_synth:
        # A fresh world: the history months are ingested behind the synthesis, month by month as
        # each is complete, so the two overlap on the two cores instead of running one after the other.
        missing = history
        shutil.rmtree(prepared.world, ignore_errors=True)  # no stale month may look written
        shutil.rmtree(prepared.lake, ignore_errors=True)
        (prepared.root / "history_done.json").unlink(missing_ok=True)
        prepared.timings.pop("history", None)
    running: list[RunningStage] = []
    if need_synth:
        log(f"prepare {key.label()}: synth ({len(key.force_ids())} forces x {key.months} months, scale {key.scale:g})")
        cfg = {"world": str(prepared.world), "forces": list(key.force_ids()), "start": key.month_list()[0],
               "end": key.end, "scale": key.scale, "seed": key.seed}
        running.append(start_stage("synth", cfg, prepared.root / "stages", env))
    if missing:
        log(f"prepare {key.label()}: ingest {len(missing)} history month(s) ({missing[0]}..{missing[-1]}), "
            f"{WORKERS} workers{', each as soon as the synthesis has written it' if need_synth else ''}")
        cfg = {"world": str(prepared.world), "lake": str(prepared.lake), "forces": list(key.force_ids()),
               "months": missing, "done_file": str(prepared.root / "history_done.json"),
               "world_months": key.month_list()}
        running.append(start_stage("history", cfg, prepared.root / "stages", env))
    try:
        for stage in running:
            result = finish_stage(stage).as_json()
            if stage.stage == "history":
                result = _add_up(prepared.timings.get("history"), result)
            prepared.timings[stage.stage] = result
            prepared.fresh.add(stage.stage)
            _write_json(prepared.state_file, prepared.timings)
    finally:
        for stage in running:
            if stage.process.poll() is None:
                stage.process.kill()
    return prepared


def _add_up(before: dict[str, Any] | None, now: dict[str, Any]) -> dict[str, Any]:
    """The history ingest's cost over resumed runs: times add up, the peak is the larger one."""
    if not before:
        return now
    total = dict(now)
    for name in ("wall_s", "cpu_s"):
        total[name] = round(before.get(name, 0) + now.get(name, 0), 1)
    for name in ("peak_rss_mib", "tree_peak_mib"):
        total[name] = max(before.get(name, 0), now.get(name, 0))
    total["detail"] = {"months": before.get("detail", {}).get("months", 0) + now.get("detail", {}).get("months", 0),
                       "partitions": before.get("detail", {}).get("partitions", 0)
                       + now.get("detail", {}).get("partitions", 0), "resumed": True}
    return total


# ============================================================================================
# The run folder: a lake that links the history, and a recipients file for every force
# ============================================================================================

def make_run_lake(history_lake: Path, run_lake: Path, forces: Sequence[str], months: Sequence[str]) -> int:
    """Link the history partitions of ``forces`` x ``months`` into a new lake; the count linked.

    The build reads lake/raw/<feed>/force=<id>/month=<m>/ and lake/manifests/<m>/run.json by
    glob (DuckDB follows directory symlinks), so a lake of symlinked partitions gives the
    warehouse exactly N months of history and a subset of forces without copying a byte. The
    run manifests are copied filtered to ``forces`` (the build reads their forces and decisions).
    """
    wanted = set(forces)
    linked = 0
    for feed_dir in sorted((history_lake / "raw").glob("*")):
        for force in forces:
            for month in months:
                source = feed_dir / f"force={force}" / f"month={month}"
                if source.is_dir():
                    target = run_lake / "raw" / feed_dir.name / f"force={force}" / f"month={month}"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.symlink_to(source.resolve(), target_is_directory=True)
                    linked += 1
    for month in months:
        manifest = history_lake / "manifests" / month / "run.json"
        if manifest.is_file():
            _write_json(run_lake / "manifests" / month / "run.json", _filter_manifest(manifest, wanted))
    return linked


def _filter_manifest(path: Path, forces: set[str]) -> dict[str, Any]:
    """A month's run manifest restricted to ``forces`` (forces, decisions, holds, results)."""
    manifest = json.loads(path.read_text())
    manifest["forces"] = [f for f in manifest.get("forces", []) if f in forces]
    manifest["decisions"] = {f: d for f, d in (manifest.get("decisions") or {}).items() if f in forces}
    manifest["held_forces"] = [f for f in manifest.get("held_forces", []) if f in forces]
    if isinstance(manifest.get("results"), list):
        manifest["results"] = [r for r in manifest["results"] if r.get("force_id") in forces]
    return manifest


def write_recipients(path: Path, forces: Iterable[str]) -> Path:
    """profiles/recipients.yml, plus Norfolk's three groups for every run force it lacks.

    Synthetic addresses on <force>.police.example only (reserved .example domain): the send
    stage of a national run then emails every force's products as it would in production.
    """
    import yaml

    config = yaml.safe_load((REPO / "profiles" / "recipients.yml").read_text(encoding="utf-8"))
    template = config["forces"]["norfolk"]
    for force in forces:
        if force in config["forces"]:
            continue
        secret, domain = force.replace("-", "_"), f"{force}.police.example"
        config["forces"][force] = {
            "email_domains": [domain],
            "groups": {name: {**{k: v for k, v in group.items() if k in ("products", "kinds")},
                              "secret": group["secret"].replace("norfolk", secret),
                              "addresses": [a.replace("norfolk.police.example", domain) for a in group["addresses"]]}
                       for name, group in template["groups"].items()},
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


# ============================================================================================
# Running one stage in a child process and measuring it
# ============================================================================================

@dataclass
class StageResult:
    """One stage's cost and its small JSON outcome (counts only, no personal data)."""

    stage: str
    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    tree_peak_mib: float
    detail: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("stage")
        return data


class StageFailed(RuntimeError):
    """A stage's child process exited non-zero; the message holds the end of its log."""


def child_environment(extra: dict[str, str]) -> dict[str, str]:
    """The children's environment: ours without other routes, plus the run's paths."""
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env.update(extra)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


@dataclass
class RunningStage:
    """A stage's child process, started and not yet waited for."""

    stage: str
    process: subprocess.Popen  # type: ignore[type-arg]
    sampler: "TreeSampler"
    started: float
    result_path: Path
    log_path: Path


def start_stage(stage: str, cfg: dict[str, Any], folder: Path, env: dict[str, str]) -> RunningStage:
    """Start ``stage`` in a fresh child process (this script with --stage-child)."""
    import psutil

    folder.mkdir(parents=True, exist_ok=True)
    cfg_path, result_path, log_path = (folder / f"{stage}.{suffix}" for suffix in ("in.json", "out.json", "log"))
    _write_json(cfg_path, cfg)
    result_path.unlink(missing_ok=True)
    started = time.perf_counter()
    with log_path.open("w") as log_file:
        child = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), CHILD_FLAG, stage, str(cfg_path),
                                  str(result_path)], env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO)
    sampler = TreeSampler(psutil.Process(child.pid))
    sampler.start()
    return RunningStage(stage, child, sampler, started, result_path, log_path)


def finish_stage(running: RunningStage) -> StageResult:
    """Wait for a started stage and measure it; StageFailed if its child failed.

    CPU time is measured inside the child (itself and its reaped workers), so two stages that
    run side by side are each charged their own.
    """
    code = running.process.wait()
    running.sampler.stop()
    wall = time.perf_counter() - running.started
    if code != 0 or not running.result_path.is_file():
        tail = "\n".join(running.log_path.read_text(errors="replace").splitlines()[-25:])
        raise StageFailed(f"stage {running.stage} exited {code}; log {running.log_path}:\n{tail}")
    inside = json.loads(running.result_path.read_text())
    return StageResult(running.stage, round(wall, 1), round(inside["cpu_s"], 1), round(inside["peak_rss_mib"]),
                       round(max(running.sampler.peak_mib, inside["peak_rss_mib"])), inside["detail"])


def run_stage(stage: str, cfg: dict[str, Any], folder: Path, env: dict[str, str]) -> StageResult:
    """Run ``stage`` in a fresh child process and measure it."""
    return finish_stage(start_stage(stage, cfg, folder, env))


class TreeSampler(threading.Thread):
    """Samples the RSS summed over a process and its descendants; keeps the peak (MiB)."""

    def __init__(self, process: Any, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.process = process
        self.interval = interval
        self.peak_mib = 0.0
        self._halt = threading.Event()

    def run(self) -> None:
        import psutil

        while not self._halt.is_set():
            try:
                tree = [self.process, *self.process.children(recursive=True)]
                total = 0
                for proc in tree:
                    try:
                        total += proc.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak_mib = max(self.peak_mib, total / 2**20)
            except psutil.Error:
                return
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


# ============================================================================================
# The stages, as run inside the child process
# ============================================================================================

def _pool_map(function: Callable[..., dict[str, Any]], calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run ``function(**kwargs)`` for each call in WORKERS spawned processes (the DAG's mapped tasks).

    A call that raises gives ``{"error": <exception type>}`` and the others carry on, as in
    ingest_month.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(_guarded, function, call) for call in calls]
        return [future.result() for future in futures]


def _guarded(function: Callable[..., dict[str, Any]], call: dict[str, Any]) -> dict[str, Any]:
    try:
        return function(**call)
    except Exception as error:  # one partition's crash is counted, not fatal (ingest_month does the same)
        logging.getLogger("benchmark").error("%s(%s) raised %s", function.__name__,
                                             ",".join(f"{k}={v}" for k, v in call.items() if k != "out_root"),
                                             type(error).__name__)
        return {**{k: v for k, v in call.items() if k in ("force_id", "feed", "product")},
                "error": type(error).__name__}


def stage_synth(cfg: dict[str, Any]) -> dict[str, Any]:
    """Preparation: the synthetic world."""
    from forceprofiles.synth.world import WorldSpec
    from forceprofiles.synth.writer import generate_world

    spec = WorldSpec(forces=tuple(cfg["forces"]), start=cfg["start"], end=cfg["end"], scale=cfg["scale"],
                     seed=cfg["seed"])
    summary = generate_world(spec, Path(cfg["world"]))
    return {"extract_rows": sum(int(e["rows"]) for e in summary["extracts"]),  # type: ignore[union-attr]
            "true_people": summary["people"]}


def stage_history(cfg: dict[str, Any]) -> dict[str, Any]:
    """Preparation: ingest the history months one by one (recorded as done after each)."""
    from forceprofiles import pipeline

    done_file = Path(cfg["done_file"])
    done = list(json.loads(done_file.read_text())) if done_file.is_file() else []
    partitions = crashes = 0
    waited = 0.0
    for month in cfg["months"]:
        waited += _wait_until_written(Path(cfg["world"]), month, cfg.get("world_months") or [])
        summary = pipeline.ingest_month(month, cfg["forces"], landing_root=Path(cfg["world"]) / "landing",
                                        lake_root=Path(cfg["lake"]), workers=WORKERS)
        partitions += len(summary["partitions"])
        crashes += len(summary["errors"])
        done.append(month)
        _write_json(done_file, sorted(set(done)))
    return {"months": len(cfg["months"]), "partitions": partitions, "crashes": crashes,
            "waited_for_synth_s": round(waited, 1)}


def _wait_until_written(world: Path, month: str, world_months: Sequence[str], poll_s: float = 5.0) -> float:
    """Seconds spent waiting until the synthesis has written every force's ``month``.

    The world is written month by month, every force of a month before the next month, so a
    month is complete once any force's landing folder for the next month exists (or the world's
    summary, written last). The parent kills this child if the synthesis fails.
    """
    started = time.perf_counter()
    following = world_months[world_months.index(month) + 1] if month in world_months[:-1] else None
    while not (world / "world.json").is_file():
        if following and any((world / "landing").glob(f"*/*/{following}")):
            break
        time.sleep(poll_s)
    return time.perf_counter() - started


def stage_extract(cfg: dict[str, Any]) -> dict[str, Any]:
    """Stage 1: extract_partition over every force x feed of the report month."""
    from forceprofiles import pipeline

    calls = [{"force_id": p["force_id"], "feed": p["feed"], "month": p["month"],
              "landing_root": Path(cfg["landing"]), "lake_root": Path(cfg["lake"])}
             for p in pipeline.plan_month(cfg["month"], cfg["forces"])]
    results = _pool_map(pipeline.extract_partition, calls)
    return {"partitions": len(results), "crashes": sum(1 for r in results if r.get("error")),
            "rows_read": sum(sum((r.get("rows_read") or {}).values()) for r in results),
            "statuses": _count_by(r.get("status") or "crashed" for r in results)}


def stage_validate(cfg: dict[str, Any]) -> dict[str, Any]:
    """Stage 2: validate_partition over every force x feed, then hold decisions and the run manifest."""
    from forceprofiles import pipeline

    calls = [{"force_id": p["force_id"], "feed": p["feed"], "month": p["month"], "lake_root": Path(cfg["lake"])}
             for p in pipeline.plan_month(cfg["month"], cfg["forces"])]
    results = _pool_map(pipeline.validate_partition, calls)
    errors = [{"force_id": r.get("force_id"), "feed": r.get("feed"), "month": cfg["month"], "stage": "validate",
               "error": r["error"], "message": r["error"]} for r in results if r.get("error")]
    final = pipeline.finalise_month(cfg["month"], cfg["forces"], lake_root=Path(cfg["lake"]),
                                    validations=[r for r in results if not r.get("error")], errors=errors,
                                    run_id=cfg["run_id"])
    return {"partitions": len(results), "crashes": len(errors), "held": final["held"],
            "rows_landed": sum(sum((r.get("rows_landed") or {}).values()) for r in results),
            "rows_quarantined": sum(sum((r.get("rows_quarantined") or {}).values()) for r in results),
            "statuses": _count_by(r.get("status") or "crashed" for r in results)}


_WAREHOUSE_LOG = (("dbt_parse_s", re.compile(r"dbt project parsed in ([0-9.]+)s")),
                  ("person_resolution_s", re.compile(r"person resolution \([^)]*\) in ([0-9.]+)s")))


def _max_rss_mib() -> float:
    """This process's peak RSS so far (the kernel's high-water mark), MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


_RESOLUTION_STEP = re.compile(r"person resolution: (?P<step>[a-z ]+?) (?P<seconds>[0-9.]+) s")


class _TimingCapture(logging.Handler):
    """Collects the seconds that forceprofiles.warehouse logs but does not return, and person
    resolution's steps (forceprofiles.warehouse_resolution) with the process's peak RSS so far."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.seconds: dict[str, float] = {}
        self.resolution_steps: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        for name, pattern in _WAREHOUSE_LOG:
            found = pattern.search(message)
            if found:
                self.seconds[name] = float(found.group(1))
        step = _RESOLUTION_STEP.search(message)
        if step:
            self.resolution_steps.append({"step": step["step"], "seconds": float(step["seconds"]),
                                          "peak_rss_mib_so_far": _max_rss_mib()})


def stage_build(cfg: dict[str, Any]) -> dict[str, Any]:
    """Stage 3: build_month (dbt, Splink person resolution, dbt marts with the scores)."""
    from forceprofiles import pipeline

    capture = _TimingCapture()
    for name in ("forceprofiles.warehouse", "forceprofiles.warehouse_resolution"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.INFO)
        logger.addHandler(capture)
    started = time.perf_counter()
    built = pipeline.build_month(cfg["month"], lake_root=Path(cfg["lake"]), warehouse_path=Path(cfg["warehouse"]),
                                 central_root=Path(cfg["central"]), use_splink=True, run_id=cfg["run_id"])
    seconds = time.perf_counter() - started
    steps = {f"dbt_{s['step']}_s": s["seconds"] for s in built.get("steps", [])}
    nodes = {s["step"]: {"thread_seconds": s.get("thread_seconds"), "slowest": s.get("slowest")}
             for s in built.get("steps", [])}
    clusters = built.get("person_clusters") or {}
    return {"build_month_s": round(seconds, 1), **capture.seconds, **steps,
            "resolution_steps": capture.resolution_steps, "dbt_nodes": nodes,
            "person_resolution": built.get("person_resolution"), "person_clusters": clusters,
            "mart_rows": sum((built.get("marts") or {}).values()),
            "vawg_subjects": (built.get("marts") or {}).get("fct_vawg_subjects")}


def stage_render(cfg: dict[str, Any]) -> dict[str, Any]:
    """Stage 4: render_one over every (force, product) of the forces not held, then the manifest."""
    from forceprofiles import pipeline

    plan = pipeline.plan_products(cfg["month"], cfg["forces"], cfg["held"])
    calls = [{"month": p["month"], "force_id": p["force_id"], "product": p["product"],
              "warehouse_path": Path(cfg["warehouse"]), "out_root": Path(cfg["out"])} for p in plan]
    rendered = _pool_map(pipeline.render_one, calls)
    manifest = pipeline.write_products_manifest(cfg["month"], [r for r in rendered if not r.get("error")],
                                                out_root=Path(cfg["out"]))
    products = manifest.get("products", [])
    return {"products": len(products), "pages": sum(int(p.get("pages") or 0) for p in products),
            "bytes": sum(int(p.get("bytes") or 0) for p in products),
            "skipped": len(manifest.get("skipped", [])), "crashes": sum(1 for r in rendered if r.get("error"))}


def stage_send(cfg: dict[str, Any]) -> dict[str, Any]:
    """Stage 5: email every product (encrypted, through the ledger) and the run summary."""
    from forceprofiles.distribute import crypto, recipients, send
    from forceprofiles.distribute.ledger import Ledger

    config = recipients.load_recipients(Path(cfg["recipients"]))
    dev_file = crypto.ensure_dev_secrets([g.secret for g in config.all_groups()], path=Path(cfg["dev_secrets"]),
                                         store=crypto.SecretStore(use_airflow=False, dev_file=None))
    secrets = crypto.SecretStore(use_airflow=False, dev_file=dev_file)
    ledger = Ledger(Path(cfg["ledger"]), disclosure_path=Path(cfg["disclosure_log"]))
    summary = send.distribute_month(Path(cfg["out"]), cfg["month"], run_id=cfg["run_id"], forces=cfg["forces"],
                                    config=config, ledger=ledger, secrets=secrets)
    done = send.send_run_summary(cfg["month"], run_id=cfg["run_id"], out_root=Path(cfg["out"]),
                                 lake_root=Path(cfg["lake"]), ledger=ledger)
    return {"products": len(summary["products"]), "messages": summary["sent"] + (done["status"] == "sent"),
            "not_sent": len(summary["errors"]),
            "no_recipients": sum(1 for p in summary["products"] if p["status"] == "no_recipients")}


CHILD_STAGES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "synth": stage_synth, "history": stage_history, "extract": stage_extract, "validate": stage_validate,
    "build": stage_build, "render": stage_render, "send": stage_send,
}


def _count_by(values: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return dict(sorted(counts.items()))


def child_main(stage: str, cfg_path: str, result_path: str) -> int:
    """Inside the child: run the stage, then report its outcome and peak RSS to the parent."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = json.loads(Path(cfg_path).read_text())
    detail = CHILD_STAGES[stage](cfg)
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime
    _write_json(Path(result_path), {"detail": detail, "peak_rss_mib": max(own.ru_maxrss, workers.ru_maxrss) / 1024,
                                    "cpu_s": cpu})
    return 0


# ============================================================================================
# The monthly run
# ============================================================================================

def monthly_run(prepared: Prepared, run_dir: Path, *, forces: Sequence[str] | None = None,
                history: int | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Time the five stages for the world's last month over ``forces`` and ``history`` months.

    ``history`` counts months in the warehouse including the report month (default: the world's
    months); ``forces`` defaults to the world's. The run folder is replaced.
    """
    from forceprofiles.distribute.sink import start_sink

    months = prepared.key.month_list()
    month = months[-1]
    history = min(history or len(months), len(months))
    forces = list(forces or prepared.key.force_ids())
    if run_dir.exists():
        shutil.rmtree(run_dir)
    lake = run_dir / "lake"
    linked = make_run_lake(prepared.lake, lake, forces, months[len(months) - history:-1])
    controller, _ = start_sink(run_dir / "mail", host="127.0.0.1", port=0)
    paths = {"landing": str(prepared.world / "landing"), "central": str(prepared.world / "central"),
             "lake": str(lake), "warehouse": str(run_dir / "warehouse" / "force_profiles.duckdb"),
             "out": str(run_dir / "out"), "ledger": str(run_dir / "distribution" / "ledger.sqlite"),
             "disclosure_log": str(run_dir / "distribution" / "disclosures.sqlite"),
             "dev_secrets": str(run_dir / "distribution" / "dev-secrets.env"),
             "recipients": str(write_recipients(run_dir / "recipients.yml", forces))}
    env = child_environment({
        "FORCEPROFILES_LAKE": paths["lake"], "FORCEPROFILES_WAREHOUSE": paths["warehouse"],
        "FORCEPROFILES_OUT": paths["out"], "FORCEPROFILES_LANDING": paths["landing"],
        "FORCEPROFILES_CENTRAL": paths["central"], "FORCEPROFILES_LEDGER": paths["ledger"],
        "FORCEPROFILES_DISCLOSURE_LOG": paths["disclosure_log"],
        "FORCEPROFILES_SMTP_HOST": "127.0.0.1", "FORCEPROFILES_SMTP_PORT": str(controller.port)})
    cfg: dict[str, Any] = {**paths, "month": month, "forces": forces, "held": [],
                           "run_id": f"bench-{prepared.key.label()}-h{history}-f{len(forces)}"}
    stages: dict[str, StageResult] = {}
    speed = machine_speed()
    load_start = os.getloadavg()
    try:
        for stage in RUN_STAGES:
            log(f"run {month}: {stage} ...")
            stages[stage] = run_stage(stage, cfg, run_dir / "stages", env)
            if stage == "validate":
                cfg["held"] = stages[stage].detail["held"]
    finally:
        controller.stop()
    return run_report(prepared, stages, month=month, forces=forces, history=history, linked=linked,
                      run_dir=run_dir, load=(load_start, os.getloadavg()), speed=speed)


def run_report(prepared: Prepared, stages: dict[str, StageResult], *, month: str, forces: Sequence[str],
               history: int, linked: int, run_dir: Path, load: tuple[Any, Any],
               speed: dict[str, float]) -> dict[str, Any]:
    """The JSON report of one monthly run (counts and seconds only)."""
    results = [stages[s] for s in RUN_STAGES]
    extract_rows = _lake_rows(prepared.world, forces, prepared.key.month_list()[-history:])
    return {
        "benchmark": "monthly_run",
        "world": asdict(prepared.key),
        "report_month": month,
        "forces": len(forces),
        "history_months": history,
        "lake_extract_rows": extract_rows,
        "history_partitions_linked": linked,
        "machine": {"cores": os.cpu_count(), "memory_gib": round(_memory_gib(), 1),
                    "load_average_start": [round(x, 2) for x in load[0]],
                    "load_average_end": [round(x, 2) for x in load[1]], "speed_s": speed},
        "settings": _settings(),
        "preparation": {"cached": prepared.cached, "done_this_run": sorted(prepared.fresh), **prepared.timings},
        "stages": {r.stage: r.as_json() for r in results},
        "monthly_run": {"wall_s": round(sum(r.wall_s for r in results), 1),
                        "cpu_s": round(sum(r.cpu_s for r in results), 1),
                        "peak_rss_mib": max(r.peak_rss_mib for r in results),
                        "tree_peak_mib": max(r.tree_peak_mib for r in results)},
        "build_steps": {k: v for k, v in stages["build"].detail.items() if k.endswith("_s")},
        "run_dir": str(run_dir),
        "lake": str(run_dir / "lake"),
        "warehouse": str(run_dir / "warehouse" / "force_profiles.duckdb"),
    }


def _lake_rows(world: Path, forces: Sequence[str], months: Sequence[str]) -> int:
    """Extract rows the world delivered for these forces and months (the lake's size in rows)."""
    wanted_forces, wanted_months = set(forces), set(months)
    summary = json.loads((world / "world.json").read_text())
    return sum(int(e["rows"]) for e in summary["extracts"]
               if e["force_id"] in wanted_forces and e["month"] in wanted_months)


def machine_speed() -> dict[str, float]:
    """Seconds two fixed single-threaded workloads take here, best of three.

    The same unchanged stage (render) has taken two and a half times the CPU seconds on one
    session's machine as on another's (docs/benchmarks.md), and the load average does not show
    it: these two numbers let a reader scale figures from different machines before comparing.
    """
    import duckdb

    def best(work: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            work()
            times.append(time.perf_counter() - started)
        return round(min(times), 3)

    python_s = best(lambda: sum(i * i % 7 for i in range(3_000_000)))
    with duckdb.connect(config={"threads": 1}) as con:
        duckdb_s = best(lambda: con.execute("select sum(hash(i) % 1000) from range(30000000) t(i)").fetchall())
    return {"python_s": python_s, "duckdb_s": duckdb_s}


def _speed_text(speed: dict[str, float] | None) -> str:
    """The machine's speed figures for the report's header (older reports have none)."""
    return ", ".join(f"{name.removesuffix('_s')} {seconds} s" for name, seconds in speed.items()) if speed else "not measured"


def _settings() -> dict[str, str]:
    """What the build ran with that moves its figures: its memory limits (the stages inherit this
    process's environment, so they compute the same) and the person model's version."""
    from forceprofiles.linkage import linkage_memory_limit, load_model
    from forceprofiles.warehouse import duckdb_config

    return {"warehouse_duckdb_memory_limit": duckdb_config()["memory_limit"],
            "splink_duckdb_memory_limit": linkage_memory_limit(),
            "person_model_version": str(load_model().get("version", "unknown"))}


def _memory_gib() -> float:
    import psutil

    return float(psutil.virtual_memory().total) / 2**30


# ============================================================================================
# Output
# ============================================================================================

def print_report(report: dict[str, Any]) -> None:
    """The stage table, the preparation, the build's own steps and the JSON line."""
    world = report["world"]
    print(f"\nmonthly run {report['report_month']}: {report['forces']} forces, scale {world['scale']:g}, "
          f"{report['history_months']} months in the warehouse ({report['lake_extract_rows']:,} extract rows); "
          f"load average {report['machine']['load_average_start'][0]} -> {report['machine']['load_average_end'][0]}; "
          f"fixed workloads {_speed_text(report['machine'].get('speed_s'))}")
    print(f"{'stage':<12}{'wall s':>9}{'CPU s':>9}{'peak RSS MiB':>14}{'tree MiB':>10}  outcome")
    for stage, row in report["stages"].items():
        print(f"{stage:<12}{row['wall_s']:>9.1f}{row['cpu_s']:>9.1f}{row['peak_rss_mib']:>14,.0f}"
              f"{row['tree_peak_mib']:>10,.0f}  {_outcome(stage, row['detail'])}")
    total = report["monthly_run"]
    print(f"{'total':<12}{total['wall_s']:>9.1f}{total['cpu_s']:>9.1f}{total['peak_rss_mib']:>14,.0f}"
          f"{total['tree_peak_mib']:>10,.0f}")
    prep = report["preparation"]
    for part in ("synth", "history"):
        if part in prep:
            row = prep[part]
            print(f"preparation {part}: {row['wall_s']:.1f} s wall, {row['cpu_s']:.1f} s CPU, "
                  f"peak {row['peak_rss_mib']:,.0f} MiB ({'this run' if part in prep['done_this_run'] else 'cached'}); "
                  f"{_outcome(part, row['detail'])}")
    print(f"build steps: {build_steps_line(report['build_steps'])}")
    for line in dbt_node_lines(report["stages"].get("build", {}).get("detail", {}).get("dbt_nodes") or {}):
        print(line)
    print(json.dumps(report, sort_keys=True))


def dbt_node_lines(nodes: dict[str, Any], shown: int = 6) -> list[str]:
    """Per dbt step: thread-seconds by kind of node (models, data tests, ...) and the slowest nodes."""
    lines = []
    for step, where in nodes.items():
        kinds = ", ".join(f"{kind} {seconds:.1f}" for kind, seconds in (where.get("thread_seconds") or {}).items())
        slowest = ", ".join(f"{n['node']} {n['seconds']:.1f}" for n in (where.get("slowest") or [])[:shown])
        lines.append(f"dbt {step}: thread-seconds {kinds or '-'}; slowest {slowest or '-'}")
    return lines


BUILD_STEP_ORDER = ("dbt_parse_s", "dbt_staging+intermediate_s", "person_resolution_s", "dbt_marts_s")


def build_steps_line(steps: dict[str, float]) -> str:
    """build_month's own steps in order, and what is left (mart row counts, disclosure log)."""
    known = [(name, steps[name]) for name in BUILD_STEP_ORDER if name in steps]
    total = steps.get("build_month_s", 0.0)
    rest = total - sum(seconds for _, seconds in known)
    parts = [f"{name.removesuffix('_s')} {seconds:.1f} s" for name, seconds in known]
    return ", ".join([*parts, f"other {rest:.1f} s"]) + f" = build_month {total:.1f} s"


def _outcome(stage: str, detail: dict[str, Any]) -> str:
    """One line of counts for a stage."""
    keys = {"extract": ("partitions", "rows_read", "crashes"),
            "validate": ("partitions", "rows_landed", "rows_quarantined", "crashes"),
            "build": ("person_resolution", "mart_rows", "vawg_subjects"),
            "render": ("products", "pages", "skipped", "crashes"),
            "send": ("products", "messages", "not_sent", "no_recipients"),
            "synth": ("extract_rows", "true_people"), "history": ("months", "partitions", "crashes")}[stage]
    parts = [f"{k} {detail[k]:,}" if isinstance(detail.get(k), int) else f"{k} {detail.get(k)}" for k in keys
             if k in detail]
    if stage == "validate" and detail.get("held"):
        parts.append(f"held {','.join(detail['held'])}")
    if stage == "build" and detail.get("person_clusters"):
        parts.append("clusters " + json.dumps(detail["person_clusters"], sort_keys=True))
    return "; ".join(parts)


def _write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True, default=str) + "\n")
    tmp.replace(path)


def world_key(args: argparse.Namespace) -> WorldKey:
    """The world of --scenario with the --forces/--scale/--months overrides."""
    base = dict(SCENARIOS[args.scenario]) if args.scenario else {"forces": "all9", "scale": 0.02, "months": 12}
    for name in ("forces", "scale", "months"):
        if getattr(args, name) is not None:
            base[name] = getattr(args, name)
    if base["months"] < 1:
        raise SystemExit("--months must be at least 1")
    return WorldKey(forces=base["forces"], scale=float(base["scale"]), months=int(base["months"]), end=args.end,
                    seed=args.seed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default=None,
                        help="s1: all9, scale 1.0, 36 months; s2: national, scale 1.0, 36 months "
                             "(default without it: all9, 0.02, 12)")
    parser.add_argument("--forces", default=None, help="override: all9, national or comma-separated force ids")
    parser.add_argument("--scale", type=float, default=None, help="override the scale")
    parser.add_argument("--months", type=int, default=None, help="override the world's months (history + report month)")
    parser.add_argument("--history", type=int, default=None,
                        help="months in the warehouse, report month included (default: all the world's months)")
    parser.add_argument("--end", default=DEFAULT_END, help=f"report month, YYYY-MM (default {DEFAULT_END})")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--work", type=Path, default=REPO / "var" / "bench",
                        help="cache of prepared worlds and the run folders (default var/bench)")
    parser.add_argument("--json-out", type=Path, default=None, help="also write the JSON report here")
    parser.add_argument("--prepare-only", action="store_true",
                        help="synthesise and ingest the world's history into --work, then stop (the timed run "
                             "can then start on an idle machine)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    key = world_key(args)
    prepared = prepare(args.work, key)
    if args.prepare_only:
        print(f"prepared {key.label()} in {prepared.root}: " + json.dumps(prepared.timings))
        return 0
    run_dir = Path(args.work).resolve() / "runs" / f"{key.label()}-h{args.history or key.months}"
    report = monthly_run(prepared, run_dir, history=args.history)
    report["scenario"] = args.scenario
    print_report(report)
    if args.json_out:
        _write_json(args.json_out, report)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == CHILD_FLAG:
        raise SystemExit(child_main(*sys.argv[2:5]))
    raise SystemExit(main())
