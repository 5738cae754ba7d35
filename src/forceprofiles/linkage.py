"""Person resolution: probabilistic record linkage of person records with Splink on DuckDB.

Why Splink: police person records carry no shared key. PNC and CRO numbers are strong
evidence but are often missing and sometimes mistyped; names arrive as nicknames, with and
without accents, double-barrelled or not; dates of birth get their day and month swapped.
A Fellegi-Sunter model weighs each piece of evidence by how often it agrees among true matches
(m) and among non-matches (u), so that every link comes with a match weight that decomposes into
per-field evidence, which is what makes a cross-force link explainable in a product.

Why a saved model: the model is trained once (``scripts/train_person_model.py``) and saved as a
versioned artefact (``profiles/linkage/person_model.json``, with its training provenance).
:func:`resolve` only loads it: retraining silently every run would move person keys from month
to month for no reason in the data.

Backends: everything here runs on Splink's ``DuckDBAPI`` (no Spark needed). To scale out,
build the linker on ``splink.SparkAPI(spark_session=spark)`` instead of ``DuckDBAPI()`` in
:func:`_linker` (the settings use DuckDB SQL functions ``jaro_winkler_similarity``,
``levenshtein``, ``string_split`` and ``list_has_any``, which Spark spells differently, so the
custom levels' SQL would need ``base_dialect_str="duckdb"`` for sqlglot to translate them).

The warehouse build resolves its millions of records with the same model, normalisation and
identical-record rule, but in DuckDB (:mod:`forceprofiles.warehouse_resolution`); :func:`resolve`
here is for a table in memory, and also returns the explained links.

The person schema (:data:`PERSON_SCHEMA`) is what ``forceprofiles link`` accepts: any persons
table with those columns, e.g. a partner agency's list, can be matched against police data.
"""

from __future__ import annotations

import copy
import datetime as _dt
import hashlib
import json
import logging
import math
import re
import tempfile
import unicodedata
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from forceprofiles.clustering import Identifiers, constrained_components
from forceprofiles.identifiers import is_valid_cro, normalise_pnc
from forceprofiles.memory import memory_limit

log = logging.getLogger(__name__)

MODEL_FORMAT = "forceprofiles.person_model"
MODEL_VERSION = "1.4.0"
MODEL_FILE = Path("linkage") / "person_model.json"


def default_model_path() -> Path:
    """``profiles/linkage/person_model.json`` (``$FORCEPROFILES_HOME`` is honoured, as for dialects)."""
    from forceprofiles.dialects import find_profiles_dir

    return find_profiles_dir() / MODEL_FILE

# The documented person schema: column -> (required, description). Optional columns may be
# absent from an input; required ones must be there (values may still be null).
PERSON_SCHEMA: dict[str, tuple[bool, str]] = {
    "record_id": (True, "unique id of the person record (stable from month to month)"),
    "source": (True, "where the record comes from: a force id, 'central', or a partner agency "
                     "(two records of the same police force are evidence of one person)"),
    "forenames": (True, "forenames as recorded"),
    "surname": (True, "surname as recorded"),
    "date_of_birth": (True, "date of birth (YYYY-MM-DD; day/month swaps are forgiven)"),
    "sex": (False, "M, F or U"),
    "address": (True, "home address line as recorded"),
    "postcode": (True, "home postcode as recorded"),
    "pnc_id": (False, "PNC ID YYYY/NNNNNNNC or YY/NNNNNNC (invalid check letters are ignored)"),
    "cro_number": (False, "CRO number NNNNNN/YYC (invalid check letters are ignored)"),
}
REQUIRED_COLUMNS: tuple[str, ...] = tuple(name for name, (required, _) in PERSON_SCHEMA.items() if required)


class PersonSchemaError(ValueError):
    """A persons table lacks columns of the documented person schema."""


# ---------------------------------------------------------------------------------------------
# Normalisation
# ---------------------------------------------------------------------------------------------

# Letters that NFKD does not decompose into ASCII + combining mark.
_EXTRA_TRANSLIT = str.maketrans({"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ß": "ss",
                                 "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ı": "i", "þ": "th"})

# Common English nicknames beyond the synthetic world's own table (so that a partner agency's
# list with e.g. "Sid" or "Ron" still finds the police record).
_EXTRA_NICKNAMES: dict[str, tuple[str, ...]] = {
    "Ronald": ("Ron", "Ronnie"), "Donald": ("Don", "Donnie"), "Sidney": ("Sid",),
    "Frederick": ("Fred", "Freddie", "Freddy"), "Gerald": ("Gerry",), "Terence": ("Terry",),
    "Lawrence": ("Larry", "Laurie"), "Leonard": ("Len", "Lenny"), "Timothy": ("Tim", "Timmy"),
    "Kenneth": ("Ken", "Kenny"), "Raymond": ("Ray",), "Gregory": ("Greg",), "Jonathan": ("Jon", "Jonny"),
    "Philip": ("Phil",), "Phillip": ("Phil",), "Douglas": ("Doug",), "Albert": ("Bert", "Al"),
    "Susannah": ("Sue",), "Christine": ("Chris", "Chrissie"), "Catherine": ("Cath", "Cathy", "Kate"),
    "Jacqueline": ("Jackie",), "Alexandra": ("Alex", "Lexi"), "Josephine": ("Jo", "Josie"),
    "Gemma": ("Gem",), "Kimberley": ("Kim",), "Stephanie": ("Steph",), "Zachary": ("Zach", "Zak"),
    "Frances": ("Fran",), "Francis": ("Frank",), "Ashley": ("Ash",), "Oliver": ("Ollie",),
    "Harrison": ("Harry",), "Callum": ("Cal",), "Kieran": ("Kier",), "Dominic": ("Dom",),
    "Elliot": ("Eli",), "Sebastian": ("Seb",), "Theodore": ("Theo",), "Maximilian": ("Max",),
}


