"""Validation stage: suites per feed, row/batch quarantine, accounting, reports, hold decisions.

Staging fixtures are canonical frames built by hand (not by the extract stage), written where
extraction writes them. GX's context is created once per process by the module and reused.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from forceprofiles import contract, validate
from forceprofiles.identifiers import format_cro, format_pnc

MONTH = "2026-03"
FORCE = "norfolk"
PLANTED_SURNAME = "Quattlebaum-Zebedee"

_DTYPES = {"string": object, "timestamp": "datetime64[us]", "date": "datetime64[us]", "bool": "boolean",
           "int": "Int64", "float": "float64"}


# --------------------------------------------------------------------------------------------
# Fixture builders


def _value(feed: str, entity: str, name: str, i: int, start: pd.Timestamp, parent_n: int) -> object:
    t = start + pd.Timedelta(hours=i % 600)
    refs = {"crime_ref": "CR", "intel_ref": "IR", "custody_ref": "CU", "episode_ref": "EP", "visor_ref": "VI"}
    if name == "force_id":
        return FORCE
    if name in refs:
        child = (feed, entity) in (("crime", "involvements"), ("intelligence", "subjects"))
        return f"{refs[name]}{(i % parent_n) if child else i:06d}"
    fixed: dict[str, object] = {
        "person_ref": f"P{i:06d}", "record_type": "crime", "ho_code": ["8N", "19C", "105A", "8U"][i % 4],
        "outcome": "pending", "role": ["suspect", "victim"][i % 2], "grading_scheme": "3x5x2",
        "source_evaluation": "2", "intelligence_assessment": "B", "handling_code": "P", "subject_type": "person",
        "value": None, "committed_at": t - pd.Timedelta(days=3), "reported_at": t, "updated_at": t,
        "arrested_at": t, "created_at": t, "went_missing_at": t, "returned_at": t + pd.Timedelta(hours=5),
        "return_interview_at": t + pd.Timedelta(hours=30), "registered_on": start.normalize(),
        "date_of_birth": pd.Timestamp("1980-01-01") + pd.Timedelta(days=37 * (i % 400)), "found_with_date_of_birth": None,
        "found_with_forenames": None, "found_with_surname": None, "found_with_phone": None,
        "found_address": None, "found_postcode": None, "found_lsoa11cd": None, "exploitation_indicators": None,
        "pnc_id": format_pnc(2001, 171310 + i), "cro_number": format_cro(2008, 12345 + i),
        "postcode": "NR1 3AB", "missing_from_postcode": "NR2 4CD", "lsoa11cd": f"E01{26000 + i % 900:06d}",
        "missing_from_lsoa11cd": f"E01{26000 + i % 900:06d}", "latitude": 52.63, "longitude": 1.29,
        "forenames": "Alex", "surname": "Smith", "civil_orders": "SHPO" if i % 3 == 0 else None,
        "mappa_category": 1, "mappa_level": 1, "category": "RSO",
    }
    if name in fixed:
        return fixed[name]
    if name in contract.CODE_LISTS:
        codes = contract.CODE_LISTS[name]
        return codes[i % len(codes)]
    dtype = {f.name: f.dtype for f in contract.fields(feed, entity)}[name]
    return {"bool": False, "int": 1, "float": 1.0}.get(dtype, f"{name} {i}")


def canonical_frame(feed: str, entity: str, n: int, parent_n: int | None = None, month: str = MONTH) -> pd.DataFrame:
    """n clean canonical rows of one entity, with extraction's provenance columns."""
    start = pd.Timestamp(f"{month}-01")
    columns = {}
    for f in contract.fields(feed, entity):
        values = [_value(feed, entity, f.name, i, start, parent_n or n) for i in range(n)]
        columns[f.name] = pd.Series(values, dtype=_DTYPES[f.dtype]) if f.dtype != "string" else \
            pd.Series(values, dtype=object)
    frame = pd.DataFrame(columns)
    frame["_source_file"] = f"{entity}.csv"
    frame["_source_row"] = pd.Series(range(1, n + 1), dtype="int64")
    frame["_decode_errors"] = pd.Series([None] * n, dtype=object)
    return frame


