"""Calibration of the synthetic world: how many records of each kind a force produces a month.

Every figure here is either a published rate (DOMAIN.md, with its source) or an assumption,
stated as such, because no rate is published. The world's realism tests check the generated
volumes against these same figures, and docs/synthetic-world.md lists the assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from forceprofiles import reference

# --- published rates -------------------------------------------------------------------------
ARRESTS_PER_1000_PEOPLE_PER_YEAR = 12.0  # 720,506 arrests 2023/24 in E&W (DOMAIN.md)
MISSING_EPISODES_PER_1000_PEOPLE_PER_YEAR = 350_000 / 59_600_000 * 1000  # ~5.9 (DOMAIN.md)
MISSING_CHILD_SHARE = 216_000 / 350_000  # share of missing incidents that are children
RSO_PER_100K = {  # registered sex offenders per 100,000 population (DOMAIN.md, unverified)
    "norfolk": 145.0, "suffolk": 134.0, "cambridgeshire": 119.0,
    "hertfordshire": 816 / 1_189_519 * 100_000,
}
RSO_PER_100K_DEFAULT = 120.0  # England and Wales: 70,052 RSOs, about 120 per 100,000

# --- assumptions (no published rate) ---------------------------------------------------------
INTEL_REPORTS_PER_CRIME = 0.4  # assumption: per-force intelligence volumes are not published
NON_CRIME_DA_PER_CRIME = 0.08  # assumption: recorded domestic non-crime incidents per crime
CCB_SHARE_OF_CRIMES = 0.008  # controlling or coercive behaviour (8U): ~44k of 5.2m crimes (ONS 2022/23)
VIOLENT_OFFENDERS_PER_RSO = 0.35  # assumption: ViSOR VO nominals per RSO
PDP_PER_RSO = 0.03  # assumption: potentially dangerous persons per RSO
VISOR_MONTHLY_TURNOVER = 0.01  # assumption: share of nominals registered (and leaving) each month

# Probability that an occurrence of each PRC subgroup is flagged as domestic abuse. Assumption,
# set so that DA is about a third of violence (ONS: 851k DA-related crimes a year) and the VAWG
# share of crime lands near the published ~20% (NPCC 2024).
DA_FLAG_PROBABILITY: dict[str, float] = {
    "Violence with injury": 0.40, "Violence without injury": 0.36, "Stalking and harassment": 0.45,
    "Rape offences": 0.35, "Other sexual offences": 0.15, "Criminal damage": 0.10, "Arson": 0.08,
    "Homicide": 0.25, "Public order offences": 0.08, "Miscellaneous crimes": 0.05,
}
DA_FLAG_DEFAULT = 0.01

# Probability that a suspect is identified, by PRC subgroup (assumption, shaped by outcome data:
# most thefts and burglaries have no suspect; possession offences always do).
SUSPECT_PROBABILITY: dict[str, float] = {
    "Violence with injury": 0.80, "Violence without injury": 0.78, "Stalking and harassment": 0.88,
    "Rape offences": 0.75, "Other sexual offences": 0.65, "Homicide": 0.95, "Criminal damage": 0.30,
    "Arson": 0.20, "Domestic burglary": 0.15, "Non-domestic burglary": 0.12, "Shoplifting": 0.55,
    "Other theft offences": 0.20, "Theft from the person": 0.10, "Bicycle theft": 0.05,
    "Theft from a vehicle": 0.07, "Theft of a motor vehicle": 0.12, "Vehicle interference": 0.10,
    "Robbery of personal property": 0.35, "Robbery of business property": 0.40,
    "Possession of drugs": 1.0, "Trafficking of drugs": 1.0, "Possession of weapons offences": 0.97,
    "Public order offences": 0.65, "Miscellaneous crimes": 0.60,
}
SUSPECT_PROBABILITY_DEFAULT = 0.5
NO_VICTIM_SUBGROUPS = frozenset({
    "Possession of drugs", "Trafficking of drugs", "Possession of weapons offences", "Public order offences",
})
SEXUAL_SUBGROUPS = frozenset({"Rape offences", "Other sexual offences"})
CROSS_BORDER_SHARE = 0.07  # assumption: share of a force's suspects who live in another force


@dataclass(frozen=True)
class OffenceMix:
    """A force's offence mix: Home Office codes, their probabilities and their PRC subgroups."""

    codes: np.ndarray
    probabilities: np.ndarray
    subgroups: np.ndarray


