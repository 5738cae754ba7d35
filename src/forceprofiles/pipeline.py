"""The monthly job in plain Python: which month, which forces, and the ingest half (extract,
validate, hold decisions, run manifest).

The CLI (``forceprofiles run``) and the Airflow DAG (``dags/force_profiles_monthly.py``) both
call these functions, so a scheduled run can be reproduced from a shell and tested without a
scheduler. The DAG maps :func:`extract_partition` and :func:`validate_partition` over every
force x feed and then calls :func:`finalise_month`; :func:`ingest_month` does the same thing
sequentially in one process.

What crosses task boundaries (Airflow XCom) and what the CLI prints are small JSON summaries:
statuses and row counts, never records or personal data. The lake is the source of truth.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from forceprofiles import contract, settings
from forceprofiles.registry import force_config, load_registry

log = logging.getLogger(__name__)

LONDON = ZoneInfo("Europe/London")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
STAGES = ("extract", "validate")
BUILD_STAGE = "build"


# --------------------------------------------------------------------------------------------
# Which month, which forces
# --------------------------------------------------------------------------------------------

def check_month(month: str) -> str:
    """``month`` if it is a month in the form YYYY-MM, else ValueError."""
    if not isinstance(month, str) or not _MONTH.match(month):
        raise ValueError(f"{month!r} is not a month in the form YYYY-MM")
    return month


def report_month_for_interval(data_interval_start: datetime) -> str:
    """The report month (YYYY-MM) covered by a run whose data interval starts here.

    The monthly timetable's data intervals start in the month they cover (Europe/London), so
    the report month is the London calendar month of the interval's start. A naive datetime
    is taken to be UTC (Airflow's convention).
    """
    if data_interval_start.tzinfo is None:
        data_interval_start = data_interval_start.replace(tzinfo=UTC)
    return data_interval_start.astimezone(LONDON).strftime("%Y-%m")


def previous_month(now: datetime | None = None) -> str:
    """The previous calendar month in Europe/London (the month a run today would cover)."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    local = now.astimezone(LONDON)
    year, month = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def resolve_report_month(requested: str | None, data_interval_start: datetime | None,
                         run_after: datetime | None = None) -> str:
    """The month a run covers: an explicit request, else the data interval, else last month.

    ``requested`` is the ``report_month`` parameter of a manual trigger; scheduled and backfill
    runs leave it empty and take the month from their data interval. A run with neither (a
    manual trigger without a logical date) covers the calendar month before ``run_after``.
    """
    if requested:
        return check_month(requested.strip())
    if data_interval_start is not None:
        return report_month_for_interval(data_interval_start)
    return previous_month(run_after)


def resolve_forces(forces: Iterable[str] | str | None) -> list[str]:
    """Force ids to run: the given ones (checked against the registry) or every listed force.

    Accepts a list or a comma-separated string. Forces not listed in the registry are allowed
    if their id is valid (they take the registry's defaults), as the synthetic world can
    generate all 43 forces.
    """
    if isinstance(forces, str):
        forces = [part for part in forces.split(",")]
    chosen = [str(force).strip() for force in (forces or []) if str(force).strip()]
    if not chosen:
        return list(load_registry())
    for force_id in chosen:
        force_config(force_id)  # RegistryError naming the bad id
    return list(dict.fromkeys(chosen))


def plan_month(month: str, forces: Iterable[str] | str | None = None) -> list[dict[str, str]]:
    """One entry per force x feed: the work list the DAG maps its ingest tasks over."""
    check_month(month)
    return [{"force_id": force_id, "feed": feed, "month": month}
            for force_id in resolve_forces(forces) for feed in contract.FEEDS]


# --------------------------------------------------------------------------------------------
# One force x feed
# --------------------------------------------------------------------------------------------

def extract_partition(force_id: str, feed: str, month: str, *, landing_root: Path, lake_root: Path,
                      postgres_dsn: str | None = None) -> dict[str, Any]:
    """Extract one force's feed for a month (stage 1); a small JSON summary.

    ``postgres_dsn`` overrides the database of a ``delivery: postgres`` force; without it the
    route comes from :func:`forceprofiles.settings.postgres_dsn_for` (the Airflow connection
    under Airflow, else ``$FORCEPROFILES_POSTGRES_DSN``, else the force's file drop).
    """
    from forceprofiles.extract import extract

    config = force_config(force_id)
    dsn = postgres_dsn if (postgres_dsn and config.delivery == "postgres") else settings.postgres_dsn_for(config)
    result = extract(force_id, feed, check_month(month), landing_root=Path(landing_root),
                     lake_root=Path(lake_root), postgres_dsn=dsn)
    return extract_summary(_as_json(result))


def validate_partition(force_id: str, feed: str, month: str, *, lake_root: Path) -> dict[str, Any]:
    """Validate one force's extracted feed for a month (stage 2); a small JSON summary."""
    from forceprofiles.validate import validate_extract

    result = validate_extract(force_id, feed, check_month(month), Path(lake_root))
    return validation_summary(_as_json(result))


def extract_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """The counts and status of an extract result (no file paths, no error text)."""
    rows = {str(k): int(v) for k, v in dict(result.get("rows_read") or {}).items()}
    return {
        "force_id": result.get("force_id"),
        "feed": result.get("feed"),
        "month": result.get("month"),
        "status": result.get("status"),
        "delivery": result.get("delivery"),
        "rows_read": rows,
        "file_errors": len(result.get("file_errors") or []),
    }


def validation_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """The status and per-entity row accounting of a validation result."""
    summary: dict[str, Any] = {
        "force_id": result.get("force_id"),
        "feed": result.get("feed"),
        "month": result.get("month"),
        "status": result.get("status"),
    }
    for key in ("rows_read", "rows_landed", "rows_quarantined"):
        value = result.get(key)
        if isinstance(value, Mapping):
            summary[key] = {str(k): int(v) for k, v in value.items()}
        elif value is not None:
            summary[key] = value
    if "entities" in result and isinstance(result["entities"], Mapping):
        summary["entities"] = {
            str(entity): {k: v for k, v in dict(counts).items() if isinstance(v, (int, float, str, bool))}
            for entity, counts in result["entities"].items() if isinstance(counts, Mapping)
        }
    return summary


def _as_json(result: Any) -> dict[str, Any]:
    if hasattr(result, "to_json"):
        return dict(result.to_json())
    if is_dataclass(result) and not isinstance(result, type):
        return asdict(result)
    return dict(result)


def validation_result_from_json(record: Mapping[str, Any]) -> Any:
    """A :class:`forceprofiles.validate.ValidationResult` back from its ``to_json()`` record
    (as written to ``lake/raw/.../_validation.json``)."""
    from forceprofiles import validate

    if hasattr(validate.ValidationResult, "from_json"):
        return validate.ValidationResult.from_json(record)  # type: ignore[attr-defined]
    problems = [
        validate.Problem(
            entity=p["entity"], rule=p["rule"], expectation=p["expectation"], column=p.get("column"),
            severity=p["severity"], rows_affected=p.get("rows_affected"), message=p["message"],
            ask_the_force=p["ask_the_force"],
            examples=[(str(e["file"]), int(e["row"])) for e in p.get("examples") or []],
            source_files=list(p.get("source_files") or []),
        )
        for p in record.get("problems") or []
    ]
    return validate.ValidationResult(
        force_id=record["force_id"], feed=record["feed"], month=record["month"], status=record["status"],
        rows_read={k: int(v) for k, v in (record.get("rows_read") or {}).items()},
        rows_landed={k: int(v) for k, v in (record.get("rows_landed") or {}).items()},
        rows_quarantined={k: int(v) for k, v in (record.get("rows_quarantined") or {}).items()},
        problems=problems, notes=list(record.get("notes") or []),
        file_errors=list(record.get("file_errors") or []),
        report_path=Path(record["report_path"]) if record.get("report_path") else None,
        suite_version=record.get("suite_version"), suite_sha256=record.get("suite_sha256"),
    )


def load_validation(lake_root: Path, force_id: str, feed: str, month: str) -> Any | None:
    """The validation result of one partition, as written by the validate stage, or None."""
    from forceprofiles.validate import partition

    path = partition(Path(lake_root), "raw", feed, force_id, month) / "_validation.json"
    if not path.is_file():
        return None
    return validation_result_from_json(json.loads(path.read_text()))


# --------------------------------------------------------------------------------------------
# After every force x feed: hold or proceed, and the run manifest
# --------------------------------------------------------------------------------------------

def manifest_path(lake_root: Path, month: str) -> Path:
    """``lake/manifests/<YYYY-MM>/run.json``: the month's run manifest."""
    return Path(lake_root) / "manifests" / check_month(month) / "run.json"


def finalise_month(month: str, forces: Iterable[str], *, lake_root: Path,
                   validations: Iterable[Mapping[str, Any] | Any] | None = None,
                   errors: Iterable[Mapping[str, Any]] = (), run_id: str | None = None) -> dict[str, Any]:
    """Decide, per force, proceed or hold, and write the month's run manifest.

    ``validations`` says which partitions this run validated (validation results or their
    summaries); their full results are read from the lake. A force's mandatory feed with no
    validation in this run (its extract or validation crashed, or was not run) holds the force,
    so a stale result from an earlier run can never let a force through. ``errors`` (crashes,
    from :func:`ingest_month`) are recorded in the manifest. With ``validations=None`` every
    partition's latest result in the lake is used (to re-decide a month after the fact).

    A run of only some forces (a rerun of one force) updates the month's manifest: the other
    forces keep the results, errors and decisions of the run that last covered them, so the
    manifest always describes the whole month. The returned decisions cover every force in it.
    """
    from forceprofiles.validate import write_run_manifest

    check_month(month)
    lake_root = Path(lake_root)
    forces = list(dict.fromkeys(forces))
    wanted = {(force_id, feed) for force_id in forces for feed in contract.FEEDS}
    if validations is None:
        keys = wanted
    else:
        keys = {(str(v["force_id"]), str(v["feed"])) if isinstance(v, Mapping) else (v.force_id, v.feed)
                for v in validations if v} & wanted
    path = manifest_path(lake_root, month)
    previous = _read_json(path)
    kept = [f for f in previous.get("forces", []) if f not in forces] if previous.get("month") == month else []
    keys |= {(r["force_id"], r["feed"]) for r in previous.get("results", []) if r.get("force_id") in kept}
    all_errors = [dict(e) for e in previous.get("errors", []) if e.get("force_id") in kept] + [dict(e) for e in errors]
    all_forces = list(dict.fromkeys([*previous.get("forces", []), *forces])) if kept else forces

    results = [r for r in (load_validation(lake_root, f, feed, month) for f, feed in sorted(keys)) if r is not None]
    mandatory = {force_id: tuple(force_config(force_id).mandatory_feeds) for force_id in all_forces}
    write_run_manifest(results, path, mandatory_feeds=mandatory, run_id=run_id)

    decisions = _decisions(results, all_forces, mandatory)
    _log_collections(validations, run_id)
    manifest = json.loads(path.read_text())
    manifest.update({"month": month, "forces": all_forces, "forces_this_run": forces, "decisions": decisions,
                     "held_forces": sorted(f for f, d in decisions.items() if d != "proceed"),
                     "errors": all_errors})
    _write_json(path, manifest)
    held = manifest["held_forces"]
    log.info("month %s: %d force(s) proceed, %d held (%s)", month, len(all_forces) - len(held), len(held),
             ", ".join(held) or "none")
    return {
        "month": month,
        "forces_this_run": forces,
        "decisions": decisions,
        "held": held,
        "totals": manifest.get("totals", {}),
        "accounting_ok": bool(manifest.get("accounting_ok", True)),
        "errors": len(all_errors),
        "manifest": str(path),
    }


def _log_collections(validations: Iterable[Mapping[str, Any] | Any] | None, run_id: str | None) -> None:
    """Record this run's collections (force x feed x month, counts only) in the disclosure log
    (DPA 2018 s.62 asks for a log of collection as well as of disclosure)."""
    from forceprofiles.distribute.disclosure_log import log_collection

    for validation in validations or ():
        if isinstance(validation, Mapping) and validation.get("force_id"):
            log_collection(run_id, validation)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()))
    except (FileNotFoundError, ValueError):
        return {}


