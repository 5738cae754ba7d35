"""The malformed-extract corpus (``tests/malformed/``): every broken or hostile delivery ends in
the expected quarantine with a message a data engineer can act on, nothing is dropped silently,
hostile content is stored inert and never shown, and no case stops the other forces.

How the run is shared. Each case owns one force x feed partition of a small world (the corpus's
forces plus a healthy force, January 2026, generated once); its ``files/`` replace that
partition's landing folder, and ``pipeline.ingest_month`` runs once over every force. A force
holds either only cases that must leave it proceeding or only cases that hold it
(``make_corpus.py`` checks this), so cases cannot mask each other, and the healthy force sees
every broken delivery at once. One run per case (the case's force and the healthy force) was
measured at about 10 s on this 2-core machine (GX validation is about 1 s per force x feed),
i.e. five minutes for the corpus; the shared run takes well under one.

Log records at INFO and above are captured for the whole run by a handler on the root logger
(``caplog`` is per test, and the run is shared): no planted value may appear in them, in a
validation report or in the run manifest.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from forceprofiles import contract, pipeline
from forceprofiles.registry import force_config
from forceprofiles.synth.world import WorldSpec
from forceprofiles.synth.writer import generate_world

CORPUS = Path(__file__).resolve().parent / "malformed"


def _load_make_corpus() -> Any:
    spec = importlib.util.spec_from_file_location("malformed_make_corpus", CORPUS / "make_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is built
    spec.loader.exec_module(module)
    return module


make_corpus = _load_make_corpus()
MONTH: str = make_corpus.MONTH
HEALTHY: str = make_corpus.HEALTHY_FORCE
CASES: dict[str, dict[str, Any]] = {
    d.name: yaml.safe_load((d / "case.yml").read_text(encoding="utf-8")) for d in make_corpus.case_dirs(CORPUS)
}

# Cases where extract/validate does not (yet) do what the issue asks. Each is a bug report: the
# expectation in case.yml stays as the issue states it; remove the entry when the bug is fixed
# (strict xfail makes the fix visible).
KNOWN_BUGS: dict[str, str] = {
}


# --------------------------------------------------------------------------------------------
# The shared run
# --------------------------------------------------------------------------------------------


class _Capture(logging.Handler):
    """Every log record at INFO and above, formatted as a handler would write it (with tracebacks)."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception as error:  # a record that cannot be formatted is itself worth seeing
            self.lines.append(f"UNFORMATTABLE {record.name} {record.msg!r} {error!r}")


@dataclass
class CorpusRun:
    landing: Path
    lake: Path
    summary: dict[str, Any] | None
    error: BaseException | None
    logs: str
    seconds: float
    manifest: dict[str, Any] = field(default_factory=dict)
    manifest_text: str = ""

    def partition(self, zone: str, force: str, feed: str) -> Path:
        return self.lake / zone / feed / f"force={force}" / f"month={MONTH}"

    def validation(self, force: str, feed: str) -> dict[str, Any]:
        path = self.partition("raw", force, feed) / "_validation.json"
        assert path.is_file(), f"no validation result for {force}/{feed}"
        return json.loads(path.read_text())

    def report(self, force: str, feed: str) -> str:
        path = self.lake / "reports" / MONTH / force / f"{feed}.md"
        assert path.is_file(), f"no validation report for {force}/{feed}"
        return path.read_text(encoding="utf-8")

    def entry(self, force: str, feed: str) -> dict[str, Any]:
        found = [e for e in self.manifest.get("results", []) if (e["force_id"], e["feed"]) == (force, feed)]
        assert len(found) == 1, f"the run manifest has {len(found)} entries for {force}/{feed}"
        return found[0]

    def decision(self, force: str) -> str:
        return str(self.manifest["decisions"][force])


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    """The corpus dropped into a fresh world and ingested once (see the module docstring)."""
    started = time.perf_counter()
    world = tmp_path_factory.mktemp("malformed_world")
    spec = make_corpus.WORLD
    generate_world(WorldSpec(forces=spec.forces, start=MONTH, end=MONTH, scale=spec.scale, seed=spec.seed), world)
    landing, lake = world / "landing", world / "lake"
    for case_id, case in CASES.items():
        folder = landing / case["force"] / case["feed"] / MONTH
        assert folder.is_dir(), f"{case_id}: the world has no {folder}"
        shutil.rmtree(folder)
        if (CORPUS / case_id / "files").is_dir():
            shutil.copytree(CORPUS / case_id / "files", folder)
    capture = _Capture()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(capture)
    root.setLevel(logging.INFO)
    summary, error = None, None
    try:
        summary = pipeline.ingest_month(MONTH, list(spec.forces), landing_root=landing, lake_root=lake)
    except Exception as raised:  # the run must never raise; every test reports it
        error = raised
    finally:
        root.removeHandler(capture)
        root.setLevel(old_level)
    run = CorpusRun(landing, lake, summary, error, "\n".join(capture.lines), time.perf_counter() - started)
    manifest = pipeline.manifest_path(lake, MONTH)
    if manifest.is_file():
        run.manifest_text = manifest.read_text(encoding="utf-8")
        run.manifest = json.loads(run.manifest_text)
    return run


