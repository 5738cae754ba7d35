"""Stage 2, validate: check one force's monthly extract of one feed before anything trusts it.

Extraction leaves canonical frames in ``lake/staging/<feed>/force=<id>/month=<YYYY-MM>/``.
This stage runs the feed's Great Expectations suite (``expectations/<feed>.yml``) on them as
pandas DataFrames (GX on DuckDB SQL is broken upstream, DESIGN.md) and sorts every row into
exactly one place:

- ``lake/raw/...``: accepted rows, which the warehouse builds from;
- ``lake/quarantine/...``: rejected rows, each with the reasons it was rejected.

Nothing is dropped silently: per force, feed, month and entity, rows read = rows landed + rows
quarantined, written to ``lake/raw/.../_validation.json`` and checked before it is written
(:class:`AccountingError` if not). A problem with one row (an unknown offence code, an
impossible date, a duplicated key) quarantines that row and, for a parent record, its children
(a person involved in a quarantined crime cannot be scored without the crime). A problem with
the extract as a whole (a missing column, the wrong types, a volume far outside the force's
recent months, most rows failing) fails the feed for the month: nothing lands and every row is
quarantined, so the warehouse keeps the month's earlier state rather than half of it.

A readable report per force and feed (``lake/reports/<YYYY-MM>/<force>/<feed>.md``) tells the
data engineer what failed, where (source file and row numbers) and what to ask the force for.
Reports, problems and logs never carry a record's values: personal data stays in the
quarantine Parquet, which is as protected as the rest of the lake.

Re-running a month replaces exactly that month's outputs, byte for byte when the inputs are
the same: outputs carry no run timestamps (the run manifest does).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import math
import os
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from forceprofiles import contract
from forceprofiles.identifiers import is_valid_cro, is_valid_pnc

log = logging.getLogger(__name__)

HOME_ENV = "FORCEPROFILES_HOME"
SEVERITIES: tuple[str, ...] = ("row", "batch", "warn")
STATUSES: tuple[str, ...] = ("passed", "passed_with_quarantine", "failed", "missing")
LANDED_STATUSES: tuple[str, ...] = ("passed", "passed_with_quarantine")

ROW_ID = "_row_id"
PROVENANCE_COLUMNS: tuple[str, ...] = ("_source_file", "_source_row", "_decode_errors")
WARNINGS_COLUMN = "_warnings"
REASONS_COLUMN = "_quarantine_reasons"
PARENT_QUARANTINED = "parent record quarantined"
MAX_EXAMPLES = 10

# The pandas dtype names GX's type expectations accept for each contract dtype. Strings are
# checked value by value (object columns), the others by the column's dtype.
_DATETIME_DTYPES = ["datetime64[ns]", "datetime64[us]", "datetime64[ms]", "datetime64[s]"]
DTYPE_NAMES: dict[str, list[str]] = {
    "string": ["str"],
    "timestamp": _DATETIME_DTYPES,
    "date": _DATETIME_DTYPES,
    "bool": ["BooleanDtype", "bool"],
    "int": ["Int64Dtype", "int64"],
    "float": ["float64"],
}
RUN_TOKENS: tuple[str, ...] = ("month_start", "next_month_start", "force_id", "volume_min", "volume_max")
HELPER_FUNCTIONS: tuple[str, ...] = ("valid_pnc", "valid_cro", "has_parent", "decoded_cleanly", "repeats_earlier_row")


class SuiteConfigError(ValueError):
    """An ``expectations/<feed>.yml`` file that does not describe a valid suite."""


class AccountingError(RuntimeError):
    """Rows read != rows landed + rows quarantined: a bug, never a data problem; stop the run."""


# --------------------------------------------------------------------------------------------
# Results


@dataclass
class Problem:
    """One failed expectation, described without any record's values."""

    entity: str
    rule: str
    expectation: str
    column: str | None
    severity: str
    rows_affected: int | None  # None: a check of the extract as a whole
    message: str
    ask_the_force: str
    examples: list[tuple[str, int]] = field(default_factory=list)  # (source file, source row)
    source_files: list[str] = field(default_factory=list)

    @property
    def example_rows(self) -> list[int]:
        return [row for _, row in self.examples]

    def to_json(self) -> dict[str, object]:
        return {
            "entity": self.entity, "rule": self.rule, "expectation": self.expectation, "column": self.column,
            "severity": self.severity, "rows_affected": self.rows_affected, "message": self.message,
            "ask_the_force": self.ask_the_force,
            "examples": [{"file": file, "row": row} for file, row in self.examples],
            "source_files": list(self.source_files),
        }


@dataclass
class ValidationResult:
    """What validation decided for one force, feed and month."""

    force_id: str
    feed: str
    month: str
    status: str
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_landed: dict[str, int] = field(default_factory=dict)
    rows_quarantined: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    file_errors: list[dict[str, str]] = field(default_factory=list)
    report_path: Path | None = None
    suite_version: int | None = None
    suite_sha256: str | None = None

    @property
    def accounting_ok(self) -> bool:
        """rows read == rows landed + rows quarantined, for every entity."""
        entities = set(self.rows_read) | set(self.rows_landed) | set(self.rows_quarantined)
        return all(self.rows_read.get(e, 0) == self.rows_landed.get(e, 0) + self.rows_quarantined.get(e, 0)
                   for e in entities)

    def failed_reason(self) -> str:
        """A one-line reason for a failed or missing feed, for alerts (no values)."""
        if self.status == "missing":
            return "no extract delivered (late delivery)"
        if self.file_errors:
            return "the delivery could not be read: " + self.file_errors[0].get("message", "file error")
        batch = [p for p in self.problems if p.severity == "batch"]
        if batch:
            more = f" (and {len(batch) - 1} more)" if len(batch) > 1 else ""
            return f"{batch[0].entity}: {batch[0].message}{more}"
        return self.status

    @classmethod
    def from_json(cls, record: Mapping[str, Any]) -> ValidationResult:
        """A result back from its ``to_json()`` record (e.g. a month's ``_validation.json``)."""
        problems = [Problem(entity=p["entity"], rule=p["rule"], expectation=p["expectation"], column=p.get("column"),
                            severity=p["severity"], rows_affected=p.get("rows_affected"), message=p["message"],
                            ask_the_force=p["ask_the_force"],
                            examples=[(str(e["file"]), int(e["row"])) for e in p.get("examples") or []],
                            source_files=list(p.get("source_files") or []))
                    for p in record.get("problems") or []]
        return cls(force_id=str(record["force_id"]), feed=str(record["feed"]), month=str(record["month"]),
                   status=str(record["status"]),
                   rows_read={k: int(v) for k, v in (record.get("rows_read") or {}).items()},
                   rows_landed={k: int(v) for k, v in (record.get("rows_landed") or {}).items()},
                   rows_quarantined={k: int(v) for k, v in (record.get("rows_quarantined") or {}).items()},
                   problems=problems, notes=list(record.get("notes") or []),
                   file_errors=[dict(e) for e in record.get("file_errors") or []],
                   report_path=Path(record["report_path"]) if record.get("report_path") else None,
                   suite_version=record.get("suite_version"), suite_sha256=record.get("suite_sha256"))

    def to_json(self) -> dict[str, object]:
        return {
            "force_id": self.force_id, "feed": self.feed, "month": self.month, "status": self.status,
            "rows_read": dict(self.rows_read), "rows_landed": dict(self.rows_landed),
            "rows_quarantined": dict(self.rows_quarantined), "accounting_ok": self.accounting_ok,
            "problems": [p.to_json() for p in self.problems], "notes": list(self.notes),
            "file_errors": list(self.file_errors),
            "report_path": str(self.report_path) if self.report_path else None,
            "suite_version": self.suite_version, "suite_sha256": self.suite_sha256,
        }


