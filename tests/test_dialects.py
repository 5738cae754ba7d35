"""The dialect codec: canonical frames survive a trip through every dialect, files and database.

The frames are built by hand with the values real exports get wrong: apostrophes, hyphens and
non-ASCII letters in names, delimiters, quotes and line breaks in free text, nulls in every
optional column, more people than the wide layout has slots, and empty months.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pandas as pd
import pytest

from forceprofiles import contract
from forceprofiles.dialects import (
    DecodedExtract,
    DialectConfigError,
    ExtractFileError,
    find_profiles_dir,
    load_dialect,
    read_extract,
    read_extract_postgres,
    write_extract,
    write_extract_postgres,
)

DIALECTS = ("niche", "athena", "connect")
ROOT = Path(__file__).resolve().parents[1]
POSTGRES = os.environ.get("FORCEPROFILES_TEST_POSTGRES_DB", "host=127.0.0.1 port=5432 user=postgres dbname=test")

NAMES = [
    ("Zoë", "O'Brien"), ("Łukasz", "Nowak-Kowalski"), ("Siobhán", "Ní Bhriain"), ("Mary-Jane", "D'Arcy"),
    ("José", "García"), ("Amélie", "Lefèvre"), ("Chloé", "Smith"), ("Björn", "Ødegaard"), ("Tom", "Jones"),
]
FREE_TEXT = [
    'Outside "The Crown", High St; by the bus stop',
    "Flat 3,\nRiver Court\r\nline three",
    "semi;colon, comma \"quote\" and 'apostrophe'",
    "  leading and trailing spaces  ",
    "Zoë's café — naïve résumé",
]


def _person(i: int, *, sparse: bool = False) -> dict[str, object]:
    forenames, surname = NAMES[i % len(NAMES)]
    if sparse:
        return {"person_ref": f"N{i:05d}", "forenames": None, "surname": surname, "date_of_birth": None, "sex": None,
                "ethnicity_self": None, "ethnicity_officer": None, "pnc_id": None, "cro_number": None,
                "address": None, "postcode": None, "phone": None}
    return {
        "person_ref": f"N{i:05d}", "forenames": forenames, "surname": surname,
        "date_of_birth": pd.Timestamp(1970 + i % 40, 1 + i % 12, 1 + i % 28),
        "sex": "MFU"[i % 3], "ethnicity_self": ["W1", "A2", "B1", "NS"][i % 4],
        "ethnicity_officer": ["IC1", "IC4", "IC3", "IC9"][i % 4],
        "pnc_id": f"20{i % 10:02d}/00{i:05d}X", "cro_number": f"{i:06d}/01A",
        "address": FREE_TEXT[i % len(FREE_TEXT)] if i % 2 else f"{i} Church Lane, Norwich",
        "postcode": "NR1 1AA", "phone": f"07700 900{i:03d}",
    }


def _stamp(day: int, hour: int = 10, minute: int = 0) -> pd.Timestamp:
    return pd.Timestamp(2024, 3, day, hour, minute)


def _frame(feed: str, entity: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    """Rows as a canonical frame, typed as the synthetic world types them."""
    frame = pd.DataFrame(rows, columns=contract.column_names(feed, entity))
    for fld in contract.fields(feed, entity):
        column = frame[fld.name]
        if fld.dtype in ("timestamp", "date"):
            frame[fld.name] = pd.to_datetime(column).astype("datetime64[us]")
        elif fld.dtype == "bool":
            frame[fld.name] = column.astype("boolean")
        elif fld.dtype == "int":
            frame[fld.name] = pd.to_numeric(column).astype("Int64")
        elif fld.dtype == "float":
            frame[fld.name] = pd.to_numeric(column).astype("float64")
        else:
            frame[fld.name] = column.astype(object).where(column.notna(), None)
    return frame


def crime_frames(n_suspects: int = 6) -> dict[str, pd.DataFrame]:
    codes = ["8N", "19C", "105A", "8U", "37.1", "1"]
    occurrences = []
    for i in range(6):
        occurrences.append({
            "force_id": "norfolk", "crime_ref": f"NC/24/{i:05d}", "record_type": "non-crime" if i == 5 else "crime",
            "ho_code": codes[i], "committed_at": _stamp(1 + i, 23, 59), "reported_at": _stamp(2 + i, 0, 5),
            "lsoa11cd": None if i == 3 else "E01026645", "latitude": None if i == 3 else 52.628 + i / 1000,
            "longitude": None if i == 3 else 1.2934567891234,
            "location_desc": FREE_TEXT[i % len(FREE_TEXT)] if i != 4 else None,
            "flag_domestic_abuse": i % 2 == 0, "flag_cse": i == 1,
            "outcome": contract.CODE_LISTS["outcome"][i], "updated_at": _stamp(10 + i, 9, 30),
        })
    involvements = []
    for s in range(n_suspects):  # more suspects than the wide layout's four slots
        involvements.append({"force_id": "norfolk", "crime_ref": "NC/24/00000", "role": "suspect",
                             **_person(s), "updated_at": _stamp(10, 9, 30)})
    for i, role in enumerate(["victim", "witness", "offender", "victim"]):
        involvements.append({"force_id": "norfolk", "crime_ref": f"NC/24/{i + 1:05d}", "role": role,
                             **_person(20 + i, sparse=i == 1), "updated_at": _stamp(11 + i)})
    # a person whose occurrence is not in this month's extract (a delta of the person only)
    involvements.append({"force_id": "norfolk", "crime_ref": "NC/23/99999", "role": "victim",
                         **_person(40), "updated_at": _stamp(20)})
    return {"occurrences": _frame("crime", "occurrences", occurrences),
            "involvements": _frame("crime", "involvements", involvements)}


def intelligence_frames() -> dict[str, pd.DataFrame]:
    reports = [{"force_id": "norfolk", "intel_ref": f"INT-{i:04d}", "created_at": _stamp(3 + i, 14, 45),
                "grading_scheme": "3x5x2" if i < 2 else "5x5x5", "source_evaluation": ["1", "2", "B"][i],
                "intelligence_assessment": ["A", "C", "3"][i], "handling_code": ["P", "C", "4"][i],
                "summary": FREE_TEXT[i] if i != 2 else None, "lsoa11cd": "E01026645" if i else None,
                "updated_at": _stamp(3 + i, 15)} for i in range(3)]
    subjects = [
        {"force_id": "norfolk", "intel_ref": "INT-0000", "subject_type": "person", "value": None, **_person(3),
         "updated_at": _stamp(3, 15)},
        {"force_id": "norfolk", "intel_ref": "INT-0000", "subject_type": "phone", "value": "07700 900123",
         **{k: None for k in _person(0)}, "updated_at": _stamp(3, 15)},
        {"force_id": "norfolk", "intel_ref": "INT-0001", "subject_type": "vehicle", "value": "AB12 CDE",
         **{k: None for k in _person(0)}, "updated_at": _stamp(4, 15)},
        {"force_id": "norfolk", "intel_ref": "INT-0001", "subject_type": "address", "value": FREE_TEXT[1],
         **{k: None for k in _person(0)}, "updated_at": _stamp(4, 15)},
        {"force_id": "norfolk", "intel_ref": "INT-0777", "subject_type": "person", "value": None, **_person(7),
         "updated_at": _stamp(5, 15)},
    ]
    return {"reports": _frame("intelligence", "reports", reports),
            "subjects": _frame("intelligence", "subjects", subjects)}


def custody_frames() -> dict[str, pd.DataFrame]:
    records = [{"force_id": "norfolk", "custody_ref": f"CUS/{i:05d}", "arrest_summons_no": None if i == 2 else f"24/36/{i:06d}T",
                "arrested_at": _stamp(5 + i, 2, 17), "ho_code": ["8N", "92A", "LOCAL-X"][i], "custody_suite": ["Wymondham", None, "Aylsham"][i],
                "disposal": contract.CODE_LISTS["disposal"][i], **_person(50 + i, sparse=i == 2),
                "updated_at": _stamp(5 + i, 6)} for i in range(3)]
    return {"records": _frame("custody", "records", records)}


def missing_frames() -> dict[str, pd.DataFrame]:
    episodes = []
    for i in range(4):
        found = i % 2 == 0
        episodes.append({
            "force_id": "norfolk", "episode_ref": f"MP-{i:04d}", **_person(60 + i, sparse=i == 3),
            "risk_grade": contract.CODE_LISTS["risk_grade"][i], "went_missing_at": _stamp(6 + i, 21, 30),
            "returned_at": _stamp(7 + i, 1, 15) if found else None, "from_care": i == 0,
            "missing_from_postcode": "NR2 2BB", "missing_from_lsoa11cd": "E01026646",
            "found_address": FREE_TEXT[i] if found else None, "found_postcode": "IP1 1AA" if found else None,
            "found_lsoa11cd": "E01029999" if found else None,
            "found_with_forenames": "Łukasz" if i == 0 else None, "found_with_surname": "O'Neill-Smith" if i == 0 else None,
            "found_with_date_of_birth": pd.Timestamp(1990, 12, 31) if i == 0 else None,
            "found_with_phone": "07700 900999" if i == 0 else None,
            "exploitation_indicators": ["cse;county_lines", "cce", None, "cse;cce;county_lines;trafficking"][i],
            "return_interview_at": _stamp(9 + i, 11) if found else None, "updated_at": _stamp(10 + i),
        })
    return {"episodes": _frame("missing", "episodes", episodes)}


def visor_frames() -> dict[str, pd.DataFrame]:
    nominals = [{"force_id": "norfolk", "visor_ref": f"V{i:06d}", **_person(70 + i, sparse=i == 2),
                 "category": ["RSO", "VO", "PDP"][i], "mappa_category": [1, 2, None][i], "mappa_level": [1, None, 3][i],
                 "rosh": ["low", "very_high", None][i], "rm2000": ["medium", None, None][i],
                 "notification_period": ["indefinite", None, None][i],
                 "registered_on": pd.Timestamp(2010 + i, 6, 15), "civil_orders": ["SHPO;SRO", None, "SPO"][i],
                 "managing_unit": ["MOSOVO North", "MOSOVO South", None][i], "updated_at": _stamp(12 + i)}
                for i in range(3)]
    return {"nominals": _frame("visor", "nominals", nominals)}


BUILDERS = {"crime": crime_frames, "intelligence": intelligence_frames, "custody": custody_frames,
            "missing": missing_frames, "visor": visor_frames}


def empty_frames(feed: str) -> dict[str, pd.DataFrame]:
    return {entity: _frame(feed, entity, []) for entity in contract.entities(feed)}


def _lossy_cp1252(value: object) -> object:
    return value.encode("cp1252", errors="replace").decode("cp1252") if isinstance(value, str) else value


def expected(frames: dict[str, pd.DataFrame], feed: str, dialect_name: str) -> dict[str, pd.DataFrame]:
    """What should come back: the input, sorted by record key, with the documented losses."""
    dialect = load_dialect(dialect_name)
    layout = dialect.feeds[feed]
    cp1252 = {spec.entity for spec in layout.files if spec.format.type == "csv" and spec.format.encoding == "cp1252"}
    out = {}
    for entity, frame in frames.items():
        frame = frame.copy()
        for fld in contract.fields(feed, entity):
            if fld.dtype == "string":
                values = [None if v is None or v == "" else v for v in frame[fld.name].tolist()]
                if entity in cp1252:
                    values = [_lossy_cp1252(v) for v in values]
                frame[fld.name] = pd.Series(values, index=frame.index, dtype=object)
        out[entity] = _sorted(frame, feed, entity)
    return out


def _sorted(frame: pd.DataFrame, feed: str, entity: str) -> pd.DataFrame:
    key = list(contract.RECORD_KEYS[(feed, entity)])
    columns = contract.column_names(feed, entity)
    return frame[columns].sort_values(key, na_position="last", kind="stable").reset_index(drop=True)


def assert_round_trip(decoded: DecodedExtract, frames: dict[str, pd.DataFrame], feed: str, dialect_name: str) -> None:
    want = expected(frames, feed, dialect_name)
    for entity in contract.entities(feed):
        got = decoded.frames[entity]
        assert list(got.columns) == [*contract.column_names(feed, entity), "_source_file", "_source_row", "_decode_errors"]
        assert got["_decode_errors"].isna().all(), got["_decode_errors"].dropna().tolist()
        pd.testing.assert_frame_equal(_sorted(got, feed, entity), want[entity], check_dtype=True)


# --- round trips through files ---------------------------------------------------------------


@pytest.mark.parametrize("dialect_name", DIALECTS)
@pytest.mark.parametrize("feed", contract.FEEDS)
def test_round_trip_through_files(tmp_path: Path, dialect_name: str, feed: str) -> None:
    dialect = load_dialect(dialect_name)
    frames = BUILDERS[feed]()
    paths = write_extract(frames, feed, dialect, tmp_path)
    assert [p.name for p in paths] == [spec.file_name for spec in dialect.feeds[feed].files]
    decoded = read_extract(tmp_path, feed, dialect)
    assert_round_trip(decoded, frames, feed, dialect_name)
    assert [f.rows for f in decoded.files] == [_data_rows(p) for p in paths]


def _data_rows(path: Path) -> int:
    if path.suffix == ".parquet":
        return len(pd.read_parquet(path))
    if path.suffix == ".jsonl":
        return sum(1 for line in path.read_text(encoding="utf-8").split("\n") if line.strip())
    return len(pd.read_csv(path, sep=None, engine="python", encoding="cp1252" if path.stem.isupper() else "utf-8",
                           dtype=str, keep_default_na=False))


@pytest.mark.parametrize("dialect_name", DIALECTS)
@pytest.mark.parametrize("feed", contract.FEEDS)
def test_empty_month_round_trips(tmp_path: Path, dialect_name: str, feed: str) -> None:
    dialect = load_dialect(dialect_name)
    paths = write_extract(empty_frames(feed), feed, dialect, tmp_path)
    for path in paths:
        assert path.exists()
        if path.suffix == ".csv":
            assert path.read_bytes().count(b"\n") == 1  # the header and nothing else
    decoded = read_extract(tmp_path, feed, dialect)
    for entity in contract.entities(feed):
        assert len(decoded.frames[entity]) == 0
    assert_round_trip(decoded, empty_frames(feed), feed, dialect_name)


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_provenance_names_file_and_row(tmp_path: Path, dialect_name: str) -> None:
    dialect = load_dialect(dialect_name)
    write_extract(crime_frames(), "crime", dialect, tmp_path)
    occurrences = read_extract(tmp_path, "crime", dialect).frames["occurrences"]
    assert set(occurrences["_source_file"]) == {dialect.feeds["crime"].files[0].file_name}
    assert occurrences["_source_row"].tolist() == list(range(1, len(occurrences) + 1))


def test_wide_layout_overflows_beyond_slots(tmp_path: Path) -> None:
    dialect = load_dialect("connect")
    write_extract(crime_frames(n_suspects=6), "crime", dialect, tmp_path)
    header = (tmp_path / "CRIME_OCCURRENCES.csv").read_text(encoding="cp1252").splitlines()[0]
    assert '"SUSPECT_4_SURNAME"' in header and '"SUSPECT_5_SURNAME"' not in header
    overflow = pd.read_csv(tmp_path / "CRIME_PERSONS_OVERFLOW.csv", sep=";", encoding="cp1252", dtype=str)
    # two suspects beyond the four slots, and the person whose occurrence is not in the month
    assert sorted(overflow["CRIME_NUMBER"]) == ["NC/23/99999", "NC/24/00000", "NC/24/00000"]
    involvements = read_extract(tmp_path, "crime", dialect).frames["involvements"]
    assert (involvements["role"] == "suspect").sum() == 6


def test_nested_layout_keeps_unlinked_people(tmp_path: Path) -> None:
    dialect = load_dialect("athena")
    write_extract(crime_frames(), "crime", dialect, tmp_path)
    first = (tmp_path / "crime-occurrences.jsonl").read_text(encoding="utf-8").split("\n")[0]
    assert '"suspects":[{"personId":"N00000"' in first
    unlinked = (tmp_path / "crime-involvements-unlinked.jsonl").read_text(encoding="utf-8")
    assert '"crimeReference":"NC/23/99999"' in unlinked and '"involvementType":"Victim"' in unlinked


def test_niche_truncates_seconds_as_documented(tmp_path: Path) -> None:
    frames = custody_frames()
    frames["records"].loc[0, "arrested_at"] = pd.Timestamp("2024-03-05 02:17:45")
    dialect = load_dialect("niche")
    write_extract(frames, "custody", dialect, tmp_path)
    back = read_extract(tmp_path, "custody", dialect).frames["records"]
    assert back.loc[0, "arrested_at"] == pd.Timestamp("2024-03-05 02:17:00")


# --- determinism and the dialects really differing ---------------------------------------------


@pytest.mark.parametrize("dialect_name", DIALECTS)
@pytest.mark.parametrize("feed", contract.FEEDS)
def test_writes_are_byte_deterministic(tmp_path: Path, dialect_name: str, feed: str) -> None:
    dialect = load_dialect(dialect_name)
    first = write_extract(BUILDERS[feed](), feed, dialect, tmp_path / "a")
    shuffled = {entity: frame.sample(frac=1, random_state=3) for entity, frame in BUILDERS[feed]().items()}
    second = write_extract(shuffled, feed, dialect, tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_dialects_differ_in_names_formats_and_encoding(tmp_path: Path) -> None:
    frames = crime_frames()
    raw = {}
    for name in DIALECTS:
        paths = write_extract(frames, "crime", load_dialect(name), tmp_path / name)
        raw[name] = paths[0].read_bytes()
    niche, athena, connect = raw["niche"], raw["athena"], raw["connect"]
    assert niche.startswith(b"ForceCode,OccurrenceNo,OccurrenceType,HOClass,CommittedFrom")
    assert b"01/03/2024 23:59" in niche and b",8N," in niche and b",Y," in niche
    assert athena.startswith(b'{"owningForce":"norfolk","crimeReference":"NC/24/00000"')
    assert b'"committedDateTime":"2024-03-01T23:59:00"' in athena and b'"offenceCode":"008/14"' in athena
    assert b'"domesticAbuse":true' in athena and "Zoë".encode("utf-8") in athena
    assert connect.startswith(b'"FORCE_CODE";"CRIME_NUMBER";"RECORD_TYPE";"LOCAL_OFFENCE_CODE";"COMMITTED_TS"')
    committed = int((pd.Timestamp("2024-03-01 23:59") - pd.Timestamp("1970-01-01")).total_seconds())
    assert f'"{committed}"'.encode() in connect and b'"VIO020"' in connect and b"\r\n" in connect
    assert "Zoë".encode("cp1252") in connect and b"?ukasz" in connect
    assert b'"19900101"' not in connect  # dates of birth are yyyymmdd
    assert b'"19700101"' in connect


def test_date_of_birth_formats(tmp_path: Path) -> None:
    frames = custody_frames()
    for name, text in {"niche": "15/06/2010", "athena": "2010-06-15", "connect": "20100615"}.items():
        frames["records"].loc[0, "date_of_birth"] = pd.Timestamp(2010, 6, 15)
        path = write_extract(frames, "custody", load_dialect(name), tmp_path / name)[0]
        assert text.encode() in path.read_bytes(), name


def test_connect_visor_is_parquet(tmp_path: Path) -> None:
    path = write_extract(visor_frames(), "visor", load_dialect("connect"), tmp_path)[0]
    assert path.read_bytes()[:4] == b"PAR1"
    table = pd.read_parquet(path)
    assert str(table["LAST_UPDATED_TS"].dtype) == "int64" and table["SEX_CODE"].tolist()[:2] == [2, 0]
    assert table["CIVIL_ORDERS"].tolist()[0] == "SHPO|SRO"


# --- code translations ------------------------------------------------------------------------


@pytest.mark.parametrize("code, padded", [("8N", "008/14"), ("19C", "019/03"), ("105A", "105/01"), ("1", "001/00"),
                                          ("22B", "022/02"), ("37.1", "37.1"), ("CIFAS", "CIFAS"), ("08N", "08N")])
def test_hocr_padded_codes(tmp_path: Path, code: str, padded: str) -> None:
    frames = custody_frames()
    frames["records"]["ho_code"] = code
    dialect = load_dialect("athena")
    write_extract(frames, "custody", dialect, tmp_path)
    assert f'"offenceCode":"{padded}"'.encode() in (tmp_path / "custody-records.jsonl").read_bytes()
    assert read_extract(tmp_path, "custody", dialect).frames["records"]["ho_code"].tolist() == [code] * 3


def _ho_codes() -> list[str]:
    csv_path = ROOT / "data" / "offences" / "ho_offence_codes_policeuk_categories.csv"
    extra = ["1", "2", "3B", "5D", "8L", "8N", "8Q", "8R", "8U", "17A", "17B", "19C", "19H", "20A", "20B", "21",
             "22A", "22B", "24", "28A", "105A", "1/4.1/4.10/4.2", "37.1", "FFA UK"]
    if csv_path.exists():
        extra += pd.read_csv(csv_path, dtype=str)["Offence_Code"].tolist()
    return sorted(set(extra))


@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_every_home_office_code_round_trips(tmp_path: Path, dialect_name: str) -> None:
    codes = _ho_codes()
    frames = custody_frames()
    row = frames["records"].iloc[[0]]
    records = pd.concat([row] * len(codes), ignore_index=True)
    records["custody_ref"] = [f"C{i:04d}" for i in range(len(codes))]
    records["ho_code"] = pd.Series(codes, dtype=object)
    dialect = load_dialect(dialect_name)
    write_extract({"records": records}, "custody", dialect, tmp_path)
    back = read_extract(tmp_path, "custody", dialect).frames["records"]
    assert back["ho_code"].tolist() == codes


def test_local_offence_codes_use_table_then_fallback(tmp_path: Path) -> None:
    frames = custody_frames()  # ho codes 8N, 92A and 'LOCAL-X'
    write_extract(frames, "custody", load_dialect("connect"), tmp_path)
    text = (tmp_path / "CUSTODY_RECORDS.csv").read_text(encoding="cp1252")
    assert '"VIO020"' in text and '"DRG001"' in text and '"LOC-LOCAL-X"' in text


# --- values that do not decode, and files that cannot be read ----------------------------------


def _edit(path: Path, old: str, new: str, encoding: str = "utf-8") -> None:
    text = path.read_text(encoding=encoding)
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding=encoding, newline="")


def test_bad_values_become_decode_errors_not_exceptions(tmp_path: Path) -> None:
    write_extract(crime_frames(), "crime", load_dialect("niche"), tmp_path / "niche")
    _edit(tmp_path / "niche" / "crime_occurrences.csv", "01/03/2024 23:59", "31/02/2024 10:00")
    _edit(tmp_path / "niche" / "crime_occurrences.csv", ",Y,", ",maybe,")
    occurrences = read_extract(tmp_path / "niche", "crime", load_dialect("niche")).frames["occurrences"]
    assert len(occurrences) == 6
    errors = occurrences.loc[0, "_decode_errors"]
    assert "committed_at: '31/02/2024 10:00' is not a valid dd/mm/yyyy HH:MM date" in errors
    assert "flag_domestic_abuse: 'maybe' is not a niche flag (Y/N)" in errors
    assert pd.isna(occurrences.loc[0, "committed_at"]) and occurrences.loc[0, "crime_ref"] == "NC/24/00000"
    assert occurrences["_decode_errors"].iloc[1:].isna().all()


def test_bad_values_in_json_and_epoch(tmp_path: Path) -> None:
    write_extract(crime_frames(), "crime", load_dialect("athena"), tmp_path / "athena")
    _edit(tmp_path / "athena" / "crime-occurrences.jsonl", '"gender":"Male"', '"gender":"Mail"')
    involvements = read_extract(tmp_path / "athena", "crime", load_dialect("athena")).frames["involvements"]
    bad = involvements.dropna(subset=["_decode_errors"])
    assert len(bad) == 1 and "sex: 'Mail' is not in the athena sex code list" in bad["_decode_errors"].iloc[0]
    assert bad["_source_file"].iloc[0] == "crime-occurrences.jsonl" and bad["_source_row"].iloc[0] == 1

    write_extract(custody_frames(), "custody", load_dialect("connect"), tmp_path / "connect")
    path = tmp_path / "connect" / "CUSTODY_RECORDS.csv"
    stamp = int((pd.Timestamp("2024-03-05 02:17") - pd.Timestamp("1970-01-01")).total_seconds())
    _edit(path, f'"{stamp}"', '"yesterday"', encoding="cp1252")
    records = read_extract(tmp_path / "connect", "custody", load_dialect("connect")).frames["records"]
    assert records.loc[0, "_decode_errors"] == "arrested_at: 'yesterday' is not a valid Unix epoch seconds date"


def test_ragged_csv_row_is_a_row_error(tmp_path: Path) -> None:
    dialect = load_dialect("niche")
    write_extract(visor_frames(), "visor", dialect, tmp_path)
    path = tmp_path / "visor_nominals.csv"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + ",surplus\n", encoding="utf-8")
    nominals = read_extract(tmp_path, "visor", dialect).frames["nominals"]
    assert len(nominals) == 3 and nominals["_decode_errors"].iloc[:2].isna().all()
    assert nominals.loc[2, "_decode_errors"] == "row has 25 fields but the header has 24"


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    dialect = load_dialect("niche")
    write_extract(crime_frames(), "crime", dialect, tmp_path)
    _edit(tmp_path / "crime_occurrences.csv", "OccurrenceNo,", "OccurrenceNumber,")
    with pytest.raises(ExtractFileError, match=r"missing required columns: OccurrenceNo \(crime_ref\)") as caught:
        read_extract(tmp_path, "crime", dialect)
    assert caught.value.path.endswith("crime_occurrences.csv")


def test_missing_optional_column_reads_as_null(tmp_path: Path) -> None:
    dialect = load_dialect("athena")
    write_extract(custody_frames(), "custody", dialect, tmp_path)
    path = tmp_path / "custody-records.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace('"custodySuite":', '"ignoredKey":'), encoding="utf-8")
    records = read_extract(tmp_path, "custody", dialect).frames["records"]
    assert records["custody_suite"].isna().all() and records["_decode_errors"].isna().all()


@pytest.mark.parametrize("dialect_name, file_name, content, message", [
    ("niche", "custody_records.csv", b"\x00\xff\xfe garbage \x81\x9d", "is not valid utf-8 text"),
    ("niche", "custody_records.csv", b"", "file is empty"),
    ("niche", "custody_records.csv", "ForceCode,CustodyNo\nnorfolk,Zoë\n".encode("cp1252"), "is not valid utf-8 text"),
    ("connect", "CUSTODY_RECORDS.csv", b"\x81\x8d\x8f\x90\x9d", "is not valid cp1252 text"),
    ("connect", "CUSTODY_RECORDS.csv", b'"just";"garbage"\r\n"a";"b"\r\n', "missing required columns"),
    ("connect", "VISOR_NOMINALS.parquet", b"PAR1 not really parquet", "is not a readable Parquet file"),
])
def test_unreadable_files_raise_extract_file_error(tmp_path: Path, dialect_name: str, file_name: str,
                                                   content: bytes, message: str) -> None:
    dialect = load_dialect(dialect_name)
    feed = "visor" if file_name.endswith("parquet") else "custody"
    write_extract(BUILDERS[feed](), feed, dialect, tmp_path)
    (tmp_path / file_name).write_bytes(content)
    with pytest.raises(ExtractFileError, match=message):
        read_extract(tmp_path, feed, dialect)


def test_truncated_json_line(tmp_path: Path) -> None:
    dialect = load_dialect("athena")
    write_extract(crime_frames(), "crime", dialect, tmp_path)
    path = tmp_path / "crime-occurrences.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(ExtractFileError, match=r"line 6 is not valid JSON .*truncated"):
        read_extract(tmp_path, "crime", dialect)


def test_missing_file(tmp_path: Path) -> None:
    dialect = load_dialect("connect")
    write_extract(crime_frames(), "crime", dialect, tmp_path)
    (tmp_path / "CRIME_PERSONS_OVERFLOW.csv").unlink()
    with pytest.raises(ExtractFileError, match="file is missing: .*not found: CRIME_PERSONS_OVERFLOW.csv"):
        read_extract(tmp_path, "crime", dialect)


def test_writer_rejects_frames_without_canonical_columns(tmp_path: Path) -> None:
    frames = custody_frames()
    frames["records"] = frames["records"].drop(columns=["disposal"])
    with pytest.raises(ValueError, match="lacks canonical columns"):
        write_extract(frames, "custody", load_dialect("niche"), tmp_path)


# --- dialect configuration ----------------------------------------------------------------------


def _profiles_copy(tmp_path: Path) -> Path:
    profiles = tmp_path / "profiles"
    shutil.copytree(find_profiles_dir() / "dialects", profiles / "dialects")
    return profiles


def test_unknown_dialect_lists_the_configured_ones() -> None:
    with pytest.raises(DialectConfigError, match="configured: athena, connect, niche"):
        load_dialect("nonesuch")


def test_irreversible_code_list_is_rejected(tmp_path: Path) -> None:
    profiles = _profiles_copy(tmp_path)
    _edit(profiles / "dialects" / "niche.yml", 'values: {M: "M", F: "F", U: "U"}', 'values: {M: "M", F: "F", U: "M"}')
    with pytest.raises(DialectConfigError, match=r"niche.yml: codes.sex.values: not reversible: M stand"):
        load_dialect("niche", profiles)


def test_unmapped_canonical_column_is_rejected(tmp_path: Path) -> None:
    profiles = _profiles_copy(tmp_path)
    _edit(profiles / "dialects" / "connect.yml", "        custody_suite: SUITE_NAME\n", "")
    with pytest.raises(DialectConfigError, match=r"connect.yml: feeds.custody.columns.records: unmapped canonical columns \['custody_suite'\]"):
        load_dialect("connect", profiles)


def test_profiles_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profiles = _profiles_copy(tmp_path)
    monkeypatch.setenv("FORCEPROFILES_HOME", str(tmp_path))
    assert find_profiles_dir() == profiles
    assert load_dialect("athena").source == profiles / "dialects" / "athena.yml"


def test_data_contract_doc_is_current() -> None:
    script = ROOT / "scripts" / "gen_contract_doc.py"
    result = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert result.returncode == 0, result.stdout + result.stderr


# --- PostgreSQL delivery ------------------------------------------------------------------------


@pytest.fixture()
def pg_schema() -> str:
    """A throwaway schema on the loopback server, dropped after the test."""
    psycopg = pytest.importorskip("psycopg")
    try:
        connection = psycopg.connect(POSTGRES, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at '{POSTGRES}': {error}")
    schema = f"fp_test_{uuid.uuid4().hex[:10]}"
    try:
        yield schema
    finally:
        with connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.postgres
@pytest.mark.parametrize("dialect_name", DIALECTS)
def test_postgres_round_trip(pg_schema: str, dialect_name: str) -> None:
    dialect = load_dialect(dialect_name)
    for feed, build in BUILDERS.items():
        frames = build()
        loaded = write_extract_postgres(frames, feed, dialect, "2024-03", POSTGRES, pg_schema)
        assert loaded >= len(next(iter(frames.values())))
        decoded = read_extract_postgres(POSTGRES, pg_schema, feed, dialect, "2024-03")
        # the database holds text without the cp1252 loss: compare with the utf-8 dialect's expectation
        assert_round_trip(decoded, frames, feed, "athena")
        first = decoded.frames[contract.entities(feed)[0]]
        table = f"{feed}_{dialect.feeds[feed].files[0].kind}"
        assert set(first["_source_file"]) <= {f"postgres:{pg_schema}.{table}"}
        assert [f.path for f in decoded.files] == [f"postgres:{pg_schema}.{feed}_{s.kind}" for s in dialect.feeds[feed].files]


@pytest.mark.postgres
def test_postgres_month_replace_is_idempotent(pg_schema: str) -> None:
    import psycopg

    dialect = load_dialect("connect")
    frames = crime_frames()
    write_extract_postgres(frames, "crime", dialect, "2024-02", POSTGRES, pg_schema)
    for _ in range(2):
        write_extract_postgres(frames, "crime", dialect, "2024-03", POSTGRES, pg_schema)
    smaller = {"occurrences": frames["occurrences"].iloc[:2], "involvements": frames["involvements"].iloc[:0]}
    write_extract_postgres(smaller, "crime", dialect, "2024-03", POSTGRES, pg_schema)
    with psycopg.connect(POSTGRES) as connection:
        counts = dict(connection.execute(
            f'SELECT extract_month, count(*) FROM "{pg_schema}".crime_occurrences GROUP BY 1').fetchall())
    assert counts == {"2024-02": 6, "2024-03": 2}
    march = read_extract_postgres(POSTGRES, pg_schema, "crime", dialect, "2024-03")
    assert len(march.frames["occurrences"]) == 2 and len(march.frames["involvements"]) == 0
    february = read_extract_postgres(POSTGRES, pg_schema, "crime", dialect, "2024-02")
    assert_round_trip(february, frames, "crime", "athena")
    again = read_extract_postgres(POSTGRES, pg_schema, "crime", dialect, "2024-02")
    assert [f.sha256 for f in again.files] == [f.sha256 for f in february.files]


@pytest.mark.postgres
def test_postgres_missing_table_is_a_file_error(pg_schema: str) -> None:
    with pytest.raises(ExtractFileError, match=rf"postgres:{pg_schema}.visor_nominals: table does not exist"):
        read_extract_postgres(POSTGRES, pg_schema, "visor", load_dialect("niche"), "2024-03")


def test_writer_accepts_loosely_typed_frames(tmp_path: Path) -> None:
    """pandas' default str dtype, python dates and nanosecond timestamps all encode the same."""
    frames = visor_frames()
    loose = frames["nominals"].copy()
    loose["surname"] = loose["surname"].astype("str")
    loose["registered_on"] = [d.date() for d in loose["registered_on"]]
    loose["updated_at"] = loose["updated_at"].astype("datetime64[ns]")
    dialect = load_dialect("niche")
    strict_paths = write_extract(frames, "visor", dialect, tmp_path / "strict")
    loose_paths = write_extract({"nominals": loose}, "visor", dialect, tmp_path / "loose")
    assert strict_paths[0].read_bytes() == loose_paths[0].read_bytes()


def test_unknown_canonical_code_is_written_verbatim_and_flagged_on_read(tmp_path: Path) -> None:
    frames = missing_frames()
    frames["episodes"].loc[0, "risk_grade"] = "urgent"
    dialect = load_dialect("niche")
    write_extract(frames, "missing", dialect, tmp_path)
    assert b",urgent," in (tmp_path / "misper_episodes.csv").read_bytes()
    episodes = read_extract(tmp_path, "missing", dialect).frames["episodes"]
    row = episodes[episodes["episode_ref"] == "MP-0000"].iloc[0]
    assert row["risk_grade"] is None
    assert row["_decode_errors"].startswith("risk_grade: 'urgent' is not in the niche risk_grade code list")