def _ran(run: CorpusRun) -> None:
    assert run.error is None, f"ingest_month raised {type(run.error).__name__}: {run.error}"
    assert run.summary is not None and run.manifest, "the run wrote no manifest"


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _frame(path: Path) -> pd.DataFrame:
    assert path.is_file(), f"{path} was not written"
    return pd.read_parquet(path)


def _rows_for(frame: pd.DataFrame, key: dict[str, str]) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for column, value in key.items():
        mask &= frame[column].astype(object) == value
    return frame.loc[mask]


def _matches(value: Any, plant: dict[str, Any]) -> bool:
    if not isinstance(value, str):
        return False
    if "value" in plant:
        return value.encode("utf-8") == plant["value"].encode("utf-8")
    return len(value) == plant["length"] and hashlib.sha256(value.encode("utf-8")).hexdigest() == plant["sha256"]


def _leak_needles(case: dict[str, Any]) -> list[str]:
    """Planted values (or, for long ones, a distinctive prefix) that must never be shown."""
    needles = []
    for plant in case.get("planted") or []:
        text = plant.get("value", plant.get("marker"))
        if text:
            needles.append(text)
    return needles


def _check_accounting(entry: dict[str, Any]) -> None:
    read, landed, held = entry["rows_read"], entry["rows_landed"], entry["rows_quarantined"]
    for entity in set(read) | set(landed) | set(held):
        assert read.get(entity, 0) == landed.get(entity, 0) + held.get(entity, 0), (
            f"{entry['force_id']}/{entry['feed']}/{entity}: read {read.get(entity, 0)} != landed "
            f"{landed.get(entity, 0)} + quarantined {held.get(entity, 0)}")
    assert entry["accounting_ok"] is True


def _check_file_quarantined(run: CorpusRun, case: dict[str, Any], validation: dict[str, Any], report: str) -> None:
    force, feed, message = case["force"], case["feed"], case["message"]
    assert validation["status"] == "failed", f"status {validation['status']}, expected failed"
    messages = [e["message"] for e in validation["file_errors"]]
    assert messages, "no file error was recorded: the delivery was read as if it were sound"
    assert any(message in m for m in messages), f"no file error says {message!r}: {messages}"
    assert message in report, f"the report does not say {message!r}"
    assert not any(validation["rows_landed"].values()), "rows landed from a quarantined delivery"
    raw = run.partition("raw", force, feed)
    assert not [p.name for p in raw.glob("*.parquet")], "a failed feed must land nothing"
    files = run.partition("quarantine", force, feed) / "files"
    name = case["quarantined_file"]
    reason = files / f"{name}.reason.txt"
    assert reason.is_file(), f"no quarantine reason for {name} in {files}"
    assert message in reason.read_text(encoding="utf-8")
    delivered = CORPUS / case["id"] / "files" / name
    if delivered.is_file():  # the rejected bytes are kept, byte for byte, for the data team
        kept = [p for p in files.glob(f"*__{name}") if p.read_bytes() == delivered.read_bytes()]
        assert kept, f"the rejected {name} was not kept in {files}"
    decision = run.decision(force)
    assert decision.startswith("hold") and f"{feed} failed validation" in decision, decision


def _check_rows_quarantined(run: CorpusRun, case: dict[str, Any], validation: dict[str, Any], report: str) -> None:
    force, feed = case["force"], case["feed"]
    assert validation["status"] == "passed_with_quarantine", f"status {validation['status']}"
    assert not validation["file_errors"]
    expected = {e: case["rows_quarantined"].get(e, 0) for e in contract.entities(feed)}
    assert validation["rows_quarantined"] == expected
    assert validation["rows_read"] == case["rows"], "rows were lost or invented on the way in"
    assert case["message"] in report, f"the report does not say {case['message']!r}"
    said = False
    for entity, count in expected.items():
        path = run.partition("quarantine", force, feed) / f"{entity}.parquet"
        if not count:
            assert not path.exists() or len(pd.read_parquet(path)) == 0
            continue
        held = _frame(path)
        assert len(held) == count
        reasons = held["_quarantine_reasons"].astype(str)
        says = reasons.str.contains(case["reason"], regex=False)
        said = said or bool(says.any())
        # every held row carries its own reason, or follows a parent that was held for it
        assert (says | reasons.str.contains("parent record quarantined", regex=False)).all(), list(reasons)
        landed = _frame(run.partition("raw", force, feed) / f"{entity}.parquet")
        assert len(landed) == case["rows"][entity] - count
    assert said, f"no quarantined row gives the reason {case['reason']!r}"
    for plant in case.get("planted") or []:  # held byte for byte, for the force to correct
        held = _frame(run.partition("quarantine", force, feed) / f"{plant['entity']}.parquet")
        assert any(_matches(v, plant) for v in held[plant["column"]]), f"{plant['column']} not held intact"
    assert f"{feed} " not in run.decision(force), f"{force} is held over a row-level problem: {run.decision(force)}"