# --------------------------------------------------------------------------------------------
# Suite configuration (expectations/<feed>.yml)


@dataclass(frozen=True)
class Rule:
    """One expectation of a suite, for one column (``columns:`` lists are expanded)."""

    id: str
    gx_type: str
    column: str | None
    kwargs: Mapping[str, Any]
    row_condition: Mapping[str, Any] | None
    severity: str
    description: str
    ask_the_force: str

    @property
    def key(self) -> str:
        """Unique within an entity: the rule id, and the column for expanded rules."""
        return f"{self.id}:{self.column}" if self.column else self.id

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column the rule reads (it cannot run if one is missing)."""
        names = [self.column] if self.column else []
        names += list(self.kwargs.get("column_list", []))
        names += [self.kwargs[k] for k in ("column_A", "column_B") if k in self.kwargs]
        if self.row_condition:
            names.append(self.row_condition["column"])
        return tuple(n for n in names if n)

    @property
    def display_column(self) -> str | None:
        """The columns the rule is about (not the one its row condition reads)."""
        cols = [c for c in self.columns if not (self.row_condition and c == self.row_condition["column"]
                                                and c != self.column)]
        return ", ".join(dict.fromkeys(cols)) or None

    def says(self) -> str:
        return self.description.format(column=self.display_column or "")

    def ask(self) -> str:
        return self.ask_the_force.format(column=self.display_column or "")


@dataclass(frozen=True)
class EntitySuite:
    """The rules of one entity, its helper columns and its parent link."""

    name: str
    parent_entity: str | None
    parent_key: tuple[str, ...]
    helpers: Mapping[str, Mapping[str, str]]
    rules: tuple[Rule, ...]

    def shown_column(self, rule: Rule) -> str | None:
        """The contract column a rule is about, for people: a helper's source column, not the helper."""
        spec = self.helpers.get(rule.column or "")
        if spec is None:
            return rule.display_column
        if spec.get("function") == "has_parent":
            return ", ".join(self.parent_key)
        return spec.get("column")

    def flag(self, rule: Rule) -> str:
        """How a warn rule is listed in a landed row's ``_warnings``: rule id and column."""
        shown = self.shown_column(rule)
        return f"{rule.id}:{shown}" if shown and "," not in shown else rule.id


@dataclass(frozen=True)
class FeedSuite:
    """A feed's suite as configured, with its policy knobs."""

    feed: str
    version: int
    max_quarantine_share: float
    quarantine_share_min_rows: int
    band_lower: float
    band_upper: float
    min_median_rows: int
    min_history_months: int
    home_office_extra_codes: tuple[str, ...]
    entities: Mapping[str, EntitySuite]
    sha256: str


def find_expectations_dir() -> Path:
    """The ``expectations/`` folder: under $FORCEPROFILES_HOME, else the nearest one above this file."""
    home = os.environ.get(HOME_ENV)
    if home:
        candidate = Path(home) / "expectations"
        if candidate.is_dir():
            return candidate
        raise FileNotFoundError(f"{HOME_ENV}={home} holds no expectations/ folder")
    for parent in Path(__file__).resolve().parents:
        if (parent / "expectations").is_dir():
            return parent / "expectations"
    raise FileNotFoundError(f"no expectations/ folder above {__file__}; set {HOME_ENV}")


def load_suite(feed: str, expectations_dir: Path | None = None) -> FeedSuite:
    """Read and check ``expectations/<feed>.yml``; fail fast on a typo rather than mid-run."""
    if feed not in contract.FEEDS:
        raise SuiteConfigError(f"{feed!r} is not a feed of the contract")
    path = (expectations_dir or find_expectations_dir()) / f"{feed}.yml"
    text = path.read_bytes()
    raw = yaml.safe_load(text)
    where = str(path)
    if raw.get("feed") != feed:
        raise SuiteConfigError(f"{where}: feed is {raw.get('feed')!r}, expected {feed!r}")
    policy = raw.get("policy") or {}
    band = policy.get("volume_band") or {}
    configured = raw.get("entities") or {}
    if list(configured) != list(contract.entities(feed)):
        raise SuiteConfigError(f"{where}: entities {list(configured)} must be {list(contract.entities(feed))}, in order")
    entities: dict[str, EntitySuite] = {}
    for name, spec in configured.items():
        entities[name] = _entity_suite(feed, name, spec or {}, entities, f"{where}: {name}")
    return FeedSuite(
        feed=feed, version=int(raw.get("version", 1)),
        max_quarantine_share=float(policy.get("max_quarantine_share", 0.5)),
        quarantine_share_min_rows=int(policy.get("quarantine_share_min_rows", 20)),
        band_lower=float(band.get("lower", 0.5)), band_upper=float(band.get("upper", 2.0)),
        min_median_rows=int(band.get("min_median_rows", 20)),
        min_history_months=int(band.get("min_history_months", 3)),
        home_office_extra_codes=tuple(str(c) for c in raw.get("home_office_extra_codes", ("8U", "NC"))),
        entities=entities, sha256=hashlib.sha256(text).hexdigest(),
    )