def ascii_fold(text: str) -> str:
    """Transliterate to ASCII (NFKD, then drop combining marks): 'Łukasz Wiśniewski' -> 'Lukasz Wisniewski'."""
    text = text.translate(_EXTRA_TRANSLIT)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _norm_token_text(value: object) -> str | None:
    """Lower-case ASCII letters, digits and single spaces; hyphens and apostrophes become spaces or go."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = ascii_fold(str(value)).lower()
    text = text.replace("'", "").replace("`", "")
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    return text or None


def nickname_table() -> dict[str, str]:
    """Normalised name -> canonical name (nicknames and transliterated variants to one form).

    Built from :data:`forceprofiles.synth.names.NICKNAMES` inverted plus a few common extras.
    A nickname shared by two names (Sam: Samuel, Samantha) goes to the first listed; the other
    evidence (date of birth, sex, surname) separates such people.
    """
    from forceprofiles.synth.names import NICKNAMES

    table: dict[str, str] = {}
    for source in (NICKNAMES, _EXTRA_NICKNAMES):
        for canonical, nicknames in source.items():
            canon = _norm_token_text(canonical) or ""
            table.setdefault(canon, canon)
            for nickname in nicknames:
                key = _norm_token_text(nickname) or ""
                table.setdefault(key, table.get(canon, canon))
    # Follow chains (mohammed -> muhammad) to a fixed point.
    for key in list(table):
        seen = {key}
        value = table[key]
        while table.get(value, value) != value and value not in seen:
            seen.add(value)
            value = table[value]
        table[key] = value
    return table


_NICKNAMES: dict[str, str] | None = None


def canonical_forename(name: str | None) -> str | None:
    """The canonical form of one normalised forename ('bill' -> 'william', 'mohd' -> 'muhammad')."""
    global _NICKNAMES
    if not name:
        return None
    if _NICKNAMES is None:
        _NICKNAMES = nickname_table()
    return _NICKNAMES.get(name, name)


_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


def normalise_postcode(value: object) -> str | None:
    """'nr22 1ex' / 'NR221EX' -> 'NR22 1EX'; an outward code alone is kept; anything else -> None."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    compact = re.sub(r"[^A-Z0-9]", "", str(value).upper())
    match = _POSTCODE.match(compact)
    if match:
        return f"{match.group(1)} {match.group(2)}"
    if re.match(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$", compact):
        return compact
    return None


def _to_date(value: object) -> _dt.date | None:
    """A date from a date, timestamp, ISO string or UK dd/mm/yyyy string; None if unreadable."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    text = str(value).strip()
    uk = re.match(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", text)
    if uk:  # UK lists write dd/mm/yyyy; pandas would read it month first
        try:
            return _dt.date(int(uk.group(3)), int(uk.group(2)), int(uk.group(1)))
        except ValueError:
            return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return None
    if pd.isna(stamp):
        return None
    return stamp.date()


def _swapped(day_first: _dt.date | None) -> str | None:
    """The date with day and month swapped, where that is a different valid date."""
    if day_first is None or day_first.day > 12 or day_first.day == day_first.month:
        return None
    try:
        return _dt.date(day_first.year, day_first.day, day_first.month).isoformat()
    except ValueError:
        return None


def check_person_schema(df: pd.DataFrame) -> None:
    """Raise :class:`PersonSchemaError` naming every required column that is missing."""
    missing = [name for name in REQUIRED_COLUMNS if name not in df.columns]
    if missing:
        documented = ", ".join(f"{n}{'' if r else '?'}" for n, (r, _) in PERSON_SCHEMA.items())
        raise PersonSchemaError(
            f"persons table is missing required column(s): {', '.join(missing)} "
            f"(the person schema is: {documented}; '?' marks optional columns)")


def prepare_persons(df: pd.DataFrame) -> pd.DataFrame:
    """Normalise a persons table (the person schema) into the columns the model compares.

    Output columns: record_id, source, forename (canonical first forename), forenames_norm,
    surname_norm (tokens joined without spaces, so 'Smith-Jones' = 'Smith Jones' = 'Smithjones'),
    surname_tokens (space-separated tokens, for double-barrelled overlaps), dob (date), dob_str,
    dob_swapped (day/month swapped, where valid), sex, postcode, postcode_district, address_norm,
    pnc (long form, null unless the check letter is right), pnc_recorded_invalid (flag),
    cro (null unless valid). Record ids must be unique: they are Splink's unique_id.
    """
    check_person_schema(df)
    if df["record_id"].isna().any():
        raise PersonSchemaError("record_id must not be null")
    if df["record_id"].duplicated().any():
        dupes = df.loc[df["record_id"].duplicated(), "record_id"].astype(str).head(5).tolist()
        raise PersonSchemaError(f"record_id must be unique; duplicated: {', '.join(dupes)}")
    derived: dict[str, np.ndarray] = {}
    for raw_column in NORMALISED_FROM:
        values = df[raw_column] if raw_column in df.columns else pd.Series([None] * len(df), index=df.index, dtype=object)
        derived.update(normalise_column(raw_column, values))
    out = pd.DataFrame({"record_id": df["record_id"].astype(str).to_numpy(),
                        **{column: derived[column] for column in PREPARED_COLUMNS[1:]}})
    out.insert(7, "dob", pd.to_datetime(out["dob_str"], errors="coerce"))
    return out


# Each raw column of the person schema -> the prepared columns made from it alone.
NORMALISED_FROM: dict[str, tuple[str, ...]] = {
    "source": ("source", "force"),
    "forenames": ("forename", "forenames_norm"),
    "surname": ("surname_norm", "surname_tokens"),
    "date_of_birth": ("dob_str", "dob_swapped"),
    "sex": ("sex",),
    "postcode": ("postcode", "postcode_district"),
    "address": ("address_norm",),
    "pnc_id": ("pnc", "pnc_recorded_invalid"),
    "cro_number": ("cro",),
}
PREPARED_COLUMNS: tuple[str, ...] = ("record_id", "source", "force", "forename", "forenames_norm", "surname_norm",
                                     "surname_tokens", "dob_str", "dob_swapped", "sex", "postcode",
                                     "postcode_district", "address_norm", "pnc", "pnc_recorded_invalid", "cro")


def normalise_column(raw_column: str, values: pd.Series) -> dict[str, np.ndarray]:
    """The prepared columns (:data:`NORMALISED_FROM`) made from one raw column's values.

    Each prepared column depends on one raw column only, which is what lets the warehouse
    normalise each distinct raw value once, in a lookup table, instead of every record."""
    if raw_column == "source":
        sources = _per_value(values, lambda v: str(v).strip() if _present(v) else None)
        forces = police_force_ids()
        return {"source": sources, "force": _per_value(sources, lambda s: s if s in forces else None)}
    if raw_column == "forenames":
        forenames = _per_value(values, _norm_token_text)
        return {"forename": _per_value(forenames, lambda f: canonical_forename(f.split(" ")[0]) if f else None),
                "forenames_norm": forenames}
    if raw_column == "surname":
        surnames = _per_value(values, _norm_token_text)
        return {"surname_norm": _per_value(surnames, lambda t: t.replace(" ", "") if t else None),
                "surname_tokens": surnames}
    if raw_column == "date_of_birth":
        dob_str = _per_value(values, lambda v: _iso(_to_date(v)))
        return {"dob_str": dob_str,
                "dob_swapped": _per_value(dob_str, lambda d: _swapped(_dt.date.fromisoformat(d)) if d else None)}
    if raw_column == "sex":
        return {"sex": _per_value(values, lambda v: str(v).upper() if _present(v) and str(v).upper() in ("M", "F")
                                  else None)}
    if raw_column == "postcode":
        postcodes = _per_value(values, normalise_postcode)
        return {"postcode": postcodes,
                "postcode_district": _per_value(postcodes, lambda c: c.split(" ")[0] if c else None)}
    if raw_column == "address":
        return {"address_norm": _per_value(values, _norm_token_text)}
    if raw_column == "pnc_id":
        pncs = _per_value(values, lambda v: normalise_pnc(str(v)) if _present(v) else None)
        present = _per_value(values, _present).astype(bool)
        return {"pnc": pncs, "pnc_recorded_invalid": present & pd.isna(pncs)}
    if raw_column == "cro_number":
        return {"cro": _per_value(values, lambda v: str(v).strip().upper() if _present(v) and is_valid_cro(str(v))
                                  else None)}
    raise KeyError(f"no prepared column is made from {raw_column!r}")


def _per_value(values: pd.Series | np.ndarray, function: Any) -> np.ndarray:
    """``function`` applied to each distinct value once, then spread over the rows (an object array).

    A region's person records repeat the same names, dates and postcodes millions of times:
    normalising each distinct value once is what makes preparing them affordable."""
    series = pd.Series(values, copy=False)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = np.array([function(value) for value in uniques] + [function(None)], dtype=object)
    return mapped[codes]  # code -1 (missing) takes the last entry, function(None)


def _iso(day: _dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _present(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return False
    if isinstance(value, float) and pd.isna(value):
        return False
    return str(value).strip() != ""


# ---------------------------------------------------------------------------------------------
# Model settings
# ---------------------------------------------------------------------------------------------


FORCE_SAME_LABEL = "same force"


def police_force_ids() -> frozenset[str]:
    """The ids a record's source must have to count as a police force for the force comparison:
    the 43 territorial forces (reference data) and any force the registry lists. The central
    platform and a partner agency's list hold records from everywhere, so they are no evidence."""
    from forceprofiles.reference import forces
    from forceprofiles.registry import load_registry

    return frozenset(forces()["force_id"]) | frozenset(load_registry())


def _null(col: str) -> dict[str, Any]:
    return {"sql_condition": f'"{col}_l" IS NULL OR "{col}_r" IS NULL', "label_for_charts": f"{col} missing",
            "is_null_level": True}


def _level(sql: str, label: str) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label}