def clean_feed(feed: str, n: int = 40, month: str = MONTH) -> dict[str, pd.DataFrame]:
    frames: dict[str, pd.DataFrame] = {}
    parent_n = n
    for entity in contract.entities(feed):
        child = bool(frames)
        frames[entity] = canonical_frame(feed, entity, 2 * n if child else n, parent_n if child else None, month)
    return frames


def write_staging(lake: Path, feed: str, frames: dict[str, pd.DataFrame], month: str = MONTH,
                  file_errors: list[dict[str, str]] | None = None) -> Path:
    staging = validate.partition(lake, "staging", feed, FORCE, month)
    staging.mkdir(parents=True, exist_ok=True)
    for entity, frame in frames.items():
        frame.to_parquet(staging / f"{entity}.parquet", index=False)
    meta: dict[str, object] = {"force_id": FORCE, "feed": feed, "month": month,
                               "status": "failed" if file_errors else "extracted",
                               "rows_read": {e: len(f) for e, f in frames.items()},
                               "files": [{"path": f"{e}.csv", "bytes": 1, "sha256": "0" * 64, "rows": len(f)}
                                         for e, f in frames.items()]}
    if file_errors:
        meta["file_errors"] = file_errors
    (staging / "_extract.json").write_text(json.dumps(meta))
    return staging


def run(lake: Path, feed: str = "crime", month: str = MONTH, **kwargs: object) -> validate.ValidationResult:
    return validate.validate_extract(FORCE, feed, month, lake, **kwargs)


def raw_frame(lake: Path, feed: str, entity: str) -> pd.DataFrame:
    return pd.read_parquet(validate.partition(lake, "raw", feed, FORCE, MONTH) / f"{entity}.parquet")


def quarantine_frame(lake: Path, feed: str, entity: str) -> pd.DataFrame:
    return pd.read_parquet(validate.partition(lake, "quarantine", feed, FORCE, MONTH) / f"{entity}.parquet")


def rules_failed(result: validate.ValidationResult) -> set[str]:
    return {p.rule for p in result.problems}


# --------------------------------------------------------------------------------------------
# Suites


@pytest.mark.parametrize("feed", contract.FEEDS)
def test_suite_covers_the_contract(feed: str) -> None:
    """Every column must exist and be typed, required ones non-null, coded ones in their list, keys unique."""
    suite = validate.load_suite(feed)
    for entity, entity_suite in suite.entities.items():
        by_type: dict[str, set[str]] = {}
        for rule in entity_suite.rules:
            by_type.setdefault(rule.gx_type, set()).update([rule.column] if rule.column else [])
        names = contract.column_names(feed, entity)
        assert by_type["ExpectColumnToExist"] == set(names), entity
        assert by_type["ExpectColumnValuesToBeInTypeList"] == set(names), entity
        required = {f.name for f in contract.fields(feed, entity) if f.required}
        assert required <= by_type["ExpectColumnValuesToNotBeNull"], entity
        coded = set(contract.CODE_LISTS) & set(names)
        assert coded <= by_type.get("ExpectColumnValuesToBeInSet", set()), entity
        key = contract.RECORD_KEYS[(feed, entity)]
        unique = [r for r in entity_suite.rules if r.id == "key_unique"]
        assert len(unique) == 1 and entity_suite.shown_column(unique[0]) == ", ".join(key), entity
        assert unique[0].row_condition == {"column": "_repeats_earlier_row", "equals": False}
        assert all(r.ask_the_force and r.description for r in entity_suite.rules)


