"""The planted ground truth: the patterns the pipeline exists to find.

Background offending is random; these are not. Each plant is a schedule of records spread
over the world's months and forces: serial VAWG perpetrators with several victims (some
across force borders), exploitation networks of adults around repeat-missing children (with
the addresses where the children are found), organised groups that co-offend and share phones,
vehicles and addresses (some on the OCG register, some not), and ViSOR nominals who turn up in
another force's intelligence or crime. The pipeline never reads the plan; the world writes it
to ``truth/`` so that the pipeline can be measured against it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

# Offence palettes (Home Office codes) with weights for planted serial perpetrators, by the
# harm tier they are meant to represent: a range of harm, as DOMAIN.md asks. Each palette is
# listed in its escalation order, least to most harmful by PALETTE_HARM_DAYS: a planted course of
# conduct is drawn from the palette and then put in this order over time, the escalation that
# PPIT rates as a critical risk item (DOMAIN.md).
SERIAL_PALETTES: dict[str, tuple[tuple[str, float], ...]] = {
    "high": (("3B", 0.15), ("20A", 0.15), ("8U", 0.15), ("8N", 0.25), ("5D", 0.05), ("19C", 0.25)),
    "medium": (("105A", 0.25), ("3B", 0.1), ("8Q", 0.1), ("8U", 0.2), ("8N", 0.35)),
    "low": (("8R", 0.05), ("8L", 0.25), ("105A", 0.15), ("8Q", 0.3), ("8U", 0.25)),
}
# Harm days of the palette codes as the regional default weighs them (DOMAIN.md: the CCHI
# subgroup medians, with the documented overrides for stalking, 8Q, and coercive control, 8U):
# what "more harmful" means when a course is put in escalation order.
PALETTE_HARM_DAYS: dict[str, float] = {
    "3B": 10.0, "105A": 10.0, "8L": 10.0, "8R": 10.0, "8Q": 182.25, "20A": 182.25,
    "8U": 365.0, "8N": 365.0, "5D": 365.0, "19C": 2555.0,
}
GROUP_OFFENCES: tuple[tuple[str, float], ...] = (
    ("92A", 0.5), ("34B", 0.15), ("10D", 0.15), ("28E", 0.1), ("8N", 0.1),
)


@dataclass
class PlannedCrime:
    """A crime the world must record in a given force and month."""

    force: str
    month: str
    ho_code: str
    domestic_abuse: bool
    suspects: list[int]
    victims: list[int]
    address_id: int | None
    tag: str  # e.g. "serial:S0003" or "group:G0002"
    arrest: bool = False
    # Reported within days of being committed (a course of conduct known to police as it happens)
    # rather than after the months' delay usual for sexual offences.
    reported_promptly: bool = False


@dataclass
class PlannedIntel:
    """An intelligence report the world must record."""

    force: str
    month: str
    persons: list[int]
    phones: list[str]
    vehicles: list[str]
    address_ids: list[int]
    theme: str
    tag: str


@dataclass
class PlannedEpisode:
    """A missing episode of a child in an exploitation network."""

    force: str
    month: str
    child: int
    adult: int | None
    found_address_id: int | None
    indicators: str
    tag: str


@dataclass
class Plan:
    """Everything planted, bucketed by (force, month), and the truth tables that describe it."""

    crimes: dict[tuple[str, str], list[PlannedCrime]] = field(default_factory=dict)
    intel: dict[tuple[str, str], list[PlannedIntel]] = field(default_factory=dict)
    episodes: dict[tuple[str, str], list[PlannedEpisode]] = field(default_factory=dict)
    serial_perpetrators: list[dict[str, object]] = field(default_factory=list)
    networks: list[dict[str, object]] = field(default_factory=list)
    groups: list[dict[str, object]] = field(default_factory=list)
    visor_crossings: list[dict[str, object]] = field(default_factory=list)

    def add_crime(self, crime: PlannedCrime) -> None:
        self.crimes.setdefault((crime.force, crime.month), []).append(crime)

    def add_intel(self, report: PlannedIntel) -> None:
        self.intel.setdefault((report.force, report.month), []).append(report)

    def add_episode(self, episode: PlannedEpisode) -> None:
        self.episodes.setdefault((episode.force, episode.month), []).append(episode)


def plants_per_force(scale: float, at_full_scale: int, minimum: int) -> int:
    """How many of a kind of plant each force gets: fewer in small worlds, never none."""
    return max(minimum, round(at_full_scale * min(1.0, scale) ** 0.5))


def pick_weighted(rng: np.random.Generator, palette: tuple[tuple[str, float], ...]) -> str:
    """One code from a (code, weight) palette."""
    codes = [code for code, _ in palette]
    weights = np.array([weight for _, weight in palette])
    return codes[int(rng.choice(len(codes), p=weights / weights.sum()))]


def spread_months(rng: np.random.Generator, months: list[str], n: int, recent_bias: float) -> list[str]:
    """``n`` months drawn from the world's span, biased towards the recent end."""
    positions = np.arange(len(months), dtype=float)
    weights = np.exp(recent_bias * positions / max(1, len(months) - 1))
    picks = rng.choice(len(months), size=n, p=weights / weights.sum())
    return [months[int(i)] for i in sorted(picks)]