_ELSE = {"sql_condition": "ELSE", "label_for_charts": "all other"}


def model_settings() -> dict[str, Any]:
    """The Splink settings (comparisons and blocking), before training.

    Comparison levels are ordered from strongest to weakest agreement; the labels are what
    :func:`resolve` writes into each link's explanation. PNC and CRO have only exact / other:
    their m probabilities (trained) say how often true matches carry different identifiers,
    which is what makes them strong but fallible evidence rather than a deterministic key.
    """
    jw = "jaro_winkler_similarity"
    comparisons = [
        {"output_column_name": "forename", "comparison_description": "first forename (nickname-canonical)",
         "comparison_levels": [
             _null("forename"),
             _level('"forename_l" = "forename_r"', "forename exact (canonical)"),
             _level(f'{jw}("forename_l", "forename_r") >= 0.92', "forename JW>0.92"),
             _level(f'{jw}("forename_l", "forename_r") >= 0.80', "forename JW>0.80"),
             _ELSE]},
        {"output_column_name": "surname", "comparison_description": "surname (double-barrelled aware)",
         "comparison_levels": [
             _null("surname_norm"),
             _level('"surname_norm_l" = "surname_norm_r"', "surname exact"),
             _level(f'{jw}("surname_norm_l", "surname_norm_r") >= 0.92', "surname JW>0.92"),
             _level('list_has_any(string_split("surname_tokens_l", \' \'), string_split("surname_tokens_r", \' \'))',
                    "surname token shared (double-barrelled)"),
             _level(f'{jw}("surname_norm_l", "surname_norm_r") >= 0.80', "surname JW>0.80"),
             _ELSE]},
        {"output_column_name": "dob", "comparison_description": "date of birth",
         "comparison_levels": [
             _null("dob_str"),
             _level('"dob_str_l" = "dob_str_r"', "dob exact"),
             _level('"dob_str_l" = "dob_swapped_r"', "dob day/month swapped"),
             _level('substr("dob_str_l", 6, 5) = substr("dob_str_r", 6, 5) AND '
                    'abs(cast(substr("dob_str_l", 1, 4) as integer) - cast(substr("dob_str_r", 1, 4) as integer)) = 1',
                    "dob year off by one"),
             _level('levenshtein("dob_str_l", "dob_str_r") <= 1', "dob one character different"),
             _level('levenshtein("dob_str_l", "dob_str_r") <= 2', "dob two characters different"),
             _ELSE]},
        {"output_column_name": "postcode", "comparison_description": "home postcode",
         "comparison_levels": [
             _null("postcode"),
             _level('"postcode_l" = "postcode_r"', "postcode exact"),
             _level('"postcode_district_l" = "postcode_district_r"', "postcode district"),
             _ELSE]},
        {"output_column_name": "pnc", "comparison_description": "PNC ID (check letter verified)",
         "comparison_levels": [_null("pnc"), _level('"pnc_l" = "pnc_r"', "pnc exact"), _ELSE]},
        {"output_column_name": "cro", "comparison_description": "CRO number (check letter verified)",
         "comparison_levels": [_null("cro"), _level('"cro_l" = "cro_r"', "cro exact"), _ELSE]},
        {"output_column_name": "sex", "comparison_description": "sex",
         "comparison_levels": [_null("sex"), _level('"sex_l" = "sex_r"', "sex same"), _ELSE]},
        # Where the records were made: a person's records are mostly in their own force, while
        # strangers who share a name and date of birth are spread over every force in the table.
        # Its u is not trained but computed for the table resolved (settings_for_table).
        {"output_column_name": "force", "comparison_description": "police force holding the record",
         "comparison_levels": [_null("force"), _level('"force_l" = "force_r"', FORCE_SAME_LABEL), _ELSE]},
    ]
    blocking = [
        {"blocking_rule": 'l."pnc" = r."pnc"'},
        {"blocking_rule": 'l."cro" = r."cro"'},
        # A date of birth with the initials, not the surname's initial alone: at national volume
        # (43 forces, 4 months) that rule was 37 of the 86 million pairs predict scored, nearly
        # all strangers. The forename is nickname-canonical, and a keying error or a spelling
        # variant seldom changes an initial, so this still finds the misspelt names.
        {"blocking_rule": 'l."dob_str" = r."dob_str" AND substr(l."surname_norm", 1, 1) = substr(r."surname_norm", 1, 1) '
                          'AND substr(l."forename", 1, 1) = substr(r."forename", 1, 1)'},
        {"blocking_rule": 'l."dob_str" = r."dob_str" AND l."forename" = r."forename"'},
        {"blocking_rule": 'l."dob_str" = r."dob_swapped" AND l."surname_norm" = r."surname_norm"'},
        # Name alone is not a block: at a region's volume "Jack Smith" is thousands of records
        # (3.5 billion pairs at scale 1.0). Name with the year of birth was not either at
        # national volume (37 million pairs at 4 months); with the year and month it still finds
        # the day typed wrong (a swapped day and month is the rule above), and name with the
        # postcode district finds the rest of the typed-wrong dates and the moves.
        {"blocking_rule": 'l."forename" = r."forename" AND l."surname_norm" = r."surname_norm" '
                          'AND substr(l."dob_str", 1, 7) = substr(r."dob_str", 1, 7)'},
        {"blocking_rule": 'l."forename" = r."forename" AND l."surname_norm" = r."surname_norm" '
                          'AND l."postcode_district" = r."postcode_district"'},
        {"blocking_rule": 'l."surname_norm" = r."surname_norm" AND l."postcode" = r."postcode"'},
    ]
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "record_id",
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": blocking,
        "retain_matching_columns": True,
        "retain_intermediate_calculation_columns": True,
        "additional_columns_to_retain": ["source"],
        "probability_two_random_records_match": 0.0001,
        "em_convergence": 0.0001,
        "max_iterations": 25,
    }