def _check_landed(run: CorpusRun, case: dict[str, Any], validation: dict[str, Any], report: str) -> None:
    force, feed = case["force"], case["feed"]
    assert validation["status"] == "passed", f"status {validation['status']}: {validation['problems']}"
    assert not any(validation["rows_quarantined"].values())
    assert validation["rows_read"] == case["rows"], "rows were lost or invented on the way in"
    assert validation["rows_landed"] == case["rows"]
    assert case["message"] in report, f"the report does not say {case['message']!r}"
    for entity, count in case["rows"].items():
        assert len(_frame(run.partition("raw", force, feed) / f"{entity}.parquet")) == count
    for plant in case.get("planted") or []:
        landed = _frame(run.partition("raw", force, feed) / f"{plant['entity']}.parquet")
        rows = _rows_for(landed, plant["key"])
        assert len(rows) == 1, f"{plant['entity']} {plant['key']}: {len(rows)} landed rows"
        value = rows[plant["column"]].iloc[0]
        if "decode_error" in plant:  # a value that could not be read lands as null, its raw text kept
            assert value is None or pd.isna(value)
            assert plant["decode_error"] in str(rows["_decode_errors"].iloc[0])
        else:
            assert _matches(value, plant), f"{plant['column']} did not land byte-identical"
        for flag in case.get("flags") or []:
            assert flag in str(rows["_warnings"].iloc[0]), f"{plant['column']}: _warnings lacks {flag}"
    assert f"{feed} " not in run.decision(force), f"{force} is held: {run.decision(force)}"


def _check_feed_missing(run: CorpusRun, case: dict[str, Any], validation: dict[str, Any], report: str) -> None:
    assert validation["status"] == "missing"
    assert "late delivery" in report.lower()
    decision = run.decision(case["force"])
    assert decision.startswith("hold") and f"{case['feed']} {case['message']}" in decision, decision


def _check_feed_failed(run: CorpusRun, case: dict[str, Any], validation: dict[str, Any], report: str) -> None:
    assert validation["status"] == "failed"
    batch = [p["message"] for p in validation["problems"] if p["severity"] == "batch"]
    assert any(case["message"] in m for m in batch), batch
    assert case["message"] in report
    assert not any(validation["rows_landed"].values())
    decision = run.decision(case["force"])
    assert decision.startswith("hold") and f"{case['feed']} failed validation" in decision, decision


CHECKS = {
    "file_quarantined": _check_file_quarantined,
    "rows_quarantined": _check_rows_quarantined,
    "landed": _check_landed,
    "landed_flagged": _check_landed,
    "feed_missing": _check_feed_missing,
    "feed_failed": _check_feed_failed,
}


# --------------------------------------------------------------------------------------------
# One test per case
# --------------------------------------------------------------------------------------------


def _case_params() -> list[Any]:
    return [pytest.param(case_id, id=case_id,
                         marks=[pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[case_id])] if case_id in KNOWN_BUGS
                         else [])
            for case_id in CASES]


@pytest.mark.parametrize("case_id", _case_params())
def test_malformed_case(corpus_run: CorpusRun, case_id: str) -> None:
    run, case = corpus_run, CASES[case_id]
    force, feed = case["force"], case["feed"]
    _ran(run)
    crashes = [e for e in run.manifest["errors"] if (e["force_id"], e["feed"]) == (force, feed)]
    assert not crashes, f"the {crashes[0]['stage']} stage crashed: {crashes[0]['error']}: {crashes[0]['message']}"
    validation = run.validation(force, feed)
    report = run.report(force, feed)
    _check_accounting(run.entry(force, feed))
    CHECKS[case["outcome"]](run, case, validation, report)
    for needle in _leak_needles(case):
        assert needle not in report, f"a planted value appears in the report of {force}/{feed}"
        assert needle not in run.logs, "a planted value appears in the log (INFO or above)"
        assert needle not in run.manifest_text, "a planted value appears in the run manifest"
        assert needle not in json.dumps(run.summary, ensure_ascii=False), "a planted value is in the run summary"
    assert run.decision(HEALTHY) == "proceed", f"the healthy force was held: {run.decision(HEALTHY)}"