@pytest.mark.parametrize("feed", contract.FEEDS)
def test_clean_extract_passes_and_lands_every_row(tmp_path: Path, feed: str) -> None:
    frames = clean_feed(feed)
    write_staging(tmp_path, feed, frames)
    result = run(tmp_path, feed)
    assert result.status == "passed", [(p.entity, p.rule, p.message) for p in result.problems]
    assert result.problems == []
    for entity, frame in frames.items():
        landed = raw_frame(tmp_path, feed, entity)
        assert len(landed) == len(frame) == result.rows_read[entity] == result.rows_landed[entity]
        assert result.rows_quarantined[entity] == 0
        assert {"_source_file", "_source_row", "_warnings"} <= set(landed.columns)
        assert not [c for c in landed.columns if c in ("_row_id", "_pnc_valid", "_cro_valid", "_has_parent")]
        assert not (validate.partition(tmp_path, "quarantine", feed, FORCE, MONTH) / f"{entity}.parquet").exists()
    assert result.report_path is not None and result.report_path.is_file()
    assert any("volume band not checked" in note for note in result.notes)  # no history yet: no band


@dataclass
class DirtyCrime:
    """One crime extract with a planted problem of each kind, validated once for several tests."""

    lake: Path
    result: validate.ValidationResult
    outputs: dict[str, bytes]
    log_text: str


def lake_outputs(lake: Path) -> dict[str, bytes]:
    """Every file validation wrote (not the staging input), by path."""
    return {str(p.relative_to(lake)): p.read_bytes() for p in sorted(lake.rglob("*"))
            if p.is_file() and "staging" not in p.relative_to(lake).parts}


@pytest.fixture(scope="module")
def dirty_crime(tmp_path_factory: pytest.TempPathFactory) -> DirtyCrime:
    """40 occurrences (CR000000..), 80 involvements (person P<i> on occurrence CR<i % 40>), with:

    occurrence 5 an unknown offence code; 3 committed after reported; 4 reported after the month;
    7 re-using 6's reference (a duplicate key); person 10 born in 2031; person 9 an unknown role,
    the planted surname, an address and a decode error; person 45 (on occurrence 5) the planted
    surname; person 12 a PNC ID with the wrong check letter; occurrence 20 and person 30 each
    repeated exactly at the end of their file.
    """
    lake = tmp_path_factory.mktemp("dirty_crime")
    frames = clean_feed("crime")
    occurrences, people = frames["occurrences"], frames["involvements"]
    occurrences.loc[5, "ho_code"] = "ZZ9"
    occurrences.loc[3, "committed_at"] = occurrences.loc[3, "reported_at"] + pd.Timedelta(days=2)
    occurrences.loc[4, ["reported_at", "updated_at"]] = [pd.Timestamp("2026-04-02"), pd.Timestamp("2026-03-30")]
    occurrences.loc[7, "crime_ref"] = "CR000006"
    people.loc[10, "date_of_birth"] = pd.Timestamp("2031-05-05")
    people.loc[9, ["surname", "forenames", "address", "role"]] = \
        [PLANTED_SURNAME, "Ermintrude", "17 Cherrytree Lane, Wymondham", "accomplice"]
    people.loc[9, "_decode_errors"] = f"surname: '{PLANTED_SURNAME}' is not valid text"
    people.loc[45, "surname"] = PLANTED_SURNAME
    people.loc[12, "pnc_id"] = "2001/0171322X"
    for entity, row in (("occurrences", 20), ("involvements", 30)):
        frame = frames[entity]
        repeat = frame.iloc[[row]].assign(_source_row=len(frame) + 1)
        frames[entity] = pd.concat([frame, repeat], ignore_index=True)
    write_staging(lake, "crime", frames)
    handler = _ListHandler()
    logging.getLogger().addHandler(handler)
    previous = logging.getLogger().level
    logging.getLogger().setLevel(logging.INFO)
    try:
        result = run(lake)
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(previous)
    return DirtyCrime(lake, result, lake_outputs(lake), "\n".join(handler.messages))


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_unknown_offence_code_quarantines_the_row_and_its_people(dirty_crime: DirtyCrime) -> None:
    lake, result = dirty_crime.lake, dirty_crime.result
    assert result.status == "passed_with_quarantine"
    held = quarantine_frame(lake, "crime", "occurrences").set_index("crime_ref")
    assert "ho_code_known" in held.loc["CR000005", "_quarantine_reasons"]
    people = quarantine_frame(lake, "crime", "involvements").set_index("person_ref")
    assert people.loc[["P000005", "P000045"], "_quarantine_reasons"].eq(validate.PARENT_QUARANTINED).all()
    assert "CR000005" not in set(raw_frame(lake, "crime", "involvements")["crime_ref"])
    problem = next(p for p in result.problems if p.rule == "ho_code_known")
    assert problem.rows_affected == 1 and problem.example_rows == [6] and problem.source_files == ["occurrences.csv"]