# DuckDB memory for Splink (an in-memory database that spills to a temporary folder beyond it):
# without a limit DuckDB takes up to 80% of the machine, on top of the build's own. Without the
# variable, a sixth of the memory the process may use: 4GB on a 24 GiB machine, the fixed value
# every benchmark before session 16 ran with; beside the warehouse's quarter it leaves more than
# half the machine to Python's frames and the worker's other tasks (forceprofiles.memory).
LINKAGE_MEMORY_ENV = "FORCEPROFILES_LINKAGE_MEMORY"
LINKAGE_MEMORY_SHARE = 1 / 6


def linkage_memory_limit() -> str:
    """The memory limit for Splink's DuckDB: the variable's value, else its share of the memory."""
    return memory_limit(LINKAGE_MEMORY_ENV, LINKAGE_MEMORY_SHARE)


def splink_linker(prepared: pd.DataFrame, settings: dict[str, Any]) -> Any:
    """A Splink linker on an in-memory DuckDB (swap DuckDBAPI for SparkAPI to scale out)."""
    import duckdb
    from splink import DuckDBAPI, Linker

    # Its own spill folder: two DuckDB instances spilling into one folder would share file names.
    spill = tempfile.TemporaryDirectory(prefix="forceprofiles-splink-")
    connection = duckdb.connect(config={"memory_limit": linkage_memory_limit(),
                                        "temp_directory": spill.name})
    db_api = DuckDBAPI(connection=connection)
    weakref.finalize(db_api, spill.cleanup)
    frame = db_api.register(prepared, dataset_display_name="persons")
    return Linker(frame, settings, log_level=logging.WARNING)


