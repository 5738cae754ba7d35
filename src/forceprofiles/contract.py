"""The canonical feed contract: what every force's extract means once its dialect is undone.

Each force exports five feeds (crime, intelligence, custody, missing, visor) in its own
dialect. Extraction maps every dialect onto this one contract, so validation, the warehouse
and the synthetic world all speak the same language. A feed is made of one or more
*entities* (tables): crime has occurrences and the people involved in them, intelligence has
reports and their subjects, and so on. Each entity is written as one Parquet file per force
and month (``lake/raw/<feed>/force=<id>/month=<YYYY-MM>/<entity>.parquet``).

Extracts are monthly *deltas*: a record appears in the extract of every month in which it was
created or changed (an outcome recorded, a missing person returned), with ``updated_at``
inside that month. The latest version as at a report month is the record's state then.

Timestamps are naive local time (Europe/London), as the forces' records systems hold them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DType = Literal["string", "timestamp", "date", "bool", "int", "float"]


@dataclass(frozen=True)
class Field:
    """One canonical column."""

    name: str
    dtype: DType
    required: bool
    description: str


FEEDS: tuple[str, ...] = ("crime", "intelligence", "custody", "missing", "visor")

# Who a person is, as a records system holds it. Shared by every person-bearing entity, so
# that person resolution sees one shape whatever the feed.
PERSON_FIELDS: tuple[Field, ...] = (
    Field("person_ref", "string", True, "the source system's own person (nominal) id; not unique to a real person"),
    Field("forenames", "string", False, "forenames as recorded (spelling varies across systems)"),
    Field("surname", "string", False, "surname as recorded"),
    Field("date_of_birth", "date", False, "date of birth as recorded (day/month swaps happen)"),
    Field("sex", "string", False, "M, F or U (unknown)"),
    Field("ethnicity_self", "string", False, "self-defined ethnicity, ONS 2011 18+1 code (W1..O2, NS not stated)"),
    Field("ethnicity_officer", "string", False, "officer-defined ethnicity, IC code (IC1..IC6, IC9 unknown)"),
    Field("pnc_id", "string", False, "Police National Computer id YYYY/NNNNNNNC (may be missing or mistyped)"),
    Field("cro_number", "string", False, "Criminal Records Office number NNNNNN/YYC (may be missing)"),
    Field("address", "string", False, "home address line as recorded"),
    Field("postcode", "string", False, "home postcode as recorded"),
    Field("phone", "string", False, "a phone number recorded for the person"),
)

_FORCE = Field("force_id", "string", True, "police.uk id of the force that holds the record")
_UPDATED = Field("updated_at", "timestamp", True, "when this version of the record was written; inside the extract month")

ENTITIES: dict[str, dict[str, tuple[Field, ...]]] = {
    "crime": {
        "occurrences": (
            _FORCE,
            Field("crime_ref", "string", True, "the force's unique reference number (URN) for the occurrence"),
            Field("record_type", "string", True, "crime or non-crime (a recorded incident that is not a crime)"),
            Field("ho_code", "string", True, "Home Office offence classification, e.g. 8N, 19C, 105A"),
            Field("committed_at", "timestamp", True, "when the offence was (first) committed"),
            Field("reported_at", "timestamp", True, "when it was reported to police"),
            Field("lsoa11cd", "string", False, "2011 LSOA of the location"),
            Field("latitude", "float", False, "location latitude (WGS84)"),
            Field("longitude", "float", False, "location longitude (WGS84)"),
            Field("location_desc", "string", False, "free-text location"),
            Field("flag_domestic_abuse", "bool", True, "the force flagged the occurrence as domestic abuse"),
            Field("flag_cse", "bool", True, "the force flagged child sexual exploitation"),
            Field("outcome", "string", True, "pending, charged, caution, community_resolution, no_further_action, evidential_difficulties, victim_declined, no_suspect"),
            _UPDATED,
        ),
        "involvements": (
            _FORCE,
            Field("crime_ref", "string", True, "the occurrence the person is involved in"),
            Field("role", "string", True, "suspect, offender, victim or witness"),
            *PERSON_FIELDS,
            _UPDATED,
        ),
    },
    "intelligence": {
        "reports": (
            _FORCE,
            Field("intel_ref", "string", True, "intelligence report reference"),
            Field("created_at", "timestamp", True, "when the report was submitted"),
            Field("grading_scheme", "string", True, "3x5x2 (current) or 5x5x5 (legacy)"),
            Field("source_evaluation", "string", True, "3x5x2: 1 reliable, 2 untested, 3 not reliable (5x5x5: A-E)"),
            Field("intelligence_assessment", "string", True, "3x5x2: A-E (5x5x5: 1-5)"),
            Field("handling_code", "string", True, "3x5x2: P or C (5x5x5: 1-5)"),
            Field("summary", "string", False, "sanitised free-text summary"),
            Field("lsoa11cd", "string", False, "LSOA the intelligence relates to"),
            _UPDATED,
        ),
        "subjects": (
            _FORCE,
            Field("intel_ref", "string", True, "the report the subject belongs to"),
            Field("subject_type", "string", True, "person, phone, vehicle or address"),
            Field("value", "string", False, "the phone number, vehicle registration or address line (non-person subjects)"),
            *[Field(f.name, f.dtype, False if f.name == "person_ref" else f.required, f.description) for f in PERSON_FIELDS],
            _UPDATED,
        ),
    },
    "custody": {
        "records": (
            _FORCE,
            Field("custody_ref", "string", True, "custody record number"),
            Field("arrest_summons_no", "string", False, "arrest summons number (ASN)"),
            Field("arrested_at", "timestamp", True, "time of arrest"),
            Field("ho_code", "string", True, "Home Office classification of the main offence"),
            Field("custody_suite", "string", False, "custody suite"),
            Field("disposal", "string", True, "charged, bailed, released_under_investigation, caution, no_further_action"),
            *PERSON_FIELDS,
            _UPDATED,
        ),
    },
    "missing": {
        "episodes": (
            _FORCE,
            Field("episode_ref", "string", True, "missing-person episode reference"),
            *PERSON_FIELDS,
            Field("risk_grade", "string", True, "no_apparent_risk, low, medium or high (latest grading)"),
            Field("went_missing_at", "timestamp", True, "when the person went missing"),
            Field("returned_at", "timestamp", False, "when the person returned or was found (empty while missing)"),
            Field("from_care", "bool", True, "the person went missing from local-authority care"),
            Field("missing_from_postcode", "string", False, "postcode the person went missing from"),
            Field("missing_from_lsoa11cd", "string", False, "LSOA the person went missing from"),
            Field("found_address", "string", False, "address where found"),
            Field("found_postcode", "string", False, "postcode where found"),
            Field("found_lsoa11cd", "string", False, "LSOA where found"),
            Field("found_with_forenames", "string", False, "forenames of a person the missing person was found with"),
            Field("found_with_surname", "string", False, "surname of that person"),
            Field("found_with_date_of_birth", "date", False, "date of birth of that person, where known"),
            Field("found_with_phone", "string", False, "phone number of that person, where known"),
            Field("exploitation_indicators", "string", False, "semicolon-separated: cse, cce, county_lines, trafficking"),
            Field("return_interview_at", "timestamp", False, "when the return-home interview was done"),
            _UPDATED,
        ),
    },
    "visor": {
        "nominals": (
            _FORCE,
            Field("visor_ref", "string", True, "ViSOR nominal reference"),
            *PERSON_FIELDS,
            Field("category", "string", True, "RSO, VO or PDP"),
            Field("mappa_category", "int", False, "MAPPA category 1, 2 or 3"),
            Field("mappa_level", "int", False, "MAPPA management level 1, 2 or 3"),
            Field("rosh", "string", False, "risk of serious harm: low, medium, high, very_high"),
            Field("rm2000", "string", False, "Risk Matrix 2000 category: low, medium, high, very_high (sexual offenders)"),
            Field("notification_period", "string", False, "indefinite, 10y, 7y, 5y or 2y (RSOs)"),
            Field("registered_on", "date", True, "date the nominal was registered"),
            Field("civil_orders", "string", False, "semicolon-separated: SHPO, SRO, SPO, DAPO"),
            Field("managing_unit", "string", False, "the unit that manages the nominal (e.g. MOSOVO North)"),
            _UPDATED,
        ),
    },
}

# Code lists the contract allows, per (entity, column). Validation and dialect mapping use them.
CODE_LISTS: dict[str, tuple[str, ...]] = {
    "record_type": ("crime", "non-crime"),
    "outcome": (
        "pending", "charged", "caution", "community_resolution", "no_further_action",
        "evidential_difficulties", "victim_declined", "no_suspect",
    ),
    "role": ("suspect", "offender", "victim", "witness"),
    "sex": ("M", "F", "U"),
    "ethnicity_self": (
        "W1", "W2", "W3", "W9", "M1", "M2", "M3", "M9", "A1", "A2", "A3", "A4", "A9",
        "B1", "B2", "B9", "O1", "O9", "NS",
    ),
    "ethnicity_officer": ("IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9"),
    "grading_scheme": ("3x5x2", "5x5x5"),
    "subject_type": ("person", "phone", "vehicle", "address"),
    "disposal": ("charged", "bailed", "released_under_investigation", "caution", "no_further_action"),
    "risk_grade": ("no_apparent_risk", "low", "medium", "high"),
    "category": ("RSO", "VO", "PDP"),
    "rosh": ("low", "medium", "high", "very_high"),
    "rm2000": ("low", "medium", "high", "very_high"),
    "notification_period": ("indefinite", "10y", "7y", "5y", "2y"),
}

# The column that identifies a record within an entity (unique per force and extract month).
RECORD_KEYS: dict[tuple[str, str], tuple[str, ...]] = {
    ("crime", "occurrences"): ("crime_ref",),
    ("crime", "involvements"): ("crime_ref", "role", "person_ref"),
    ("intelligence", "reports"): ("intel_ref",),
    ("intelligence", "subjects"): ("intel_ref", "subject_type", "person_ref", "value"),
    ("custody", "records"): ("custody_ref",),
    ("missing", "episodes"): ("episode_ref",),
    ("visor", "nominals"): ("visor_ref",),
}


def fields(feed: str, entity: str) -> tuple[Field, ...]:
    """The canonical columns of one entity, in order."""
    return ENTITIES[feed][entity]


def column_names(feed: str, entity: str) -> list[str]:
    """The canonical column names of one entity, in order."""
    return [f.name for f in ENTITIES[feed][entity]]


def entities(feed: str) -> tuple[str, ...]:
    """The entities (tables) that make up a feed."""
    return tuple(ENTITIES[feed])