def active_course_months(rng: np.random.Generator, months: list[str], n: int, recent_bias: float,
                         last_within: int) -> list[str]:
    """``n`` distinct months of a course of conduct that is still going on: spread over the
    world's span (biased to the recent end) with the latest in its last ``last_within`` months,
    because the perpetrators a tactical list exists for are the ones offending now (PPIT's
    "recent offending"). One offence a month keeps the course's order in the records' dates."""
    recent = months[-max(1, min(last_within, len(months))):]
    latest = months.index(recent[int(rng.integers(0, len(recent)))])
    earlier = np.arange(latest, dtype=float)
    take = min(n - 1, len(earlier))
    weights = np.exp(recent_bias * earlier / max(1, len(months) - 1))
    picks = rng.choice(len(earlier), size=take, replace=False, p=weights / weights.sum()) if take else []
    return [months[int(i)] for i in sorted(picks)] + [months[latest]]


def escalating_course(rng: np.random.Generator, palette: tuple[tuple[str, float], ...], n: int) -> list[str]:
    """``n`` offence codes drawn from ``palette``, put in its escalation order (least harmful first).

    The course ends on a rise in harm: at most two offences share its most harmful level, so its
    last three offences are not all equally harmful (equal harm is not escalation)."""
    order = {code: position for position, (code, _) in enumerate(palette)}
    course = sorted((pick_weighted(rng, palette) for _ in range(n)), key=order.__getitem__)
    while len(course) >= 3 and PALETTE_HARM_DAYS[course[-3]] >= PALETTE_HARM_DAYS[course[-1]]:
        below = [code for code, _ in palette if PALETTE_HARM_DAYS[code] < PALETTE_HARM_DAYS[course[-1]]]
        if not below:
            break
        course[-3] = below[-1]
        course.sort(key=order.__getitem__)
    return course


def vehicle_registration(rng: np.random.Generator, year: int) -> str:
    """A current-style UK registration, e.g. ``AB19 CDE``."""
    letters = "ABCDEFGHJKLMNOPRSTUVWXY"
    age_id = year % 100 + (50 if rng.random() < 0.5 else 0)
    pick = lambda: letters[int(rng.integers(0, len(letters)))]  # noqa: E731 - tiny local helper
    return f"{pick()}{pick()}{age_id:02d} {pick()}{pick()}{pick()}"


def world_date(month: str) -> dt.date:
    """The first day of a YYYY-MM month."""
    return dt.date(int(month[:4]), int(month[5:7]), 1)