def _decisions(results: list[Any], forces: list[str], mandatory: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """validate.hold_decision for every requested force (one with no result at all is held)."""
    from forceprofiles.validate import hold_decision

    decisions = hold_decision(results, mandatory)
    for force_id in forces:
        if force_id not in decisions:
            decisions[force_id] = "hold: no feed was validated (extract or validation did not complete)"
    return {force_id: decisions[force_id] for force_id in forces}


def _write_json(path: Path, payload: Mapping[str, Any]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=True, default=str) + "\n")
    tmp.replace(path)


# --------------------------------------------------------------------------------------------
# The whole ingest half in one process (the CLI)
# --------------------------------------------------------------------------------------------

def ingest_month(month: str, forces: list[str] | None = None, *, landing_root: Path, lake_root: Path,
                 postgres_dsn: str | None = None, stages: Iterable[str] = STAGES, workers: int = 1,
                 on_partition: Callable[[], None] | None = None) -> dict[str, Any]:
    """Extract and validate every force x feed for ``month``, then decide holds.

    Partitions are independent (each writes only its own lake files), so ``workers`` > 1 runs
    them in that many processes, as the DAG's mapped tasks do; the results are gathered in plan
    order, so the summary is the same whatever the number of workers. One force's crash (an
    exception, not a bad delivery, which the stages handle themselves) is recorded as that
    force's failure and the others carry on; the crashed feed holds its force. Returns
    ``{"month", "forces", "partitions": [per force x feed summary], "decisions", "held",
    "manifest", "errors"}`` (JSON; counts and statuses only).

    ``stages`` may leave out ``validate`` (extract only: no hold decisions, no manifest).
    ``on_partition()`` is called as each partition finishes (a progress bar).
    """
    stages = tuple(stages)
    unknown = [s for s in stages if s not in STAGES]
    if unknown or "extract" not in stages:
        raise ValueError(f"stages must include extract and be among {', '.join(STAGES)}; got {', '.join(stages)}")
    month = check_month(month)
    force_ids = resolve_forces(forces)
    landing_root, lake_root = Path(landing_root), Path(lake_root)
    targets = [(t["force_id"], t["feed"]) for t in plan_month(month, force_ids)]
    common = {"month": month, "landing_root": landing_root, "lake_root": lake_root,
              "postgres_dsn": postgres_dsn, "stages": stages}
    if workers > 1 and len(targets) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [pool.submit(_ingest_partition, force_id, feed, **common) for force_id, feed in targets]
            if on_partition:
                for future in futures:
                    future.add_done_callback(lambda _: on_partition())
            outcomes = [future.result() for future in futures]
    else:
        outcomes = []
        for force_id, feed in targets:
            outcomes.append(_ingest_partition(force_id, feed, **common))
            if on_partition:
                on_partition()
    partitions = [row for row, _, _ in outcomes]
    validations = [validated for _, validated, _ in outcomes if validated is not None]
    errors = [error for _, _, error in outcomes if error is not None]

    summary: dict[str, Any] = {"month": month, "forces": force_ids, "partitions": partitions,
                               "errors": [{k: v for k, v in e.items() if k != "message"} for e in errors], "decisions": {}, "held": [], "manifest": None}
    if "validate" in stages:
        final = finalise_month(month, force_ids, lake_root=lake_root, validations=validations, errors=errors)
        # This run's forces; the manifest also keeps the month's other forces from earlier runs.
        summary.update({"decisions": {f: final["decisions"][f] for f in force_ids},
                        "held": [f for f in final["held"] if f in force_ids], "manifest": final["manifest"],
                        "totals": final["totals"], "accounting_ok": final["accounting_ok"]})
    return summary