def train_model(persons: pd.DataFrame, *, seed: int = 42, data_description: str = "unspecified",
                max_pairs: float = 2e6) -> dict[str, Any]:
    """Train the model on a persons table and return the artefact (JSON-ready dict).

    u probabilities come from random sampling with a fixed ``seed`` (reproducible); the prior
    (probability two random records match) from deterministic rules (same PNC; or same name and
    date of birth) with an assumed recall; m probabilities from expectation maximisation on two
    blocking rules so that every comparison is estimated at least once (name+dob blocks train
    postcode/identifiers, postcode and dob blocks train the names).
    """
    import splink

    prepared = prepare_persons(persons)
    linker = splink_linker(prepared, model_settings())
    linker.training.estimate_probability_two_random_records_match(
        ['l."pnc" = r."pnc"',
         'l."forename" = r."forename" AND l."surname_norm" = r."surname_norm" AND l."dob_str" = r."dob_str"'],
        recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(
        'l."forename" = r."forename" AND l."surname_norm" = r."surname_norm"')
    linker.training.estimate_parameters_using_expectation_maximisation('l."dob_str" = r."dob_str"')
    settings = linker.misc.save_model_to_json()
    settings.pop("linker_uid", None)
    untrained = _neutralise_untrained_levels(settings)
    floored = _apply_disagreement_floors(settings)
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "training": {
            "data": data_description,
            "records": int(len(prepared)),
            "trained_on": _dt.date.today().isoformat(),
            "seed": seed,
            "u_max_pairs": max_pairs,
            "splink_version": splink.__version__,
            "untrained_levels_set_neutral": untrained,
            "disagreement_m_floors": floored,
        },
        "splink_settings": settings,
    }


# At least this share of a person's pairs of police records are in two different forces: offenders
# cross borders, people move, children go missing from out-of-area placements. Training's four
# neighbouring forces see fewer crossings than a nation's 43, and too low a value would make a
# different force a veto on cross-force links, the ones the products lean on.
FORCE_DIFFERENT_M_FLOOR = 0.25

# Lowest m probability of each comparison's "all other" level: the share of true matches that
# disagree on the field entirely. Synthetic training data is cleaner than life (people move,
# a PNC ID is typed with a valid but wrong check letter, sex is recorded wrongly), and EM on it
# drives these towards zero, which would turn a PNC or postcode disagreement into a veto.
# Floors keep every field strong-but-fallible evidence; the rest of the m mass is rescaled.
DISAGREEMENT_M_FLOORS: dict[str, float] = {
    "forename": 0.02, "surname": 0.02, "dob": 0.005, "postcode": 0.30, "pnc": 0.01, "cro": 0.01, "sex": 0.005,
    "force": FORCE_DIFFERENT_M_FLOOR,
}


def _apply_disagreement_floors(settings: dict[str, Any]) -> dict[str, float]:
    """Raise each comparison's 'all other' m to its floor (see DISAGREEMENT_M_FLOORS); returns the floors used."""
    used = {}
    for comparison in settings["comparisons"]:
        floor = DISAGREEMENT_M_FLOORS.get(comparison["output_column_name"])
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        other, agree = levels[-1], levels[:-1]
        if floor is None or other.get("m_probability") is None or other["m_probability"] >= floor:
            continue
        rest = sum(lv["m_probability"] for lv in agree)
        other["m_probability"] = floor
        for lv in agree:
            lv["m_probability"] = lv["m_probability"] * (1 - floor) / rest
        used[comparison["output_column_name"]] = floor
    return used


