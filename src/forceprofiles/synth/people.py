"""The synthetic population: true people, and how each records system writes them down.

True people are integer-coded numpy columns (names are indices into the name tables), so a
national world of millions fits in memory. A person becomes text only when a force records
them, and each force's *nominal* record of a person carries that system's own errors: a
nickname instead of the formal forename, a transliteration, a typo, a hyphenated or swapped
surname, a day/month swap in the date of birth, a missing or mistyped PNC ID. The same
nominal is reused for later records of the person in that force (as a records system
would), except that now and then a duplicate nominal is created, as happens in real systems.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from forceprofiles.identifiers import format_cro, format_pnc
from forceprofiles.synth.names import NICKNAMES, ORIGINS, SPELLING_VARIANTS

EPOCH = dt.date(1970, 1, 1)
STREET_STEMS = (
    "Church", "Mill", "Station", "High", "Park", "Victoria", "Queen's", "King's", "London", "Manor",
    "School", "Green", "Chapel", "North", "South", "West", "Oak", "Elm", "Beech", "Willow", "Cedar",
    "Orchard", "Meadow", "Windmill", "Castle", "Abbey", "Priory", "Market", "Bridge", "River", "Grange",
    "Albert", "Alexandra", "York", "Hill", "Spring", "Garden", "Common", "Field", "Brook",
)
STREET_KINDS = ("Road", "Street", "Lane", "Close", "Avenue", "Way", "Drive", "Crescent", "Gardens", "Court")
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

ETH_SELF_CODES = ("W1", "W2", "W3", "W9", "M1", "M2", "M3", "M9", "A1", "A2", "A3", "A4", "A9",
                  "B1", "B2", "B9", "O1", "O9", "NS")
ETH_OFFICER_CODES = ("IC1", "IC2", "IC3", "IC4", "IC5", "IC6", "IC9")


@dataclass(frozen=True)
class Address:
    """An address line with its postcode and LSOA."""

    line: str
    postcode: str
    lsoa11cd: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Nominal:
    """One records system's nominal record of a true person."""

    person_ref: str
    forenames: str
    surname: str
    date_of_birth: dt.date | None
    sex: str
    ethnicity_self: str | None
    ethnicity_officer: str | None
    pnc_id: str | None
    cro_number: str | None