def _ingest_partition(force_id: str, feed: str, *, month: str, landing_root: Path, lake_root: Path,
                      postgres_dsn: str | None, stages: tuple[str, ...]
                      ) -> tuple[dict[str, Any], dict[str, Any] | None, dict[str, Any] | None]:
    """Extract (and validate) one force x feed: its summary row, validation result and error."""
    row: dict[str, Any] = {"force_id": force_id, "feed": feed, "month": month}
    validated: dict[str, Any] | None = None
    stage = "extract"
    try:
        extracted = extract_partition(force_id, feed, month, landing_root=landing_root,
                                      lake_root=lake_root, postgres_dsn=postgres_dsn)
        row["extract"] = extracted["status"]
        row["rows_read"] = sum(extracted["rows_read"].values())
        if "validate" in stages:
            stage = "validate"
            validated = validate_partition(force_id, feed, month, lake_root=lake_root)
            row["validate"] = validated["status"]
            row["rows_read"] = sum((validated.get("rows_read") or {}).values())
            row["rows_landed"] = sum((validated.get("rows_landed") or {}).values())
            row["rows_quarantined"] = sum((validated.get("rows_quarantined") or {}).values())
    except Exception as error:  # one partition's crash must not stop the other forces
        kind = type(error).__name__
        log.error("%s %s/%s/%s crashed: %s", stage, force_id, feed, month, kind)
        log.debug("%s %s/%s/%s traceback", stage, force_id, feed, month, exc_info=True)
        row[stage] = "error"
        row["error"] = f"{stage}: {kind}"
        return row, validated, {"force_id": force_id, "feed": feed, "month": month, "stage": stage,
                                "error": kind, "message": _short(str(error))}
    return row, validated, None