def _neutralise_untrained_levels(settings: dict[str, Any]) -> list[str]:
    """Levels never seen in training get m = u (a Bayes factor of 1: no evidence either way).

    A level that training data never reached (e.g. sexes disagreeing among true matches) must not
    silently take Splink's defaults; neutral is the honest choice. Returns the levels changed.
    """
    changed = []
    for comparison in settings["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            m, u = level.get("m_probability"), level.get("u_probability")
            if m is None and u is not None:
                level["m_probability"] = u
                changed.append(f"{comparison['output_column_name']}: {level.get('label_for_charts')} (m)")
            elif u is None and m is not None:
                level["u_probability"] = m
                changed.append(f"{comparison['output_column_name']}: {level.get('label_for_charts')} (u)")
    return changed


def save_model(model: dict[str, Any], path: Path | str | None = None) -> Path:
    """Write the model artefact as stable, readable JSON (reviewable in a diff)."""
    path = Path(path) if path else default_model_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_model(path: Path | str | None = None) -> dict[str, Any]:
    """Read a model artefact; refuse anything that is not one (a bare Splink JSON has no provenance)."""
    path = Path(path) if path else default_model_path()
    model = json.loads(Path(path).read_text(encoding="utf-8"))
    if model.get("format") != MODEL_FORMAT or "splink_settings" not in model:
        raise ValueError(f"{path} is not a {MODEL_FORMAT} artefact (format/version/splink_settings missing)")
    if not isinstance(model.get("training", {}).get("records"), int) or model["training"]["records"] < 2:
        raise ValueError(f"{path}: training.records (the number of records the model was trained on, which "
                         f"the prior is scaled from) is missing or below 2; retrain with "
                         f"scripts/train_person_model.py")
    return model


def prior_for_records(model: dict[str, Any], records: int) -> float:
    """The model's prior (the probability that two random records are one person) for a table of ``records``.

    Why scale it: the prior is per pair of records, and training estimated it on a table of
    ``training.records`` records. In a larger table each record still has about as many other
    records of its own person, but many more records of other people to be confused with, so the
    chance that a random pair is a match falls in proportion to the table's size. Left as
    trained (on 6,441 records), the prior gave every pair of the 8.6 million national records
    about 11 bits too much weight, and strangers with the same common name and date of birth
    linked across forces (docs/benchmarks.md, session 9). A table no larger than the training
    table keeps the trained prior (a short partner list is not made more credulous).
    """
    trained = float(model["splink_settings"]["probability_two_random_records_match"])
    reference = int(model["training"]["records"])
    if records <= reference:
        return trained
    return trained * (reference - 1) / (records - 1)


def force_agreement_u(records_per_force: Mapping[str, int]) -> float | None:
    """The chance that two random records of a table are from the same force: sum of squared shares.

    Why computed, not trained: u is the chance a comparison agrees among non-matches, and for the
    force that depends on the table, not on people. Among four forces (the training world) it is
    about a quarter; among a nation's 43, about 1 in 25. ``None`` when fewer than two records have a force.
    """
    counts = np.array([n for n in records_per_force.values() if n > 0], dtype=float)
    total = counts.sum()
    if total < 2:
        return None
    return float(((counts / total) ** 2).sum())


def settings_for_table(model: dict[str, Any], records: int,
                       records_per_force: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The model's Splink settings for a table of ``records`` records, ``records_per_force`` of them by force.

    Two parameters depend on the table rather than on people, and are set here: the prior
    (:func:`prior_for_records`) and the force comparison's u (:func:`force_agreement_u`). "Same
    force" is never made evidence against a match (its u is capped at its m: in a table of one
    force it says nothing). Without ``records_per_force`` the trained u is kept.
    """
    settings = copy.deepcopy(model["splink_settings"])
    settings["probability_two_random_records_match"] = prior_for_records(model, records)
    same_u = force_agreement_u(records_per_force) if records_per_force is not None else None
    levels = force_levels(settings)
    if levels is not None and same_u is not None:
        same, other = levels
        same["u_probability"] = min(same_u, same["m_probability"])
        other["u_probability"] = 1.0 - same["u_probability"]
    return settings


def force_levels(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The force comparison's "same force" and "all other" levels (the dicts themselves, not copies);
    None for a model without the comparison (before 1.3.0)."""
    force = next((c for c in settings["comparisons"] if c["output_column_name"] == "force"), None)
    if force is None:
        return None
    same, other = [lv for lv in force["comparison_levels"] if not lv.get("is_null_level")]
    return same, other


def records_per_force(prepared: pd.DataFrame) -> dict[str, int]:
    """How many records of a prepared table each force holds (for :func:`settings_for_table`)."""
    return {str(k): int(v) for k, v in prepared["force"].value_counts().items()}


# ---------------------------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------------------------


def _level_labels(settings: dict[str, Any]) -> dict[str, dict[int, str]]:
    """Comparison -> gamma value -> label. Splink numbers non-null levels n-1 .. 0, null is -1."""
    labels: dict[str, dict[int, str]] = {}
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        mapping = {-1: f"{comparison['output_column_name']} missing"}
        for i, level in enumerate(levels):
            mapping[len(levels) - 1 - i] = level.get("label_for_charts") or level["sql_condition"]
        labels[comparison["output_column_name"]] = mapping
    return labels


def cluster_key(record_ids: list[str]) -> str:
    """A deterministic key for a new person: 'P' + sha1 of the smallest record id (16 hex)."""
    return "P" + hashlib.sha1(min(record_ids).encode("utf-8")).hexdigest()[:16]


def resolve(persons: pd.DataFrame, model: dict[str, Any], *, threshold: float = 0.95,
            include_links: bool = True, collapse: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Link and cluster a persons table with a trained model; nothing is retrained.

    Returns ``(clusters, links)``:

    - clusters: record_id, source, cluster_id (deterministic: see :func:`cluster_key`;
      pass through :func:`stable_person_keys` for month-to-month keys), cluster_size,
      match_probability (the best link that put the record in its cluster; 1.0 alone);
    - links: every pair at or above ``threshold``: record_id_l, record_id_r, source_l, source_r,
      match_weight, match_probability, one ``gamma_<field>`` and ``mw_<field>`` (the field's
      contribution to the match weight) per comparison, and ``explanation``, a human string of
      the fields that agreed, e.g. "pnc exact; dob day/month swapped; surname JW>0.92".
      Records identical in every compared field are linked to their group's representative
      (the smallest record id) rather than pairwise. ``include_links=False`` skips building the
      links (an empty frame is returned): the warehouse needs only the clusters.

    The model's prior is scaled to the table's size (:func:`prior_for_records`): the more
    records, the more strangers share a name and date of birth, and the more evidence a link needs;
    and "same force" weighs what it does in this table (:func:`settings_for_table`).

    Records that are identical in every field the model compares are resolved once
    (:func:`collapse_identical`): at real volumes a person's many records (a child missing 100
    times, a prolific offender) are mostly identical, and comparing them pairwise is most of
    the work. The clusters are exactly those of comparing every record (``collapse=False``,
    kept to show it).
    """
    return resolve_prepared(prepare_persons(persons), model, threshold=threshold, include_links=include_links,
                            collapse=collapse)


def resolve_prepared(prepared: pd.DataFrame, model: dict[str, Any], *, threshold: float = 0.95,
                     include_links: bool = True, collapse: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`resolve` on a table :func:`prepare_persons` made (so the caller can drop the raw one)."""
    settings = settings_for_table(model, len(prepared), records_per_force(prepared))
    if len(prepared) < 2:
        return _singletons(prepared), _empty_links(settings)
    collapsed = collapse_identical(prepared, settings, threshold if collapse else math.inf)
    representatives = prepared[collapsed.representative.to_numpy() == prepared["record_id"].to_numpy()]
    log.info("person resolution: %d records, %d compared after collapsing identical records",
             len(prepared), len(representatives))
    labels = _level_labels(settings)
    names = list(labels)
    links = _empty_links(settings)
    if len(representatives) >= 2:
        linker = splink_linker(representatives.reset_index(drop=True), settings)
        predictions = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        keep = ["record_id_l", "record_id_r", "source_l", "source_r", "match_weight", "match_probability"]
        # Splink 5 writes each comparison's contribution to the match weight as mw_<name>.
        keep += [f"gamma_{n}" for n in names] + [f"mw_{n}" for n in names]
        columns = ", ".join(f'"{c}"' for c in keep)
        links = predictions.as_duckdbpyrelation().query("p", f"select {columns} from p").df()
    clusters = _connected_components(prepared, links, collapsed)
    if not include_links:
        return clusters, _empty_links(settings)
    links = pd.concat([links, collapsed.member_links(prepared)], ignore_index=True) if len(links) else \
        collapsed.member_links(prepared)
    if links.empty:
        return clusters, _empty_links(settings)
    gammas = {n: links[f"gamma_{n}"].astype(int).tolist() for n in names}
    rows = range(len(links))
    links["explanation"] = ["; ".join(labels[n][gammas[n][i]] for n in names if gammas[n][i] > 0) for i in rows]
    links["explanation_against"] = ["; ".join(f"{n} differs" for n in names if gammas[n][i] == 0) for i in rows]
    links = links.sort_values(["record_id_l", "record_id_r"]).reset_index(drop=True)
    return clusters, links


# The prepared columns the model's comparisons and blocking rules read: two records equal in all
# of them have the same comparison vector against any third record.
COMPARED_COLUMNS: tuple[str, ...] = ("forename", "surname_norm", "surname_tokens", "dob_str", "dob_swapped", "sex",
                                     "postcode", "postcode_district", "pnc", "cro", "force")


@dataclass
class CollapsedRecords:
    """Records identical in every compared column, grouped under one representative.

    ``representative`` is aligned with the prepared records: the record id that stands for the
    record in the comparison (itself when it is not collapsed). ``self_link`` holds, per null
    pattern of the compared columns, the model's score of a record against an identical copy
    (one row of Splink output), and ``pattern`` each record's null pattern.
    """

    representative: pd.Series
    pattern: pd.Series
    self_link: pd.DataFrame

    def member_links(self, prepared: pd.DataFrame) -> pd.DataFrame:
        """A link from each collapsed record to its representative, scored as Splink scores it."""
        records = prepared["record_id"].astype(str).to_numpy()
        members = self.representative.to_numpy() != records
        if not members.any():
            return pd.DataFrame()
        source = dict(zip(records, prepared["source"]))
        member_ids = records[members]
        rep_ids = self.representative.to_numpy()[members]
        scored = self.self_link.loc[self.pattern.to_numpy()[members]].reset_index(drop=True)
        return pd.concat([pd.DataFrame({"record_id_l": rep_ids, "record_id_r": member_ids,
                                        "source_l": [source[r] for r in rep_ids],
                                        "source_r": [source[m] for m in member_ids]}), scored], axis=1)


def collapse_identical(prepared: pd.DataFrame, settings: dict[str, Any], threshold: float) -> CollapsedRecords:
    """Group records identical in every compared column under their smallest record id.

    A group is collapsed only when the model links two identical records of its null pattern at
    ``threshold`` or above and a blocking rule would bring them together (scored with Splink's
    ``score_pair``): then every member links to the same records as its representative and to
    each other, so the clusters are unchanged. Identical records the model would
    not link (e.g. a name and nothing else) are all compared as they are.
    """
    records = prepared["record_id"].astype(str)
    columns = list(COMPARED_COLUMNS)
    group = prepared.groupby(columns, dropna=False, sort=False).ngroup()
    smallest = records.groupby(group.to_numpy()).transform("min")
    present = prepared[columns].notna().to_numpy()
    pattern = pd.Series(present.dot(1 << np.arange(len(columns))), index=prepared.index)
    in_group = group.map(group.value_counts()).to_numpy() > 1
    self_link = score_identical_pairs(prepared[in_group], pattern[in_group], settings)
    collapsible = set(self_link.index[(self_link["match_probability"] >= threshold) & self_link["found_by_blocking"]])
    collapse = in_group & pattern.isin(collapsible).to_numpy()
    representative = pd.Series(np.where(collapse, smallest.to_numpy(), records.to_numpy()),
                               index=records.to_numpy())
    return CollapsedRecords(representative=representative, pattern=pd.Series(pattern.to_numpy(), index=records.to_numpy()),
                            self_link=self_link.drop(columns=["found_by_blocking"]))


def score_identical_pairs(records: pd.DataFrame, pattern: pd.Series, settings: dict[str, Any]) -> pd.DataFrame:
    """Splink's score of a record against an identical copy, for one record of each null pattern."""
    names = [c["output_column_name"] for c in settings["comparisons"]]
    out_columns = ["match_weight", "match_probability", *[f"gamma_{n}" for n in names],
                   *[f"mw_{n}" for n in names], "found_by_blocking"]
    if records.empty:
        return pd.DataFrame(columns=out_columns)
    examples = records.groupby(pattern.to_numpy(), sort=True).head(1)
    example_patterns = pattern.loc[examples.index].to_numpy()
    linker = splink_linker(examples.reset_index(drop=True), settings)
    rows = []
    for code, (_, record) in zip(example_patterns, examples.iterrows()):
        left = {k: (None if pd.isna(v) else v) for k, v in record.items() if k != "dob"}
        right = dict(left, record_id=f"{left['record_id']}#copy")
        scored = linker.inference.score_pair(left, right, include_found_by_blocking_rules=True).as_pandas_dataframe()
        row = scored.iloc[0]
        rows.append({"pattern": int(code), "match_weight": float(row["match_weight"]),
                     "match_probability": float(row["match_probability"]),
                     **{f"gamma_{n}": int(row[f"gamma_{n}"]) for n in names},
                     **{f"mw_{n}": float(row[f"mw_{n}"]) for n in names},
                     "found_by_blocking": bool(row["found_by_blocking_rules"])})
    return pd.DataFrame(rows).set_index("pattern")[out_columns]


def _empty_links(settings: dict[str, Any]) -> pd.DataFrame:
    names = [c["output_column_name"] for c in settings["comparisons"]]
    cols = (["record_id_l", "record_id_r", "source_l", "source_r", "match_weight", "match_probability"]
            + [f"gamma_{n}" for n in names] + [f"mw_{n}" for n in names] + ["explanation", "explanation_against"])
    return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})