def _entity_suite(feed: str, name: str, spec: Mapping[str, Any], earlier: Mapping[str, EntitySuite],
                  where: str) -> EntitySuite:
    import great_expectations.expectations as gxe

    helpers = dict(spec.get("helpers") or {})
    for helper, hspec in helpers.items():
        if not helper.startswith("_") or hspec.get("function") not in HELPER_FUNCTIONS:
            raise SuiteConfigError(f"{where}: helper {helper!r} must start with _ and use one of {HELPER_FUNCTIONS}")
    parent = spec.get("parent")
    parent_entity, parent_key = None, ()
    if parent:
        parent_entity, parent_key = parent["entity"], tuple(parent["key"])
        if parent_entity not in earlier:
            raise SuiteConfigError(f"{where}: parent {parent_entity!r} must be an entity listed before it")
    known = set(contract.column_names(feed, name)) | set(helpers)
    rules: list[Rule] = []
    for item in spec.get("expectations") or []:
        rid = item.get("id", "?")
        if not hasattr(gxe, str(item.get("type"))):
            raise SuiteConfigError(f"{where}: rule {rid}: {item.get('type')!r} is not a GX expectation")
        if item.get("severity") not in SEVERITIES:
            raise SuiteConfigError(f"{where}: rule {rid}: severity must be one of {SEVERITIES}")
        for key in ("id", "description", "ask_the_force"):
            if not item.get(key):
                raise SuiteConfigError(f"{where}: rule {rid}: {key} is required")
        for column in item.get("columns") or [None]:
            rule = Rule(id=str(item["id"]), gx_type=str(item["type"]), column=column,
                        kwargs=dict(item.get("kwargs") or {}), row_condition=item.get("row_condition"),
                        severity=str(item["severity"]), description=str(item["description"]),
                        ask_the_force=str(item["ask_the_force"]))
            unknown = [c for c in rule.columns if c not in known]
            if unknown:
                raise SuiteConfigError(f"{where}: rule {rid}: unknown columns {unknown}")
            rules.append(rule)
    keys = [r.key for r in rules]
    if len(keys) != len(set(keys)):
        raise SuiteConfigError(f"{where}: rule ids must be unique per column")
    return EntitySuite(name, parent_entity, parent_key, helpers, tuple(rules))


@lru_cache(maxsize=1)
def reference_home_office_codes() -> frozenset[str]:
    """Home Office classifications known to the reference data (offence codes and PRC offences).

    Loaded at run time, not copied into the suite, so a new classification is a reference-data
    update, not a suite change. A grouped code such as homicide's ``1/4.1/4.10/4.2`` is valid
    as written and so is each of its parts (a force records a murder as ``1``).
    """
    from forceprofiles import reference

    codes: set[str] = set()
    for frame in (reference.offence_codes(), reference.prc_offences()):
        for code in frame["ho_code"].dropna().astype(str).str.strip():
            codes.add(code)
            if "/" in code:
                codes.update(part.strip() for part in code.split("/"))
    return frozenset(code for code in codes if code)


def home_office_codes(suite: FeedSuite) -> list[str]:
    """The valid offence codes: the reference classifications plus the suite's extras (8U, NC)."""
    return sorted(reference_home_office_codes() | set(suite.home_office_extra_codes))


# --------------------------------------------------------------------------------------------
# Great Expectations plumbing: one ephemeral context per process, one asset per entity

_GX: dict[str, Any] = {}


def _gx_context() -> Any:
    """The process's ephemeral GX context (creating one is slow; do it once), quiet and offline."""
    if "context" not in _GX:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        _GX["context"] = context
        _GX["source"] = context.data_sources.add_pandas("forceprofiles_staging")
    return _GX["context"]


def _batch_definition(feed: str, entity: str) -> Any:
    _gx_context()
    name = f"{feed}.{entity}"
    if name not in _GX:
        asset = _GX["source"].add_dataframe_asset(name)
        _GX[name] = asset.add_batch_definition_whole_dataframe(name)
    return _GX[name]


class _Unresolved(Exception):
    """A run token with no value this run (e.g. no volume history): the rule is skipped."""