def months_before(month: str, count: int) -> list[str]:
    """The ``count`` months before ``month``, oldest first (for ingesting history in order)."""
    period = pd.Period(check_month(month), freq="M")
    return [str(period - offset) for offset in range(max(0, count), 0, -1)]


def build_month(month: str, *, lake_root: Path, warehouse_path: Path, central_root: Path | None = None,
                use_splink: bool = True, run_id: str | None = None) -> dict[str, Any]:
    """Stage 3: build the warehouse as at ``month`` (one writer: call it once per month, never in parallel).

    Person resolution uses the saved Splink model (``profiles/linkage/person_model.json``) when
    ``use_splink``, else the exact-match baseline. The build is logged in the disclosure log as a
    combination of the forces' records. Returns the warehouse build summary (counts and timings
    only).
    """
    from forceprofiles.distribute.disclosure_log import log_combination
    from forceprofiles.warehouse import build_warehouse

    resolver = None
    if use_splink:
        from forceprofiles.warehouse_resolution import resolve_persons_in_warehouse

        resolver = resolve_persons_in_warehouse
    built = build_warehouse(check_month(month), lake_root=Path(lake_root), warehouse_path=Path(warehouse_path),
                            central_root=Path(central_root) if central_root else None, resolve_persons=resolver)
    forces = sorted(p.name.split("=", 1)[1] for p in Path(lake_root).glob(f"raw/*/force=*/month={month}"))
    log_combination(run_id, month, sorted(set(forces)),
                    {"warehouse": Path(warehouse_path).name, "person_resolution": built.get("person_resolution"),
                     "central_platform": central_root is not None})
    return built