@lru_cache(maxsize=None)
def offence_mix(force_id: str) -> OffenceMix:
    """The force's real offence mix (PRC 2017/18 counts per Home Office code), plus CCB (8U).

    CCB was not yet in the 2017/18 tables: it is added at its national share so that the VAWG
    scope includes it, as it does in practice.
    """
    counts = reference.force_offence_counts(force_id).groupby("ho_code", as_index=False)["offences"].sum()
    counts = counts[counts["offences"] > 0]
    prc = reference.prc_offences().drop_duplicates("ho_code").set_index("ho_code")
    total = counts["offences"].sum()
    codes = list(counts["ho_code"]) + ["8U"]
    weights = list(counts["offences"] / total * (1 - CCB_SHARE_OF_CRIMES)) + [CCB_SHARE_OF_CRIMES]
    subgroups = [str(prc["prc_subgroup"].get(code, "Miscellaneous crimes")) for code in codes[:-1]]
    subgroups.append("Stalking and harassment")
    probabilities = np.asarray(weights, dtype=float)
    return OffenceMix(np.asarray(codes, dtype=object), probabilities / probabilities.sum(),
                      np.asarray(subgroups, dtype=object))


@lru_cache(maxsize=None)
def seasonal_shape(force_id: str) -> np.ndarray:
    """Twelve monthly factors (January..December, mean 1) from the force's real quarterly counts.

    Financial quarter 1 is April to June. Within a quarter months share equally, smoothed by a
    gentle summer peak that real violent crime shows.
    """
    quarters = reference.force_offence_counts(force_id).groupby("quarter")["offences"].sum()
    quarter_share = np.array([quarters.get(q, 0) for q in (1, 2, 3, 4)], dtype=float)
    if quarter_share.sum() == 0:
        quarter_share = np.ones(4)
    quarter_share = quarter_share / quarter_share.mean()
    month_quarter = {4: 0, 5: 0, 6: 0, 7: 1, 8: 1, 9: 1, 10: 2, 11: 2, 12: 2, 1: 3, 2: 3, 3: 3}
    factors = np.array([quarter_share[month_quarter[m]] for m in range(1, 13)])
    factors *= 1 + 0.04 * np.sin((np.arange(1, 13) - 4) / 12 * 2 * np.pi)
    return factors / factors.mean()


def monthly_crime_counts(force_id: str, months: list[str], scale: float) -> np.ndarray:
    """Crimes per month: the yearly figure times scale, shaped by season, rounded with carry.

    Rounding with carry (instead of Poisson draws) makes every year's total exact, so the
    volume tests can be tight even at small scales.
    """
    yearly = float(reference.forces().set_index("force_id").loc[force_id, "crimes_per_year"]) * scale
    shape = seasonal_shape(force_id)
    expected = np.array([yearly / 12 * shape[int(m[5:7]) - 1] for m in months])
    return rounded_with_carry(expected)


def rounded_with_carry(expected: np.ndarray) -> np.ndarray:
    """Whole numbers whose running total never drifts more than 0.5 from the running expectation."""
    counts = np.zeros(len(expected), dtype=np.int64)
    carried = 0.0
    for i, value in enumerate(expected):
        carried += value
        counts[i] = int(np.floor(carried + 0.5))
        carried -= counts[i]
    return counts


def force_population(force_id: str) -> float:
    """The force area's population (DOMAIN.md for the nine; estimated for the rest)."""
    return float(reference.forces().set_index("force_id").loc[force_id, "population"])


def rso_count(force_id: str, scale: float) -> int:
    """Registered sex offenders managed by the force at the world's start, times scale."""
    rate = RSO_PER_100K.get(force_id, RSO_PER_100K_DEFAULT)
    return max(1, round(force_population(force_id) / 100_000 * rate * scale))


def monthly_rate(per_year: float, months: list[str], force_id: str) -> np.ndarray:
    """Spread a yearly count over months with the force's seasonal shape, rounded with carry."""
    shape = seasonal_shape(force_id)
    return rounded_with_carry(np.array([per_year / 12 * shape[int(m[5:7]) - 1] for m in months]))


def month_range(start: str, end: str) -> list[str]:
    """Every YYYY-MM from start to end inclusive."""
    periods = pd.period_range(start=start, end=end, freq="M")
    if len(periods) == 0:
        raise ValueError(f"--end {end} is before --start {start}")
    return [str(p) for p in periods]