def test_impossible_dates_quarantine_rows(dirty_crime: DirtyCrime) -> None:
    lake, result = dirty_crime.lake, dirty_crime.result
    assert {"committed_before_reported", "reported_not_future", "date_of_birth_plausible"} <= rules_failed(result)
    held = quarantine_frame(lake, "crime", "occurrences").set_index("crime_ref")
    assert "committed_before_reported" in held.loc["CR000003", "_quarantine_reasons"]
    assert "reported_not_future" in held.loc["CR000004", "_quarantine_reasons"]
    people = quarantine_frame(lake, "crime", "involvements").set_index("person_ref")
    assert "date_of_birth_plausible" in people.loc["P000010", "_quarantine_reasons"]
    assert "CR000010" in set(raw_frame(lake, "crime", "occurrences")["crime_ref"])  # a child never takes its parent


def test_duplicate_key_quarantines_every_copy(dirty_crime: DirtyCrime) -> None:
    lake, result = dirty_crime.lake, dirty_crime.result
    held = quarantine_frame(lake, "crime", "occurrences")
    copies = held.loc[held["crime_ref"] == "CR000006"]
    assert list(copies["_source_row"]) == [7, 8] and copies["_quarantine_reasons"].str.contains("key_unique").all()
    # occurrence 7's people lost their occurrence to the duplicate: kept, with a warning
    landed = raw_frame(lake, "crime", "involvements").set_index("person_ref")
    assert landed.loc["P000007", "_warnings"] == "parent_present:crime_ref"
    assert "parent_present" in rules_failed(result)


def test_exact_repeats_keep_their_first_copy(dirty_crime: DirtyCrime) -> None:
    lake = dirty_crime.lake
    for entity, ref, column, source_row in (("occurrences", "CR000020", "crime_ref", 41),
                                            ("involvements", "P000030", "person_ref", 81)):
        held = quarantine_frame(lake, "crime", entity)
        repeat = held.loc[held[column] == ref]
        assert list(repeat["_source_row"]) == [source_row]
        assert repeat["_quarantine_reasons"].iloc[0].startswith("repeated_row:")
        assert (raw_frame(lake, "crime", entity)[column] == ref).sum() == 1
    people = raw_frame(lake, "crime", "involvements")
    assert (people["crime_ref"] == "CR000020").sum() == 2  # the kept occurrence keeps its people


def test_accounting_holds_and_is_recorded(dirty_crime: DirtyCrime) -> None:
    lake, result = dirty_crime.lake, dirty_crime.result
    assert result.rows_quarantined == {"occurrences": 6, "involvements": 11}
    assert result.rows_landed == {"occurrences": 35, "involvements": 70}
    record = json.loads((validate.partition(lake, "raw", "crime", FORCE, MONTH) / "_validation.json").read_text())
    assert record["accounting_ok"] is True and result.accounting_ok
    assert validate.ValidationResult.from_json(record) == result
    for entity, read in record["rows_read"].items():
        assert read == record["rows_landed"][entity] + record["rows_quarantined"][entity]
        assert len(raw_frame(lake, "crime", entity)) + len(quarantine_frame(lake, "crime", entity)) == read


def test_mistyped_pnc_only_warns(dirty_crime: DirtyCrime) -> None:
    landed = raw_frame(dirty_crime.lake, "crime", "involvements").set_index("person_ref")
    assert landed.loc["P000012", "_warnings"] == "pnc_check_letter:pnc_id"
    assert landed.loc["P000012", "pnc_id"] == "2001/0171322X"  # kept as delivered; the flag says not to trust it