def plan_products(month: str, forces: Iterable[str], held: Iterable[str] = ()) -> list[dict[str, str]]:
    """Stage 4's work list: one entry per (force, product) for the forces not held this month."""
    from forceprofiles.render.products import PRODUCT_IDS

    held = set(held)
    return [{"month": check_month(month), "force_id": force_id, "product": product}
            for force_id in forces if force_id not in held for product in PRODUCT_IDS]


def render_one(month: str, force_id: str, product: str, *, warehouse_path: Path, out_root: Path) -> dict[str, Any]:
    """Stage 4 for one (force, product): the PDF and its sidecar; a held force gives ``skipped``.

    Reads the warehouse read-only, so any number of these run at once.
    """
    from forceprofiles.render.api import ForceHeldError, render_product
    from forceprofiles.render.manifest import product_paths

    try:
        return render_product(Path(warehouse_path), check_month(month), force_id, product, Path(out_root))
    except ForceHeldError as error:
        for stale in product_paths(Path(out_root), month, force_id, product):
            stale.unlink(missing_ok=True)  # a rerun replaces the month: no product from before the hold
        return {"month": month, "force_id": force_id, "product": product, "skipped": str(error)}


def write_products_manifest(month: str, rendered: Iterable[Mapping[str, Any]], *, out_root: Path) -> dict[str, Any]:
    """``out/<month>/manifest.json`` from the sidecars on disk and this run's skipped products."""
    from forceprofiles.render.manifest import month_manifest

    skipped = [{"force_id": str(r["force_id"]), "product": str(r["product"]), "reason": str(r["skipped"])}
               for r in rendered if r and r.get("skipped")]
    return month_manifest(Path(out_root), check_month(month), skipped)