# --------------------------------------------------------------------------------------------
# The run as a whole
# --------------------------------------------------------------------------------------------


def test_the_healthy_force_lands_every_feed(corpus_run: CorpusRun) -> None:
    _ran(corpus_run)
    assert corpus_run.decision(HEALTHY) == "proceed"
    for feed in contract.FEEDS:
        validation = corpus_run.validation(HEALTHY, feed)
        assert validation["status"] == "passed", f"{HEALTHY}/{feed}: {validation['status']}"
        assert validation["rows_landed"] == validation["rows_read"]
        for entity, count in validation["rows_landed"].items():
            assert len(_frame(corpus_run.partition("raw", HEALTHY, feed) / f"{entity}.parquet")) == count
    assert validation["rows_read"], "the healthy force delivered nothing"


def test_holds_fall_only_on_the_forces_with_failed_or_missing_feeds(corpus_run: CorpusRun) -> None:
    _ran(corpus_run)
    held = {f for f, d in corpus_run.manifest["decisions"].items() if d != "proceed"}
    assert held == set(make_corpus.HELD_FORCES), corpus_run.manifest["decisions"]
    assert not corpus_run.manifest["errors"], corpus_run.manifest["errors"]


def test_every_row_read_is_landed_or_quarantined(corpus_run: CorpusRun) -> None:
    """rows read = rows landed + rows quarantined, for every force, feed and entity of the run."""
    _ran(corpus_run)
    entries = corpus_run.manifest["results"]
    assert {(e["force_id"], e["feed"]) for e in entries} == {
        (f, feed) for f in make_corpus.WORLD.forces for feed in contract.FEEDS}
    for entry in entries:
        _check_accounting(entry)
    totals = corpus_run.manifest["totals"]
    assert totals["rows_read"] == totals["rows_landed"] + totals["rows_quarantined"]
    assert corpus_run.manifest["accounting_ok"] is True


def test_no_case_value_reaches_a_report_or_the_log(corpus_run: CorpusRun) -> None:
    """Every report of the run, not only the case's own, is free of every planted value."""
    _ran(corpus_run)
    reports = "\n".join(p.read_text(encoding="utf-8") for p in sorted((corpus_run.lake / "reports").rglob("*.md")))
    for case_id, case in CASES.items():
        for needle in _leak_needles(case):
            assert needle not in reports, f"{case_id}: a planted value appears in a report"
            assert needle not in corpus_run.logs, f"{case_id}: a planted value appears in the log"


def test_the_corpus_run_is_quick(corpus_run: CorpusRun) -> None:
    """The shared run (world, landing, ingest) stays well inside the suite's budget."""
    assert corpus_run.seconds < 300, f"the corpus run took {corpus_run.seconds:.0f} s"


# --------------------------------------------------------------------------------------------
# The corpus itself
# --------------------------------------------------------------------------------------------


def test_the_corpus_covers_the_issue() -> None:
    assert len(CASES) >= 22
    dialects = {case["dialect"] for case in CASES.values()}
    assert dialects == {"athena", "niche", "connect"}
    assert len({case["feed"] for case in CASES.values()}) == len(contract.FEEDS)
    assert {case["outcome"] for case in CASES.values()} >= {"file_quarantined", "rows_quarantined", "feed_missing",
                                                             "landed_flagged"}
    for case_id, case in CASES.items():
        assert case["id"] == case_id
        assert force_config(case["force"]).dialect == case["dialect"]
        assert case["outcome"] in CHECKS, f"{case_id}: unknown outcome {case['outcome']!r}"
        assert case["message"], f"{case_id}: no message to look for"
        files = CORPUS / case_id / "files"
        if case["outcome"] == "feed_missing":
            assert not files.exists()
            continue
        assert sorted(p.name for p in files.iterdir()) == sorted(case["files"])
        assert set(case["malformed_files"]) <= set(case["files"]) | {case.get("quarantined_file")}


def test_the_corpus_is_what_make_corpus_writes(tmp_path: Path) -> None:
    """The committed corpus is exactly what the script derives from a fresh world (regenerable)."""
    written = make_corpus.main(tmp_path)
    assert [p.name for p in written] == list(CASES), "case list changed: re-run tests/malformed/make_corpus.py"
    stale = []
    for directory in written:
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            committed = CORPUS / directory.name / path.relative_to(directory)
            if not committed.is_file() or committed.read_bytes() != path.read_bytes():
                stale.append(str(committed.relative_to(CORPUS)))
    assert not stale, f"out of date (re-run tests/malformed/make_corpus.py): {stale}"