def test_reports_and_logs_carry_no_personal_values(dirty_crime: DirtyCrime) -> None:
    lake, result = dirty_crime.lake, dirty_crime.result
    texts = [result.report_path.read_text(), json.dumps(result.to_json()), dirty_crime.log_text,
             (validate.partition(lake, "raw", "crime", FORCE, MONTH) / "_validation.json").read_text()]
    texts += [p.message + p.ask_the_force + " ".join(p.source_files) for p in result.problems]
    assert dirty_crime.log_text  # the stage did log
    for text in texts:
        for value in (PLANTED_SURNAME, "Ermintrude", "Cherrytree", "2031", "accomplice", "ZZ9", "0171322X"):
            assert value not in text
    held = quarantine_frame(lake, "crime", "involvements")  # the values stay in quarantine, where they belong
    assert set(held.loc[held["surname"] == PLANTED_SURNAME, "person_ref"]) == {"P000009", "P000045"}
    report = result.report_path.read_text()
    assert "`involvements.csv` row 10" in report and "What to ask the force for" in report
    assert "surname" in next(p for p in result.problems if p.rule == "values_decoded").message


def test_rerun_is_idempotent(dirty_crime: DirtyCrime) -> None:
    run(dirty_crime.lake)
    assert lake_outputs(dirty_crime.lake) == dirty_crime.outputs


def test_corrected_redelivery_replaces_the_month(tmp_path: Path) -> None:
    frames = clean_feed("crime")
    frames["occurrences"].loc[5, "ho_code"] = "ZZ9"
    write_staging(tmp_path, "crime", frames)
    assert run(tmp_path).status == "passed_with_quarantine"
    frames["occurrences"].loc[5, "ho_code"] = "8N"
    write_staging(tmp_path, "crime", frames)
    result = run(tmp_path)
    assert result.status == "passed"
    assert not list(validate.partition(tmp_path, "quarantine", "crime", FORCE, MONTH).glob("*.parquet"))
    assert len(raw_frame(tmp_path, "crime", "occurrences")) == 40


def test_missing_person_returned_before_going_missing(tmp_path: Path) -> None:
    frames = clean_feed("missing")
    episodes = frames["episodes"]
    episodes.loc[2, "returned_at"] = episodes.loc[2, "went_missing_at"] - pd.Timedelta(hours=3)
    write_staging(tmp_path, "missing", frames)
    result = run(tmp_path, "missing")
    held = quarantine_frame(tmp_path, "missing", "episodes")
    assert list(held["episode_ref"]) == ["EP000002"]
    assert "returned_after_went_missing" in held.loc[0, "_quarantine_reasons"]
    assert result.status == "passed_with_quarantine"


def test_intelligence_grading_by_scheme_and_subject_keys_with_empty_parts(tmp_path: Path) -> None:
    frames = clean_feed("intelligence")
    reports, subjects = frames["reports"], frames["subjects"]
    reports.loc[1, "source_evaluation"] = "A"  # legal in 5x5x5, not in 3x5x2
    reports.loc[2, ["grading_scheme", "source_evaluation", "intelligence_assessment", "handling_code"]] = \
        ["5x5x5", "A", "2", "4"]
    # the same phone twice on report 3, in two differing versions: person_ref is empty on both,
    # and they are still a key conflict
    phone = {c: None for c in subjects.columns if c not in ("force_id", "updated_at")}
    extra = pd.DataFrame([{**subjects.iloc[3].to_dict(), **phone, "intel_ref": "IR000003", "subject_type": "phone",
                           "value": "07700 900123", "_source_file": "subjects.csv", "_source_row": 81 + i,
                           "updated_at": subjects.iloc[3]["updated_at"] + pd.Timedelta(minutes=i)}
                          for i in range(2)])
    frames["subjects"] = pd.concat([subjects, extra.astype(subjects.dtypes.to_dict())], ignore_index=True)
    write_staging(tmp_path, "intelligence", frames)
    result = run(tmp_path, "intelligence")
    held = quarantine_frame(tmp_path, "intelligence", "reports")
    assert list(held["intel_ref"]) == ["IR000001"]
    assert "source_evaluation_3x5x2" in held.loc[0, "_quarantine_reasons"]
    held_subjects = quarantine_frame(tmp_path, "intelligence", "subjects").set_index("_source_row")
    assert held_subjects.loc[[81, 82], "_quarantine_reasons"].str.contains("key_unique").all()
    assert set(held_subjects.loc[held_subjects["intel_ref"] == "IR000001", "_quarantine_reasons"]) == \
        {validate.PARENT_QUARANTINED}
    assert result.rows_landed == {"reports": 39, "subjects": 78}