class People:
    """Every true person in the world, as growable integer-coded columns."""

    _COLUMNS = {
        "origin": np.int8, "sex": np.int8, "forename": np.int16, "surname": np.int16,
        "surname2": np.int16, "dob": np.int32, "home_force": np.int16, "home_address": np.int64,
        "phone": np.int64, "pnc_year": np.int16, "pnc_serial": np.int32, "eth_self": np.int8,
    }

    def __init__(self, capacity: int = 1024) -> None:
        self.size = 0
        self._cols = {name: np.zeros(capacity, dtype=dtype) for name, dtype in self._COLUMNS.items()}

    def __len__(self) -> int:
        return self.size

    def col(self, name: str) -> np.ndarray:
        """A read-only view of one column for the people created so far."""
        return self._cols[name][: self.size]

    def create(
        self,
        rng: np.random.Generator,
        n: int,
        *,
        home_force: int,
        home_addresses: np.ndarray,
        age_range: tuple[int, int],
        at: dt.date,
        female_share: float,
        pnc_share: float,
    ) -> np.ndarray:
        """Create ``n`` people living in one force; returns their person ids."""
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        self._grow(self.size + n)
        ids = np.arange(self.size, self.size + n, dtype=np.int64)
        shares = np.array([o.share for o in ORIGINS])
        origin = rng.choice(len(ORIGINS), size=n, p=shares / shares.sum())
        sex = (rng.random(n) < female_share).astype(np.int8)
        forename = np.empty(n, dtype=np.int16)
        surname = np.empty(n, dtype=np.int16)
        eth = np.empty(n, dtype=np.int8)
        for o_index, origin_def in enumerate(ORIGINS):
            mask = origin == o_index
            count = int(mask.sum())
            if not count:
                continue
            male_pick = rng.integers(0, len(origin_def.male), count)
            female_pick = rng.integers(0, len(origin_def.female), count)
            forename[mask] = np.where(sex[mask] == 1, female_pick, male_pick)
            surname[mask] = _zipf_index(rng, len(origin_def.surnames), count)
            eth_choice = rng.choice(origin_def.ethnicity_self, size=count)
            eth[mask] = [ETH_SELF_CODES.index(code) for code in eth_choice]
        # About 3% carry a double-barrelled surname, which records split, swap or hyphenate.
        surname2 = np.where(rng.random(n) < 0.03, rng.integers(0, 40, n), -1).astype(np.int16)
        age_days = rng.integers(age_range[0] * 365 + 1, age_range[1] * 365 + 364, n)
        dob = (at - EPOCH).days - age_days
        pnc_mask = rng.random(n) < pnc_share
        pnc_year = np.where(pnc_mask, rng.integers(1995, at.year + 1, n), 0)
        # A PNC ID is issued on first arrest, which cannot precede the tenth birthday.
        birth_year = (EPOCH.year + dob // 365.25).astype(int)
        pnc_year = np.where(pnc_mask, np.clip(np.maximum(pnc_year, birth_year + 12), 1995, at.year), 0)
        columns = {
            "origin": origin, "sex": sex, "forename": forename, "surname": surname, "surname2": surname2,
            "dob": dob, "home_force": np.full(n, home_force), "home_address": rng.choice(home_addresses, n),
            "phone": 7_000_000_000 + rng.integers(100_000_000, 999_999_999, n),
            "pnc_year": pnc_year, "pnc_serial": np.where(pnc_mask, ids % 9_000_000 + 100_000, 0),
            "eth_self": eth,
        }
        for name, values in columns.items():
            self._cols[name][self.size: self.size + n] = values
        self.size += n
        return ids

    def give_pnc(self, ids: np.ndarray, year: int) -> None:
        """Issue PNC IDs (on a first arrest) to those of ``ids`` who have none yet."""
        has_none = self._cols["pnc_year"][ids] == 0
        target = ids[has_none]
        self._cols["pnc_year"][target] = year
        self._cols["pnc_serial"][target] = target % 9_000_000 + 100_000

    def true_identity(self, pid: int) -> dict[str, object]:
        """The person's true, error-free identity (ground truth and the central platform)."""
        origin = ORIGINS[int(self._cols["origin"][pid])]
        sex = int(self._cols["sex"][pid])
        forenames = (origin.female if sex else origin.male)[int(self._cols["forename"][pid])]
        surname = origin.surnames[int(self._cols["surname"][pid])]
        second = int(self._cols["surname2"][pid])
        if second >= 0:
            surname = f"{surname}-{ORIGINS[0].surnames[second]}"
        pnc_year = int(self._cols["pnc_year"][pid])
        pnc = format_pnc(pnc_year, int(self._cols["pnc_serial"][pid])) if pnc_year else None
        cro = format_cro(pnc_year, int(self._cols["pnc_serial"][pid]) % 1_000_000) if pnc_year else None
        eth_self = ETH_SELF_CODES[int(self._cols["eth_self"][pid])]
        return {
            "person_id": int(pid), "forenames": forenames, "surname": surname,
            "date_of_birth": EPOCH + dt.timedelta(days=int(self._cols["dob"][pid])),
            "sex": "F" if sex else "M", "ethnicity_self": eth_self,
            "ethnicity_officer": origin.ethnicity_officer, "pnc_id": pnc, "cro_number": cro,
            "phone": format_phone(int(self._cols["phone"][pid])),
        }

    def _grow(self, needed: int) -> None:
        capacity = len(self._cols["origin"])
        if needed <= capacity:
            return
        new_capacity = max(needed, capacity * 2)
        for name, column in self._cols.items():
            grown = np.zeros(new_capacity, dtype=column.dtype)
            grown[:capacity] = column
            self._cols[name] = grown


def _zipf_index(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """Indices skewed towards the start of a list: common surnames are common."""
    weights = 1.0 / np.arange(1, size + 1) ** 0.8
    return rng.choice(size, size=n, p=weights / weights.sum())


def format_phone(number: int) -> str:
    """A UK mobile number, e.g. 07700 900123."""
    digits = f"0{number:010d}"
    return f"{digits[:5]} {digits[5:]}"


def render_nominal(
    rng: np.random.Generator,
    people: People,
    pid: int,
    person_ref: str,
    *,
    pnc_recorded: float,
    dob_recorded: float,
) -> Nominal:
    """How one records system writes a true person down, errors and all.

    ``pnc_recorded`` is the chance the system holds the person's PNC ID (high in custody, low
    for victims); ``dob_recorded`` the chance it holds a date of birth at all.
    """
    true = people.true_identity(pid)
    forenames = _vary_forename(rng, str(true["forenames"]))
    surname = _vary_surname(rng, str(true["surname"]))
    dob = _vary_dob(rng, true["date_of_birth"]) if rng.random() < dob_recorded else None  # type: ignore[arg-type]
    pnc = true["pnc_id"] if true["pnc_id"] and rng.random() < pnc_recorded else None
    if pnc and rng.random() < 0.03:
        pnc = _mistype_identifier(rng, str(pnc))
    cro = true["cro_number"] if pnc and rng.random() < 0.5 else None
    eth_self = true["ethnicity_self"] if rng.random() < 0.8 else "NS"
    eth_officer = true["ethnicity_officer"] if rng.random() < 0.9 else "IC9"
    return Nominal(person_ref, forenames, surname, dob, str(true["sex"]), eth_self, eth_officer, pnc, cro)  # type: ignore[arg-type]


def _vary_forename(rng: np.random.Generator, name: str) -> str:
    draw = rng.random()
    if draw < 0.10 and name in NICKNAMES:
        options = NICKNAMES[name]
        return options[int(rng.integers(0, len(options)))]
    if draw < 0.25 and name in SPELLING_VARIANTS:
        options = SPELLING_VARIANTS[name]
        return options[int(rng.integers(0, len(options)))]
    if draw > 0.96:
        return typo(rng, name)
    if draw > 0.94:
        return name.upper()
    return name


def _vary_surname(rng: np.random.Generator, name: str) -> str:
    if "-" in name:
        first, second = name.split("-", 1)
        options = (name, f"{first} {second}", first, second, f"{second}-{first}")
        return options[int(rng.integers(0, len(options)))]
    draw = rng.random()
    if draw < 0.25 and name in SPELLING_VARIANTS:
        options = SPELLING_VARIANTS[name]
        return options[int(rng.integers(0, len(options)))]
    if draw > 0.96:
        return typo(rng, name)
    if draw > 0.93:
        return name.upper()
    return name


def _vary_dob(rng: np.random.Generator, dob: dt.date) -> dt.date:
    draw = rng.random()
    if draw < 0.04 and dob.day <= 12 and dob.day != dob.month:
        return dob.replace(day=dob.month, month=dob.day)
    if draw < 0.05:
        try:
            return dob.replace(year=dob.year + int(rng.choice([-1, 1])))
        except ValueError:
            return dob
    if draw < 0.06:
        return dob + dt.timedelta(days=int(rng.choice([-1, 1])))
    return dob


def typo(rng: np.random.Generator, text: str) -> str:
    """One keying error: a dropped, doubled, swapped or substituted letter."""
    if len(text) < 3:
        return text
    i = int(rng.integers(1, len(text) - 1))
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return text[:i] + text[i + 1:]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    if kind == 2:
        return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:]
    letter = "aeioulnrst"[int(rng.integers(0, 10))]
    return text[:i] + letter + text[i + 1:]


def _mistype_identifier(rng: np.random.Generator, value: str) -> str:
    digits = [i for i, ch in enumerate(value) if ch.isdigit()]
    position = digits[int(rng.integers(5, len(digits)))] if len(digits) > 5 else digits[-1]
    replacement = str((int(value[position]) + int(rng.integers(1, 9))) % 10)
    return value[:position] + replacement + value[position + 1:]
