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
# listed in its escalation order (least to most harmful): a planted course of conduct is drawn
# from the palette and then put in this order over time, the escalation that PPIT rates as a
# critical risk item (DOMAIN.md).
SERIAL_PALETTES: dict[str, tuple[tuple[str, float], ...]] = {
    "high": (("3B", 0.15), ("8U", 0.15), ("8N", 0.25), ("5D", 0.05), ("20A", 0.15), ("19C", 0.25)),
    "medium": (("105A", 0.25), ("8Q", 0.1), ("3B", 0.1), ("8U", 0.2), ("8N", 0.35)),
    "low": (("8R", 0.05), ("8L", 0.25), ("8Q", 0.3), ("105A", 0.15), ("8U", 0.25)),
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
    """``n`` months of a course of conduct that is still going on: spread over the world's span
    (biased to the recent end) with the latest in its last ``last_within`` months, because the
    perpetrators a tactical list exists for are the ones offending now (PPIT's "recent offending")."""
    recent = months[-max(1, min(last_within, len(months))):]
    latest = recent[int(rng.integers(0, len(recent)))]
    return sorted([*spread_months(rng, months, n - 1, recent_bias), latest])


def escalating_course(rng: np.random.Generator, palette: tuple[tuple[str, float], ...], n: int) -> list[str]:
    """``n`` offence codes drawn from ``palette``, put in its escalation order (least harmful first)."""
    order = {code: position for position, (code, _) in enumerate(palette)}
    return sorted((pick_weighted(rng, palette) for _ in range(n)), key=order.__getitem__)


def vehicle_registration(rng: np.random.Generator, year: int) -> str:
    """A current-style UK registration, e.g. ``AB19 CDE``."""
    letters = "ABCDEFGHJKLMNOPRSTUVWXY"
    age_id = year % 100 + (50 if rng.random() < 0.5 else 0)
    pick = lambda: letters[int(rng.integers(0, len(letters)))]  # noqa: E731 - tiny local helper
    return f"{pick()}{pick()}{age_id:02d} {pick()}{pick()}{pick()}"


def world_date(month: str) -> dt.date:
    """The first day of a YYYY-MM month."""
    return dt.date(int(month[:4]), int(month[5:7]), 1)