def test_missing_required_column_fails_the_feed_and_lands_nothing(tmp_path: Path) -> None:
    frames = clean_feed("crime")
    frames["occurrences"] = frames["occurrences"].drop(columns=["ho_code"])
    write_staging(tmp_path, "crime", frames)
    result = run(tmp_path)
    assert result.status == "failed"
    problem = next(p for p in result.problems if p.rule == "columns_present")
    assert problem.column == "ho_code" and problem.severity == "batch"
    raw = validate.partition(tmp_path, "raw", "crime", FORCE, MONTH)
    assert not list(raw.glob("*.parquet"))
    assert result.rows_landed == {"occurrences": 0, "involvements": 0}
    assert result.rows_quarantined == result.rows_read == {"occurrences": 40, "involvements": 80}
    held = quarantine_frame(tmp_path, "crime", "occurrences")
    assert held["_quarantine_reasons"].str.contains("feed failed validation").all()
    assert "ho_code" in result.report_path.read_text()


def test_file_errors_and_missing_delivery(tmp_path: Path) -> None:
    write_staging(tmp_path, "custody", {}, file_errors=[{"path": "/landing/x/custody.csv",
                                                         "message": "the file is truncated; ask the force to re-send"}])
    failed = run(tmp_path, "custody")
    assert failed.status == "failed" and failed.file_errors[0]["path"] == "custody.csv"
    assert "truncated" in failed.report_path.read_text()
    missing = run(tmp_path, "visor")
    assert missing.status == "missing" and missing.rows_read == {}
    record = json.loads((validate.partition(tmp_path, "raw", "visor", FORCE, MONTH) / "_validation.json").read_text())
    assert record["status"] == "missing"
    assert "late delivery" in missing.report_path.read_text()


def _history(lake: Path, feed: str, read: dict[str, int], months: list[str], status: str = "passed",
             file_errors: bool = False) -> None:
    for month in months:
        raw = validate.partition(lake, "raw", feed, FORCE, month)
        raw.mkdir(parents=True, exist_ok=True)
        record = {"status": status, "rows_read": read, "file_errors": [{"path": "x", "message": "y"}] if file_errors else []}
        (raw / "_validation.json").write_text(json.dumps(record))


def test_volume_band(tmp_path: Path) -> None:
    """Against the median delivered count of the previous months that arrived (failed ones too)."""
    write_staging(tmp_path, "crime", clean_feed("crime", n=40))
    _history(tmp_path, "crime", {"occurrences": 100, "involvements": 200}, ["2026-02", "2026-01"])
    two_months = run(tmp_path)
    assert two_months.status == "passed" and any("band needs 3" in note for note in two_months.notes)

    # a month that failed (e.g. on this very band) still says what the force delivers; a month
    # with no delivery or an unreadable one says nothing
    _history(tmp_path, "crime", {"occurrences": 100, "involvements": 200}, ["2025-12"], status="failed")
    _history(tmp_path, "crime", {}, ["2025-11"], status="missing")
    _history(tmp_path, "crime", {"occurrences": 1, "involvements": 1}, ["2025-10"], status="failed", file_errors=True)
    low = run(tmp_path)
    assert low.status == "failed"
    band = [p for p in low.problems if p.rule == "volume_in_band"]
    assert {p.entity for p in band} == {"occurrences", "involvements"}
    assert "(40 rows; expected 50 to 200, from the median 100 of the previous 3 months)" in band[0].message
    assert not list(validate.partition(tmp_path, "raw", "crime", FORCE, MONTH).glob("*.parquet"))

    write_staging(tmp_path, "crime", clean_feed("crime", n=90))
    assert run(tmp_path).status == "passed"