def _resolve(value: Any, run: Mapping[str, Any], suite: FeedSuite) -> Any:
    """Turn the YAML's tokens ({code_list: ...}, {dtype: ...}, {date: ...}, {run: ...}) into values."""
    if isinstance(value, list):
        return [_resolve(v, run, suite) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        (kind, arg), = value.items()
        if kind == "code_list":
            return home_office_codes(suite) if arg == "home_office" else list(contract.CODE_LISTS[arg])
        if kind == "dtype":
            return list(DTYPE_NAMES[arg])
        if kind == "date":
            return pd.Timestamp(str(arg))
        if kind == "run":
            if arg not in RUN_TOKENS:
                raise SuiteConfigError(f"unknown run token {arg!r}")
            if run.get(arg) is None:
                raise _Unresolved(arg)
            return run[arg]
    return value


def _condition(spec: Mapping[str, Any]) -> Any:
    from great_expectations.expectations.row_conditions import Column

    column = Column(spec["column"])
    if "equals" in spec:
        return column == spec["equals"]
    if "not_equals" in spec:
        return column != spec["not_equals"]
    if "in" in spec:
        return column.is_in(list(spec["in"]))
    raise SuiteConfigError(f"row_condition {dict(spec)} needs equals, not_equals or in")


def _expectation(rule: Rule, run: Mapping[str, Any], suite: FeedSuite) -> Any:
    """The GX expectation for one rule; raises _Unresolved when a run token has no value."""
    import great_expectations.expectations as gxe

    kwargs = {key: _resolve(value, run, suite) for key, value in rule.kwargs.items()}
    if rule.column:
        kwargs["column"] = rule.column
    if rule.row_condition:
        kwargs["row_condition"] = _condition(rule.row_condition)
    return getattr(gxe, rule.gx_type)(**kwargs, meta={"rule_key": rule.key})


@dataclass
class _Outcome:
    success: bool
    row_ids: list[int]
    observed: Any
    error: str | None


def _run_gx(feed: str, entity: str, frame: pd.DataFrame, expectations: Sequence[Any]) -> dict[str, _Outcome]:
    """Validate a frame against expectations; per rule key: success and the failing row ids.

    Two passes, because GX's cost here is building each expectation's metric graph, not the
    data: a first pass asks only pass/fail of every rule (BOOLEAN_ONLY, about 40% cheaper than
    COMPLETE on a clean partition), and only the rules that failed or raised are run again
    with COMPLETE results for their failing row ids and observed values. Most partitions pass
    every rule, so most pay for the cheap pass alone.
    """
    if not expectations:
        return {}
    batch = _batch_definition(feed, entity).get_batch(batch_parameters={"dataframe": frame})
    first = _gx_results(batch, feed, entity, expectations, {"result_format": "BOOLEAN_ONLY"})
    outcomes = {key: _Outcome(True, [], None, None) for key, result in first.items() if result.success}
    again = [e for e in expectations if e.meta["rule_key"] not in outcomes]
    complete = {"result_format": "COMPLETE", "unexpected_index_column_names": [ROW_ID]}
    for key, result in _gx_results(batch, feed, entity, again, complete).items():
        info = result.exception_info or {}
        error = str(info.get("exception_message")) if info.get("raised_exception") else None
        row_ids = sorted({int(item[ROW_ID]) for item in (result.result.get("unexpected_index_list") or [])
                          if isinstance(item, dict) and ROW_ID in item})
        outcomes[key] = _Outcome(bool(result.success), row_ids, result.result.get("observed_value"), error)
    return outcomes


def _gx_results(batch: Any, feed: str, entity: str, expectations: Sequence[Any],
                result_format: Mapping[str, Any]) -> dict[str, Any]:
    """One GX validation of ``expectations`` on ``batch``: the result per rule key."""
    import great_expectations as gx

    if not expectations:
        return {}
    # Passing the list to the constructor skips add_expectation's pairwise duplicate check
    # (quadratic; a second per entity at 90 rules). Rule keys are unique already (load_suite).
    suite = gx.ExpectationSuite(name=f"{feed}.{entity}", expectations=list(expectations))
    results = batch.validate(suite, result_format=dict(result_format))
    return {result.expectation_config.meta["rule_key"]: result for result in results.results}


# --------------------------------------------------------------------------------------------
# Helper columns: checks GX has no built-in for, computed in pandas and checked with BeInSet


def _valid_identifier(series: pd.Series, check: Any) -> pd.Series:
    out = pd.array([None if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
                    else bool(check(str(value))) for value in series], dtype="boolean")
    return pd.Series(out, index=series.index)


def _add_helpers(frame: pd.DataFrame, feed: str, entity: EntitySuite, parent: pd.DataFrame | None) -> pd.DataFrame:
    """Add the entity's helper columns (``_pnc_valid``, ``_has_parent``...) to a copy of the frame."""
    out = frame.copy()
    for name, spec in entity.helpers.items():
        function, column = spec["function"], spec.get("column")
        if function in ("valid_pnc", "valid_cro"):
            check = is_valid_pnc if function == "valid_pnc" else is_valid_cro
            out[name] = _valid_identifier(out[column], check) if column in out else pd.array([pd.NA] * len(out), dtype="boolean")
        elif function == "decoded_cleanly":
            clean = out["_decode_errors"].isna() if "_decode_errors" in out else pd.Series(True, index=out.index)
            out[name] = clean.astype("boolean")
        elif function == "has_parent":
            out[name] = _has_parent(out, parent, entity.parent_key).astype("boolean")
        elif function == "repeats_earlier_row":
            # An exact repeat (every contract column equal; provenance may differ) adds nothing:
            # the first copy lands, the repeats are quarantined. Copies that differ are a real
            # key conflict, which key_unique quarantines whole.
            columns = [c for c in contract.column_names(feed, entity.name) if c in out]
            out[name] = out.duplicated(subset=columns, keep="first").astype("boolean")
    return out


def _key_index(frame: pd.DataFrame, key: Sequence[str]) -> pd.Index:
    if len(key) == 1:
        return pd.Index(frame[key[0]].astype(object))
    return pd.MultiIndex.from_frame(frame[list(key)].astype(object))


def _has_parent(child: pd.DataFrame, parent: pd.DataFrame | None, key: Sequence[str]) -> pd.Series:
    if parent is None or not all(k in parent and k in child for k in key):
        return pd.Series(False, index=child.index)
    return pd.Series(_key_index(child, key).isin(_key_index(parent, key)), index=child.index)


# --------------------------------------------------------------------------------------------
# Lake layout


def partition(lake_root: Path, zone: str, feed: str, force_id: str, month: str) -> Path:
    """The lake folder of one zone (staging, raw, quarantine) for a force, feed and month."""
    return Path(lake_root) / zone / feed / f"force={force_id}" / f"month={month}"


def report_path(lake_root: Path, force_id: str, feed: str, month: str) -> Path:
    """Where the readable report of one force, feed and month goes."""
    return Path(lake_root) / "reports" / month / force_id / f"{feed}.md"


def _previous_months(month: str, n: int) -> list[str]:
    period = pd.Period(month, freq="M")
    return [str(period - i) for i in range(1, n + 1)]


def delivered_history(lake_root: Path, force_id: str, feed: str, month: str,
                      history_months: int) -> dict[str, list[int]]:
    """Rows delivered per entity in each of the previous months that had a delivery (from _validation.json).

    The band judges whether a delivery is complete, so it compares deliveries: rows read, in
    every month that arrived and could be read, whether it then passed or failed. Landed counts
    would not do: a month that fails lands nothing, so a force whose volume legitimately
    changed (or whose first month was an initial load, as ViSOR's is) would fail the band
    against its own earlier level for ever. Missing months and unreadable deliveries are left
    out; the median shrugs off the odd truncated month.
    """
    history: dict[str, list[int]] = {}
    for previous in _previous_months(month, history_months):
        path = partition(lake_root, "raw", feed, force_id, previous) / "_validation.json"
        if not path.is_file():
            continue
        record = json.loads(path.read_text())
        if record.get("status") == "missing" or record.get("file_errors"):
            continue
        for entity, count in (record.get("rows_read") or {}).items():
            history.setdefault(entity, []).append(int(count))
    return history


# --------------------------------------------------------------------------------------------
# The stage


@dataclass
class _EntityVerdict:
    frame: pd.DataFrame  # staging rows with _row_id (no helpers)
    reasons: dict[int, list[str]] = field(default_factory=dict)
    warnings: dict[int, list[str]] = field(default_factory=dict)


def validate_extract(force_id: str, feed: str, month: str, lake_root: Path, history_months: int = 6, *,
                     expectations_dir: Path | None = None) -> ValidationResult:
    """Validate one force's feed for one month; land, quarantine and report; idempotent.

    Returns the result (status passed, passed_with_quarantine, failed or missing). Raises
    :class:`AccountingError` if rows would go unaccounted for (a bug, not a data problem).
    """
    lake_root = Path(lake_root)
    suite = load_suite(feed, expectations_dir)
    staging = partition(lake_root, "staging", feed, force_id, month)
    result = ValidationResult(force_id, feed, month, "passed", suite_version=suite.version,
                              suite_sha256=suite.sha256)
    _clear_outputs(lake_root, force_id, feed, month)
    meta = _read_extract_meta(staging)
    entity_files = {e: staging / f"{e}.parquet" for e in suite.entities}
    if meta.get("file_errors"):
        result.status = "failed"
        result.file_errors = [{"path": Path(str(e.get("path", ""))).name, "message": str(e.get("message", ""))}
                              for e in meta["file_errors"]]
        result.rows_read = {e: int(n) for e, n in (meta.get("rows_read") or {}).items()}
        result.rows_quarantined = dict(result.rows_read)  # the extract quarantined the files whole
        result.rows_landed = {e: 0 for e in result.rows_read}
        return _finish(result, lake_root, {}, suite)
    if not staging.is_dir() or meta.get("status") == "missing" or not any(p.is_file() for p in entity_files.values()):
        result.status = "missing"
        return _finish(result, lake_root, {}, suite)

    frames: dict[str, pd.DataFrame] = {}
    for entity, path in entity_files.items():
        if path.is_file():
            frames[entity] = _read_staging(path, feed, entity)
    result.rows_read = _rows_read(meta, frames, staging)
    history = delivered_history(lake_root, force_id, feed, month, history_months)
    verdicts: dict[str, _EntityVerdict] = {}
    for entity, entity_suite in suite.entities.items():
        if entity not in frames:
            result.problems.append(Problem(entity, "entity_present", "-", None, "batch", None,
                                           f"the {entity} file is missing from the extract",
                                           f"Re-send the {feed} extract including its {entity}."))
            continue
        parent = frames.get(entity_suite.parent_entity) if entity_suite.parent_entity else None
        run = _run_values(force_id, month, entity, history, suite, result.notes)
        verdicts[entity] = _validate_entity(feed, entity_suite, frames[entity], parent, run, suite, result)
        if entity_suite.parent_entity and entity_suite.parent_entity in verdicts:
            _follow_parent(entity_suite, verdicts[entity_suite.parent_entity], verdicts[entity], result)
    _check_quarantine_share(suite, verdicts, result)
    if any(p.severity == "batch" for p in result.problems):
        result.status = "failed"
    return _finish(result, lake_root, verdicts, suite)


def _read_extract_meta(staging: Path) -> dict[str, Any]:
    path = staging / "_extract.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _read_staging(path: Path, feed: str, entity: str) -> pd.DataFrame:
    """Read one staging file; strings back to object/None as the contract says (Parquet gives str)."""
    frame = pd.read_parquet(path)
    strings = [f.name for f in contract.fields(feed, entity) if f.dtype == "string"]
    for column in [*strings, "_source_file", "_decode_errors"]:
        if column in frame and not pd.api.types.is_object_dtype(frame[column].dtype):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    frame = frame.reset_index(drop=True)
    frame[ROW_ID] = pd.RangeIndex(len(frame), dtype="int64")
    if "_source_row" not in frame:
        frame["_source_row"] = frame[ROW_ID] + 1
    if "_source_file" not in frame:
        frame["_source_file"] = path.name
    return frame


def _rows_read(meta: Mapping[str, Any], frames: Mapping[str, pd.DataFrame], staging: Path) -> dict[str, int]:
    """Rows read per entity as extraction counted them; staging must agree (else a bug upstream)."""
    counted = {e: len(f) for e, f in frames.items()}
    declared = {e: int(n) for e, n in (meta.get("rows_read") or {}).items()}
    if not meta:
        return counted
    for entity in set(declared) | set(counted):
        if declared.get(entity, 0) != counted.get(entity, 0):
            raise AccountingError(f"{staging}: _extract.json says {declared.get(entity, 0)} {entity} rows were read "
                                  f"but staging holds {counted.get(entity, 0)}; re-run extract for this partition")
    return counted


def _run_values(force_id: str, month: str, entity: str, history: Mapping[str, list[int]], suite: FeedSuite,
                notes: list[str]) -> dict[str, Any]:
    """Values of the suite's run tokens for one entity, including its volume band if it has one."""
    start = pd.Timestamp(f"{month}-01")
    run: dict[str, Any] = {"month_start": start, "next_month_start": start + pd.offsets.MonthBegin(1),
                           "force_id": force_id, "volume_min": None, "volume_max": None}
    counts = history.get(entity, [])
    if len(counts) < suite.min_history_months:
        notes.append(f"{entity}: volume band not checked ({len(counts)} earlier month(s) delivered in the last "
                     f"window; the band needs {suite.min_history_months})")
        return run
    median = statistics.median(counts)
    if median < suite.min_median_rows:
        notes.append(f"{entity}: volume band not checked (median of {len(counts)} previous months is {median:g} rows, "
                     f"below the {suite.min_median_rows} the band needs)")
        return run
    run["volume_min"] = int(math.ceil(suite.band_lower * median))
    run["volume_max"] = int(math.floor(suite.band_upper * median))
    run["volume_median"] = median
    run["volume_months"] = len(counts)
    return run


def _validate_entity(feed: str, entity: EntitySuite, frame: pd.DataFrame, parent: pd.DataFrame | None,
                     run: Mapping[str, Any], suite: FeedSuite, result: ValidationResult) -> _EntityVerdict:
    """Run one entity's rules; record problems and each row's reasons and warnings."""
    prepared = _add_helpers(frame, feed, entity, parent)
    verdict = _EntityVerdict(frame)
    runnable: list[tuple[Rule, Any]] = []
    for rule in entity.rules:
        missing = [c for c in rule.columns if c not in prepared]
        if missing and rule.gx_type != "ExpectColumnToExist":
            continue  # the column's absence is reported by columns_present
        try:
            runnable.append((rule, _expectation(rule, run, suite)))
        except _Unresolved:
            continue
    outcomes = _run_gx(feed, entity.name, prepared, [e for _, e in runnable])
    for rule, _ in runnable:
        outcome = outcomes[rule.key]
        if outcome.error is not None:
            log.warning("validate %s/%s: rule %s could not be evaluated", feed, entity.name, rule.key)
            log.debug("rule %s error: %s", rule.key, outcome.error)
            result.problems.append(Problem(entity.name, rule.id, rule.gx_type, entity.shown_column(rule), "batch", None,
                                           f"the check '{rule.id}' could not be run (see the validation log)",
                                           "Nothing yet: the data team must look at the validation log first."))
            continue
        if outcome.success:
            continue
        result.problems.append(_problem(rule, entity, outcome, frame, prepared, run))
        if rule.severity in ("row", "warn"):
            target = verdict.reasons if rule.severity == "row" else verdict.warnings
            reason = f"{rule.id}: {rule.says()}" if rule.severity == "row" else entity.flag(rule)
            for row_id in outcome.row_ids:
                target.setdefault(row_id, []).append(reason)
    return verdict


def _problem(rule: Rule, entity: EntitySuite, outcome: _Outcome, frame: pd.DataFrame, prepared: pd.DataFrame,
             run: Mapping[str, Any]) -> Problem:
    """Describe a failed rule by counts, files and row numbers; never by the failing values."""
    message = rule.says()
    rows: int | None = len(outcome.row_ids)
    if rule.gx_type.startswith("ExpectTable") or rule.gx_type == "ExpectColumnToExist":
        rows = None
    if rule.id == "volume_in_band" and run.get("volume_median") is not None:
        message += (f" ({_observed_count(outcome, frame)} rows; expected {run['volume_min']:,} to {run['volume_max']:,}, "
                    f"from the median {run['volume_median']:,g} of the previous {run['volume_months']} months)")
    elif rule.gx_type == "ExpectTableRowCountToBeBetween":
        message += f" ({_observed_count(outcome, frame)} rows)"
    if rule.id == "values_decoded" and outcome.row_ids:
        named = _decode_error_columns(prepared, outcome.row_ids, frame)
        shapes = _row_shape_errors(prepared, outcome.row_ids)
        if shapes:
            message += (" (" + "; ".join(shapes) + ": a line break or delimiter inside an unquoted field "
                        "split the record, so its values are in the wrong columns)")
        message += f" (columns: {', '.join(named)})" if named else \
            "" if shapes else " (the problem is with the row as a whole, not one column: see _decode_errors on those rows)"
    picked = frame.loc[frame[ROW_ID].isin(outcome.row_ids)] if outcome.row_ids else frame.iloc[0:0]
    examples = [(str(f), int(r)) for f, r in zip(picked["_source_file"].head(MAX_EXAMPLES),
                                                 picked["_source_row"].head(MAX_EXAMPLES))]
    files = sorted({str(f) for f in picked["_source_file"]})
    return Problem(entity.name, rule.id, rule.gx_type, entity.shown_column(rule), rule.severity, rows, message, rule.ask(),
                   examples, files)


def _observed_count(outcome: _Outcome, frame: pd.DataFrame) -> str:
    return f"{int(outcome.observed):,}" if isinstance(outcome.observed, (int, float)) else f"{len(frame):,}"


_ROW_SHAPE = re.compile(r"^row has \d+ fields but the header has \d+$")


def _row_shape_errors(prepared: pd.DataFrame, row_ids: Iterable[int]) -> list[str]:
    """Structural reader messages ("row has 4 fields but the header has 30"): they hold no values."""
    found: list[str] = []
    for text in prepared.loc[prepared[ROW_ID].isin(list(row_ids)), "_decode_errors"].dropna():
        for part in str(text).split("; "):
            if _ROW_SHAPE.match(part.strip()) and part.strip() not in found:
                found.append(part.strip())
    return found[:MAX_EXAMPLES]


def _decode_error_columns(prepared: pd.DataFrame, row_ids: Iterable[int], frame: pd.DataFrame) -> list[str]:
    """The contract columns named in ``_decode_errors`` (only names: the messages hold values)."""
    known = set(frame.columns)
    columns: set[str] = set()
    for text in prepared.loc[prepared[ROW_ID].isin(list(row_ids)), "_decode_errors"].dropna():
        for part in str(text).split("; "):
            name = part.split(":", 1)[0].strip()
            if name in known:
                columns.add(name)
    return sorted(columns)


def _follow_parent(entity: EntitySuite, parent: _EntityVerdict, child: _EntityVerdict,
                   result: ValidationResult) -> None:
    """Quarantine the children of quarantined parents (a person involved in a crime we rejected).

    A parent key with a copy that landed (an exact repeat was quarantined, the first copy kept)
    keeps its children.
    """
    if not parent.reasons:
        return
    key = list(entity.parent_key)
    held = parent.frame[ROW_ID].isin(list(parent.reasons))
    quarantined_keys = _key_index(parent.frame.loc[held], key)
    quarantined_keys = quarantined_keys[~quarantined_keys.isin(_key_index(parent.frame.loc[~held], key))]
    follows = child.frame.loc[_key_index(child.frame, key).isin(quarantined_keys), ROW_ID].tolist()
    if not follows:
        return
    for row_id in follows:
        child.reasons.setdefault(int(row_id), []).append(PARENT_QUARANTINED)
    picked = child.frame.loc[child.frame[ROW_ID].isin(follows)]
    result.problems.append(Problem(
        entity.name, "parent_quarantined", "-", ", ".join(key), "row", len(follows),
        f"{PARENT_QUARANTINED}: these rows belong to {entity.parent_entity} that were quarantined",
        f"Nothing separate: once the {entity.parent_entity} above are corrected, re-send them with these rows.",
        [(str(f), int(r)) for f, r in zip(picked["_source_file"].head(MAX_EXAMPLES),
                                          picked["_source_row"].head(MAX_EXAMPLES))],
        sorted({str(f) for f in picked["_source_file"]})))


def _check_quarantine_share(suite: FeedSuite, verdicts: Mapping[str, _EntityVerdict], result: ValidationResult) -> None:
    """Most rows failing is a broken extract (a changed date format, a shifted column), not bad rows."""
    for entity, verdict in verdicts.items():
        read = len(verdict.frame)
        bad = len(verdict.reasons)
        if read >= suite.quarantine_share_min_rows and bad / read > suite.max_quarantine_share:
            result.problems.append(Problem(
                entity, "quarantine_share", "-", None, "batch", bad,
                f"{bad:,} of {read:,} rows ({bad / read:.0%}) failed row checks, more than the "
                f"{suite.max_quarantine_share:.0%} the policy allows: the extract looks broken as a whole",
                f"Ask whether the {suite.feed} export changed this month (formats, code lists, column order) "
                f"and for a corrected extract."))


def _clear_outputs(lake_root: Path, force_id: str, feed: str, month: str) -> None:
    """Remove this stage's earlier outputs for the partition (never the extract's quarantined files)."""
    entities = contract.entities(feed)
    raw = partition(lake_root, "raw", feed, force_id, month)
    quarantine = partition(lake_root, "quarantine", feed, force_id, month)
    for path in [*(raw / f"{e}.parquet" for e in entities), raw / "_validation.json",
                 *(quarantine / f"{e}.parquet" for e in entities), report_path(lake_root, force_id, feed, month)]:
        path.unlink(missing_ok=True)


def _finish(result: ValidationResult, lake_root: Path, verdicts: Mapping[str, _EntityVerdict],
            suite: FeedSuite) -> ValidationResult:
    """Write landed and quarantined rows, check the accounting, write _validation.json and the report."""
    raw = partition(lake_root, "raw", result.feed, result.force_id, result.month)
    quarantine = partition(lake_root, "quarantine", result.feed, result.force_id, result.month)
    raw.mkdir(parents=True, exist_ok=True)
    failed = result.status == "failed"
    batch_reason = "feed failed validation: " + result.failed_reason() if failed else ""
    for entity, verdict in verdicts.items():
        frame = verdict.frame
        quarantined_ids = set(frame[ROW_ID]) if failed else set(verdict.reasons)
        is_quarantined = frame[ROW_ID].isin(quarantined_ids)
        warnings = frame[ROW_ID].map(lambda i: "; ".join(verdict.warnings[i]) if i in verdict.warnings else None)
        out = frame.assign(**{WARNINGS_COLUMN: warnings.astype(object)})
        landed = out.loc[~is_quarantined].drop(columns=[ROW_ID])
        held = out.loc[is_quarantined].copy()
        reasons = held[ROW_ID].map(lambda i: "; ".join([*verdict.reasons.get(i, []), *([batch_reason] if failed else [])]))
        held[REASONS_COLUMN] = reasons.astype(object)
        held = held.drop(columns=[ROW_ID])
        if not failed:
            _write_parquet(landed, raw / f"{entity}.parquet")
        if len(held):
            quarantine.mkdir(parents=True, exist_ok=True)
            _write_parquet(held, quarantine / f"{entity}.parquet")
        result.rows_landed[entity] = 0 if failed else len(landed)
        result.rows_quarantined[entity] = len(held)
    for entity in result.rows_read:
        result.rows_landed.setdefault(entity, 0)
        result.rows_quarantined.setdefault(entity, result.rows_read[entity] if result.file_errors else 0)
    if not result.accounting_ok:
        raise AccountingError(f"{result.force_id}/{result.feed}/{result.month}: rows read {result.rows_read} != "
                              f"landed {result.rows_landed} + quarantined {result.rows_quarantined}")
    if result.status == "passed" and any(result.rows_quarantined.values()):
        result.status = "passed_with_quarantine"
    result.report_path = report_path(lake_root, result.force_id, result.feed, result.month)
    result.report_path.parent.mkdir(parents=True, exist_ok=True)
    result.report_path.write_text(render_report(result))
    (raw / "_validation.json").write_text(json.dumps(result.to_json(), indent=1, sort_keys=True) + "\n")
    log.info("validate %s/%s/%s: %s read=%s landed=%s quarantined=%s", result.force_id, result.feed, result.month,
             result.status, sum(result.rows_read.values()), sum(result.rows_landed.values()),
             sum(result.rows_quarantined.values()))
    return result


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a frame with text columns typed as Parquet strings, even when a column is all empty.

    Otherwise an all-None column is written with Parquet's null type and one month's file
    would disagree with the next about the column's type when the warehouse reads them together.
    """
    out = frame.reset_index(drop=True)
    for column in out.columns:
        if out[column].dtype == object and pd.api.types.infer_dtype(out[column], skipna=True) in ("string", "empty"):
            out[column] = out[column].astype("string")
    out.to_parquet(path, index=False)


# --------------------------------------------------------------------------------------------
# The readable report

_STATUS_TEXT = {
    "passed": ("Passed", "Every row landed."),
    "passed_with_quarantine": ("Passed with quarantine", "The rows listed below were held back; the rest landed."),
    "failed": ("Failed", "Nothing from this extract landed; every row is held in quarantine until the force re-sends."),
    "missing": ("Missing", "No extract arrived for this month (late delivery)."),
}


def render_report(result: ValidationResult) -> str:
    """The Markdown report a data engineer reads: what failed, where, and what to ask the force for.

    Built from counts, rule descriptions, file names and row numbers only, never from values.
    """
    lines = [f"# Validation report: {result.feed}, {result.force_id}, {result.month}", "",
             "**{}.** {}".format(*_STATUS_TEXT[result.status]), ""]
    if result.status in ("failed", "missing"):
        lines += ["If this feed is mandatory for the force, its products for the month are held and the data team "
                  "is alerted; other forces carry on.", ""]
    if result.rows_read:
        lines += ["| entity | rows read | landed | quarantined |", "|---|---:|---:|---:|"]
        for entity, read in result.rows_read.items():
            lines.append(f"| {entity} | {read:,} | {result.rows_landed.get(entity, 0):,} | "
                         f"{result.rows_quarantined.get(entity, 0):,} |")
        lines += ["", f"Rows read = rows landed + rows quarantined: {'yes' if result.accounting_ok else 'NO'}.", ""]
    if result.file_errors:
        lines += ["## The delivery could not be read", ""]
        lines += [f"- `{e['path']}`: {e['message']}" for e in result.file_errors]
        lines += ["", "The files are kept in the quarantine zone (`files/`). Ask the force for a corrected delivery.", ""]
    blocking = [p for p in result.problems if p.severity in ("batch", "row")]
    warnings = [p for p in result.problems if p.severity == "warn"]
    for title, problems in (("Problems", blocking), ("Warnings (rows kept, flagged in `_warnings`)", warnings)):
        if not problems:
            continue
        lines += [f"## {title}", ""]
        for number, problem in enumerate(problems, 1):
            lines += _render_problem(number, problem)
    asks = list(dict.fromkeys(p.ask_the_force for p in [*blocking, *warnings]))
    if result.status == "missing":
        asks.insert(0, f"The {result.feed} extract for {result.month} has not arrived. Ask when it will be sent.")
    if asks:
        lines += ["## What to ask the force for", ""] + [f"{i}. {ask}" for i, ask in enumerate(asks, 1)] + [""]
    if result.notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in result.notes] + [""]
    if any(result.rows_quarantined.values()):
        where = partition(Path("<lake>"), "quarantine", result.feed, result.force_id, result.month)
        lines += ["## Where the rows are", "",
                  f"Quarantined rows, with their reasons in `{REASONS_COLUMN}`, are in `{where.as_posix()}/`. "
                  "They hold personal data: open them only in the secure environment.", ""]
    if result.suite_version is not None:
        lines += [f"Suite: expectations/{result.feed}.yml version {result.suite_version} "
                  f"(sha256 {str(result.suite_sha256)[:12]}).", ""]
    return "\n".join(lines)


def _render_problem(number: int, problem: Problem) -> list[str]:
    action = {"batch": "fails the feed", "row": "rows quarantined", "warn": "rows kept"}[problem.severity]
    column = f" `{problem.column}`" if problem.column else ""
    lines = [f"### {number}. {problem.entity}{column}: {problem.message}", "",
             f"- Check: `{problem.rule}` ({problem.expectation}); {action}."]
    if problem.rows_affected is not None:
        lines.append(f"- Rows affected: {problem.rows_affected:,}.")
    if problem.examples:
        by_file: dict[str, list[int]] = {}
        for file, row in problem.examples:
            by_file.setdefault(file, []).append(row)
        where = "; ".join(f"`{file}` row{'s' if len(rows) > 1 else ''} {', '.join(map(str, rows))}"
                          for file, rows in by_file.items())
        more = " (first few shown)" if problem.rows_affected and problem.rows_affected > len(problem.examples) else ""
        lines.append(f"- Where: {where}{more}.")
    lines += [f"- Ask the force: {problem.ask_the_force}", ""]
    return lines


# --------------------------------------------------------------------------------------------
# After all forces: hold or proceed, and the run manifest


def hold_decision(results: Sequence[ValidationResult],
                  mandatory_feeds: tuple[str, ...] | Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Per force: "proceed", or "hold: <reason>" when a mandatory feed failed or is missing.

    ``mandatory_feeds`` is one tuple for every force, or a mapping force_id -> feeds (the
    registry's per-force setting). A mandatory feed with no result at all counts as missing.
    Other forces are never held because of one force's problems.
    """
    by_force: dict[str, dict[str, list[ValidationResult]]] = {}
    for result in results:
        by_force.setdefault(result.force_id, {}).setdefault(result.feed, []).append(result)
    decisions: dict[str, str] = {}
    for force_id in sorted(by_force):
        feeds = mandatory_feeds.get(force_id, contract.FEEDS) if isinstance(mandatory_feeds, Mapping) else mandatory_feeds
        reasons: list[str] = []
        for feed in feeds:
            found = by_force[force_id].get(feed, [])
            if not found:
                reasons.append(f"{feed} not validated")
            for result in found:
                if result.status == "missing":
                    reasons.append(f"{feed} missing (late delivery)")
                elif result.status == "failed":
                    reasons.append(f"{feed} failed validation: {result.failed_reason()}")
        decisions[force_id] = "hold: " + "; ".join(reasons) if reasons else "proceed"
    return decisions


def write_run_manifest(results: Sequence[ValidationResult], path: Path,
                       mandatory_feeds: tuple[str, ...] | Mapping[str, Sequence[str]] | None = None,
                       run_id: str | None = None) -> Path:
    """Write the run's manifest: each force/feed's status and row accounting, totals and decisions.

    The manifest is what the on-call data engineer and the DAG's alerting read: it says, per
    force, feed and month, that rows read = rows landed + rows quarantined, and which forces are
    held.
    """
    path = Path(path)
    ordered = sorted(results, key=lambda r: (r.month, r.force_id, r.feed))
    entries = []
    for r in ordered:
        entries.append({
            "force_id": r.force_id, "feed": r.feed, "month": r.month, "status": r.status,
            "rows_read": r.rows_read, "rows_landed": r.rows_landed, "rows_quarantined": r.rows_quarantined,
            "accounting_ok": r.accounting_ok,
            "problems": {s: sum(1 for p in r.problems if p.severity == s) for s in SEVERITIES},
            "reason": r.failed_reason() if r.status in ("failed", "missing") else None,
            "report_path": str(r.report_path) if r.report_path else None,
        })
    totals = {key: sum(sum(getattr(r, key).values()) for r in ordered)
              for key in ("rows_read", "rows_landed", "rows_quarantined")}
    manifest: dict[str, object] = {
        "stage": "validate", "run_id": run_id,
        "generated_at": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        "months": sorted({r.month for r in ordered}),
        "totals": totals, "accounting_ok": all(r.accounting_ok for r in ordered),
        "status_counts": {s: sum(1 for r in ordered if r.status == s) for s in STATUSES},
        "results": entries,
    }
    if mandatory_feeds is not None:
        decisions = hold_decision(ordered, mandatory_feeds)
        manifest["decisions"] = decisions
        manifest["held_forces"] = sorted(f for f, d in decisions.items() if d != "proceed")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    tmp.replace(path)
    return path