def _short(text: str, limit: int = 300) -> str:
    """The first line of an error message, truncated (it goes into the manifest)."""
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


# --------------------------------------------------------------------------------------------
# Command-line helpers (``forceprofiles run``)
# --------------------------------------------------------------------------------------------

def world_summary(world: Path) -> dict[str, Any]:
    """The synthetic world's ``world.json`` (its months and forces)."""
    path = Path(world) / "world.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: is {world} a world made by `forceprofiles synth`?")
    return json.loads(path.read_text())


def default_month(world: Path | None = None, now: datetime | None = None) -> str:
    """The month a run covers by default: the world's last month, else last calendar month."""
    if world is not None:
        return str(world_summary(world)["months"][-1])
    return previous_month(now)


def default_forces(world: Path | None = None) -> list[str]:
    """The forces a run covers by default: the world's forces, else every force in the registry."""
    if world is not None:
        return list(world_summary(world)["spec"]["forces"])
    return list(load_registry())


def summary_table(summary: Mapping[str, Any]) -> Any:
    """A rich table of an :func:`ingest_month` summary: force x feed status and row counts.

    ``status`` is the validation status (``passed*``: passed with some rows quarantined), or
    the extract's when validation did not run, or ``crashed``. Hold reasons and crashes are
    printed under the table by :func:`hold_lines`.
    """
    from rich import box
    from rich.table import Table

    table = Table(title=f"Force Profiles ingest, {summary['month']}", title_justify="left", box=box.SIMPLE_HEAD,
                  pad_edge=False, show_edge=False, collapse_padding=True,
                  caption="passed*: passed with some rows quarantined" if any(
                      p.get("validate") == "passed_with_quarantine" for p in summary["partitions"]) else None,
                  caption_justify="left")
    for name, justify in (("force", "left"), ("feed", "left"), ("status", "left"), ("read", "right"),
                          ("landed", "right"), ("quarantined", "right"), ("decision", "left")):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    decisions = summary.get("decisions") or {}
    previous = None
    for row in summary["partitions"]:
        force_id = row["force_id"]
        first = force_id != previous
        previous = force_id
        decision = decisions.get(force_id, "") if first else ""
        label = "[red]HELD[/]" if decision.startswith("hold") else "[green]proceed[/]" if decision else ""
        if row.get("error"):
            status = "[red]crashed[/]"  # which stage and why: the errors in the summary and manifest
        elif "validate" in row:
            status = {"passed_with_quarantine": "passed*", "failed": "[red]failed[/]",
                      "missing": "[yellow]missing[/]"}.get(row["validate"], row["validate"])
        else:
            status = row.get("extract", "-")
        table.add_row(force_id if first else "", row["feed"], status, _count(row.get("rows_read")),
                      _count(row.get("rows_landed")), _count(row.get("rows_quarantined")), label)
    return table


def hold_lines(summary: Mapping[str, Any]) -> list[str]:
    """One line per crash (stage and exception type) and per held force (why)."""
    crashes = [f"crashed {e['force_id']}/{e['feed']}: {e['stage']} raised {e['error']} (message in the run manifest)"
               for e in summary.get("errors") or []]
    return crashes + [f"held {force_id}: {decision.removeprefix('hold: ')}"
                      for force_id, decision in (summary.get("decisions") or {}).items() if decision.startswith("hold")]


def _count(value: Any) -> str:
    return f"{int(value):,}" if isinstance(value, (int, float)) else "-"