def _singletons(prepared: pd.DataFrame) -> pd.DataFrame:
    ids = prepared["record_id"].tolist()
    return pd.DataFrame({"record_id": ids, "source": prepared["source"].tolist(),
                         "cluster_id": [cluster_key([i]) for i in ids], "cluster_size": 1,
                         "match_probability": 1.0})


def _connected_components(prepared: pd.DataFrame, links: pd.DataFrame, collapsed: CollapsedRecords) -> pd.DataFrame:
    """Clusters from the links, keyed deterministically by the smallest record id so a rerun
    gives the same ids. Links are taken strongest first and never join two PNC IDs, two CRO
    numbers or implausible dates of birth (:func:`forceprofiles.clustering.constrained_components`;
    ties by record id). Collapsed records join their representative's cluster first, linked at
    the score of identical records. Array code: a region has millions of records."""
    ids = prepared["record_id"].astype(str).to_numpy(dtype=object)
    n = len(ids)
    position = pd.Index(ids)
    left = position.get_indexer(links["record_id_l"].astype(str))
    right = position.get_indexer(links["record_id_r"].astype(str))
    probability = links["match_probability"].astype(float).to_numpy()
    representative = position.get_indexer(collapsed.representative.to_numpy())
    members = np.flatnonzero(representative != np.arange(n))
    # A collapsed record is its representative's identical copy: that link goes first.
    labels = constrained_components(
        n, np.concatenate([left, representative[members]]), np.concatenate([right, members]),
        np.concatenate([probability, np.full(len(members), np.inf)]),
        Identifiers.from_columns(prepared["pnc"].to_numpy(), prepared["cro"].to_numpy(),
                                 prepared["dob_str"].to_numpy()),
        tie_break=pd.Series(ids).rank(method="first").to_numpy(dtype=np.int64))
    best = np.full(n, -1.0)
    kept = labels[left] == labels[right]  # the links the clustering did not refuse
    np.maximum.at(best, left[kept], probability[kept])
    np.maximum.at(best, right[kept], probability[kept])
    # A collapsed record has its representative's links, and its link to an identical record.
    has_members = np.zeros(n, dtype=bool)
    has_members[representative[members]] = True
    identical = collapsed.pattern.map(collapsed.self_link["match_probability"]).fillna(-1.0).to_numpy()
    best = np.maximum(best[representative], np.where(has_members[representative], identical, -1.0))
    count = int(labels.max()) + 1 if n else 0
    smallest = pd.Series(ids).groupby(labels).min()
    keys = np.array([cluster_key([record]) for record in smallest.to_numpy()], dtype=object)
    return pd.DataFrame({
        "record_id": ids,
        "source": prepared["source"].to_numpy(),
        "cluster_id": keys[labels],
        "cluster_size": np.bincount(labels, minlength=count)[labels].astype(int),
        "match_probability": np.where(best >= 0, best, 1.0),
    })