def test_quarantine_share_fails_a_broken_extract(tmp_path: Path) -> None:
    frames = clean_feed("crime")
    frames["occurrences"]["outcome"] = "Charged - Postal"  # a changed code list: every row fails
    write_staging(tmp_path, "crime", frames)
    result = run(tmp_path)
    assert result.status == "failed" and "quarantine_share" in rules_failed(result)


def _result(force: str, feed: str, status: str) -> validate.ValidationResult:
    return validate.ValidationResult(force, feed, MONTH, status)


def test_hold_decision() -> None:
    mandatory = ("crime", "missing")
    results = [_result("norfolk", "crime", "passed"), _result("norfolk", "missing", "passed_with_quarantine"),
               _result("norfolk", "visor", "failed"),
               _result("suffolk", "crime", "failed"), _result("suffolk", "missing", "passed"),
               _result("essex", "crime", "passed"), _result("essex", "missing", "missing"),
               _result("kent", "crime", "passed")]
    results[3].problems.append(validate.Problem("occurrences", "columns_present", "ExpectColumnToExist", "ho_code",
                                                "batch", None, "the column ho_code is missing", "re-send"))
    decisions = validate.hold_decision(results, mandatory)
    assert decisions["norfolk"] == "proceed"
    assert decisions["suffolk"].startswith("hold: crime failed validation") and "ho_code" in decisions["suffolk"]
    assert decisions["essex"] == "hold: missing missing (late delivery)"
    assert decisions["kent"] == "hold: missing not validated"
    per_force = validate.hold_decision(results, {"kent": ("crime",), "essex": ("crime",)})
    assert per_force["kent"] == "proceed" and per_force["essex"] == "proceed"
    assert "visor failed validation" in per_force["norfolk"]  # default: every feed is mandatory...
    assert "intelligence not validated" in per_force["norfolk"]  # ...and a feed never validated counts


def test_run_manifest(tmp_path: Path, dirty_crime: DirtyCrime) -> None:
    results = [dirty_crime.result, run(tmp_path, "visor")]
    path = validate.write_run_manifest(results, tmp_path / "manifests" / f"validate-{MONTH}.json", ("crime", "visor"))
    manifest = json.loads(path.read_text())
    assert manifest["accounting_ok"] is True
    assert manifest["totals"] == {"rows_read": 122, "rows_landed": 105, "rows_quarantined": 17}
    assert manifest["decisions"] == {FORCE: "hold: visor missing (late delivery)"}
    assert manifest["held_forces"] == [FORCE]
    assert [r["status"] for r in manifest["results"]] == ["passed_with_quarantine", "missing"]


def test_accounting_error_when_staging_disagrees_with_extract(tmp_path: Path) -> None:
    staging = write_staging(tmp_path, "crime", clean_feed("crime"))
    meta = json.loads((staging / "_extract.json").read_text())
    meta["rows_read"]["occurrences"] = 41
    (staging / "_extract.json").write_text(json.dumps(meta))
    with pytest.raises(validate.AccountingError):
        run(tmp_path)


def test_reference_codes_include_common_classifications() -> None:
    reference = pytest.importorskip("forceprofiles.reference")
    codes = set(reference.offence_codes()["ho_code"]) | set(reference.prc_offences()["ho_code"])
    valid = set(validate.home_office_codes(validate.load_suite("crime")))
    assert codes <= valid
    assert {"8U", "NC", "1", "8N", "19C", "105A"} <= valid  # extras, and homicide's grouped code split
    assert "ZZ9" not in valid