def stable_person_keys(clusters: pd.DataFrame, previous_keys: pd.DataFrame | None) -> pd.DataFrame:
    """Give each cluster a person key that survives reruns and new months.

    ``previous_keys`` is last month's (record_id, person_key). Each cluster takes the previous
    key that it shares most record ids with (ties: the smaller key); when a previous person has
    split, the cluster with the largest share keeps the key and the others get new ones. A
    cluster with no previous records gets :func:`cluster_key` of its smallest record id (which
    is already deterministic, so a rerun on the same data gives the same keys). Returns the
    clusters with a ``person_key`` column.
    """
    out = clusters.copy()
    members = out.groupby("cluster_id")["record_id"].apply(list).to_dict()
    assigned: dict[str, str] = {}
    used: set[str] = set()
    if previous_keys is not None and not previous_keys.empty:
        prev = dict(zip(previous_keys["record_id"].astype(str), previous_keys["person_key"].astype(str)))
        candidates: list[tuple[int, str, str]] = []  # (-overlap, key, cluster)
        for cluster, ids in members.items():
            counts: dict[str, int] = {}
            for r in ids:
                key = prev.get(str(r))
                if key is not None:
                    counts[key] = counts.get(key, 0) + 1
            candidates += [(-count, key, cluster) for key, count in counts.items()]
        for negative, key, cluster in sorted(candidates):
            if cluster in assigned or key in used:
                continue
            assigned[cluster] = key
            used.add(key)
        used |= set(prev.values())
    for cluster in sorted(members):
        if cluster in assigned:
            continue
        key = cluster_key([str(r) for r in members[cluster]])
        salt = 0
        while key in used:
            salt += 1
            key = cluster_key([f"{min(members[cluster])}#{salt}"])
        assigned[cluster] = key
        used.add(key)
    out["person_key"] = out["cluster_id"].map(assigned)
    return out


def anchored_person_keys(clusters: pd.DataFrame, first_seen: pd.Series) -> pd.DataFrame:
    """Give each cluster the key of its anchor: its earliest-seen record (ties: smallest id).

    ``first_seen`` maps record_id to when the record first reached the lake (its source month;
    central-platform records sort first). Why anchors rather than last month's keys
    (:func:`stable_person_keys`): a key that depends only on the records as at the month makes a
    build independent of the order months were built in, so a backfill of month M after M+1
    gives the same keys as the scheduled run did. Keys are still stable month to month: new
    records join a cluster without changing its earliest record; when two people merge, the
    merged person keeps the older anchor's key. Returns the clusters with ``person_key``.
    """
    out = clusters.copy()
    seen = out["record_id"].map(first_seen).fillna("").astype(str)
    order = pd.DataFrame({"cluster_id": out["cluster_id"], "seen": seen, "record_id": out["record_id"].astype(str)})
    anchors = order.sort_values(["cluster_id", "seen", "record_id"]).drop_duplicates("cluster_id")
    keys = {cluster: cluster_key([record]) for cluster, record in zip(anchors["cluster_id"], anchors["record_id"])}
    out["person_key"] = out["cluster_id"].map(keys)
    return out
