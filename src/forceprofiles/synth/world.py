"""The synthetic world: populations, planted truth and month-by-month records per force.

``World`` holds what must persist across months (the people, each force's offender and
missing-person pools, nominal records, records awaiting a later update, the plan of planted
patterns) and produces, for one force and one month at a time, canonical frames for the five
feeds. Memory stays bounded because only integer-coded people and open records are kept;
every month's records are written out and dropped (see ``synth.writer``).

Determinism: every random draw comes from a generator seeded by (seed, purpose, force,
month), and forces and months are processed in a fixed order, so the same arguments give
byte-identical output.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forceprofiles import contract, reference
from forceprofiles.identifiers import format_pnc
from forceprofiles.synth import calibration as cal
from forceprofiles.synth.people import Address, Nominal, People, format_phone, render_nominal
from forceprofiles.synth.places import ADDRESS_ID_STRIDE, ADDRESSES_PER_LSOA, ForcePlaces, force_places
from forceprofiles.synth.plants import (
    GROUP_OFFENCES, SERIAL_PALETTES, Plan, PlannedCrime, PlannedEpisode, PlannedIntel,
    active_course_months, escalating_course, pick_weighted, plants_per_force, spread_months,
    vehicle_registration, world_date,
)


class Choice:
    """One draw from fixed options: the option ``rng.choice(options, p=p)`` would draw.

    ``rng.choice`` rebuilds its cumulative weights and checks them on every call, which cost
    about 8 microseconds a draw, several times per record; the cumulative is built once here,
    the way numpy builds it (cumsum, then divided by its last value), and each draw takes one
    uniform, or one integer without weights, exactly as numpy does, so a seed gives the world it
    gave before."""

    def __init__(self, options: tuple[Any, ...], p: tuple[float, ...] | None = None) -> None:
        self.options = options
        self.cumulative: np.ndarray | None = None
        if p is not None:
            cumulative = np.asarray(p, dtype=np.float64).cumsum()
            self.cumulative = cumulative / cumulative[-1]

    def draw(self, rng: np.random.Generator) -> Any:
        if self.cumulative is None:
            return self.options[int(rng.integers(0, len(self.options)))]
        return self.options[int(self.cumulative.searchsorted(rng.random(), side="right"))]


OUTCOME_FINAL = Choice(("charged", "caution", "community_resolution", "no_further_action",
                        "evidential_difficulties", "victim_declined"), (0.14, 0.04, 0.05, 0.10, 0.45, 0.22))
DISPOSALS = Choice(("charged", "bailed", "released_under_investigation", "caution", "no_further_action"),
                   (0.30, 0.15, 0.35, 0.05, 0.15))
INTEL_SUBJECT_COUNT = Choice((1, 1, 1, 2, 3))
LEGACY_GRADING = (Choice(tuple("ABCDE"), (.1, .4, .3, .15, .05)), Choice(tuple("12345"), (.15, .35, .3, .15, .05)),
                  Choice(tuple("12345")))
NATIONAL_GRADING = (Choice(("1", "2", "3"), (.3, .6, .1)), Choice(tuple("ABCDE"), (.15, .35, .35, .1, .05)),
                    Choice(("P", "C"), (.8, .2)))
MISSING_RISK = ("no_apparent_risk", "low", "medium", "high")
MISSING_RISK_EXPLOITED = Choice(MISSING_RISK, (0.05, 0.25, 0.5, 0.2))
MISSING_RISK_CHILD = Choice(MISSING_RISK, (0.1, 0.4, 0.4, 0.1))
MISSING_RISK_ADULT = Choice(MISSING_RISK, (0.15, 0.45, 0.3, 0.1))
CHILD_INDICATORS = Choice(("cse", "cce", "county_lines"))
INTEL_THEMES = (
    "Subject reported to be supplying Class A drugs in the {town} area.",
    "Subject believed to be carrying a bladed weapon when in {town}.",
    "Subject reported to be controlling and threatening towards a partner in {town}.",
    "Vehicle seen being used to transport young people between addresses in {town}.",
    "Subject associating with known offenders at an address in {town}.",
    "Phone number linked to drug line advertising in {town}.",
    "Subject reported to be involved in shoplifting to order in {town}.",
)


# The most a background offender's weight can be, in units of the Pareto draw (whose median is
# about 0.5): see ForceState's offender weights.
PROLIFIC_CAP = 6.0


def ocg_ref(force_id: str, number: int) -> str:
    """A registered group's reference, unique nationally: 'OCG-WEST-MERCIA-0003'.

    The whole force id, not a prefix: three letters gave West Mercia, West Midlands and West
    Yorkshire the same references in a national world, which the register's uniqueness test
    (rightly) refused."""
    return f"OCG-{force_id.upper()}-{number:04d}"


@dataclass(frozen=True)
class WorldSpec:
    """The arguments that define a world; the same spec always gives the same world."""

    forces: tuple[str, ...]
    start: str
    end: str
    scale: float
    seed: int


@dataclass
class ForceState:
    """What a force carries from month to month."""

    places: ForcePlaces
    offenders: np.ndarray
    offender_weights: np.ndarray
    children: np.ndarray
    child_weights: np.ndarray
    child_from_care: np.ndarray
    adults_missing: np.ndarray
    care_homes: np.ndarray
    visor: list[dict[str, object]] = field(default_factory=list)
    offender_cumulative: np.ndarray = field(default_factory=lambda: np.ones(1))
    child_cumulative: np.ndarray = field(default_factory=lambda: np.ones(1))
    partners: dict[int, int] = field(default_factory=dict)
    pending_crimes: dict[str, list[tuple[dict, list[dict]]]] = field(default_factory=dict)
    pending_episodes: dict[str, list[dict]] = field(default_factory=dict)


@dataclass
class MonthRecords:
    """One force's canonical records for one month, with the truth behind their persons."""

    frames: dict[str, dict[str, pd.DataFrame]]
    nominal_truth: pd.DataFrame  # force_id, person_ref, person_id for nominals first used here
    record_truth: pd.DataFrame  # force_id, feed, record_ref, person_ref, role, person_id
    planted_crimes: pd.DataFrame  # force_id, crime_ref, tag, ho_code, suspect_ids, victim_ids


class World:
    """A seeded synthetic world of several forces; call ``month_records`` in order."""

    def __init__(self, spec: WorldSpec) -> None:
        self.spec = spec
        self.months = cal.month_range(spec.start, spec.end)
        self.start_date = world_date(self.months[0])
        self.people = People()
        self.forces_table = reference.forces().set_index("force_id")
        unknown = [f for f in spec.forces if f not in self.forces_table.index]
        if unknown:
            raise ValueError(f"unknown force id(s): {', '.join(unknown)} (see `forceprofiles synth --help`)")
        self.state: dict[str, ForceState] = {}
        self.counters: dict[tuple[str, str], int] = {}
        self.ref_prefixes: dict[tuple[str, str], str] = {}
        self.spare_people: dict[tuple[str, tuple[int, int], float], list[int]] = {}
        self.nominals: dict[tuple[str, str, int], Nominal] = {}
        self.plan = Plan()
        self.crime_counts = {f: cal.monthly_crime_counts(f, self.months, spec.scale) for f in spec.forces}
        self.neighbours = _neighbours(spec.forces)
        self.group_vehicles: dict[int, str] = {}
        for index, force in enumerate(spec.forces):
            self.state[force] = self._new_force(force, index)
        self._plant()

    # --- set-up ------------------------------------------------------------------------------
    def _rng(self, *purpose: object) -> np.random.Generator:
        words = [int.from_bytes(hashlib.blake2b(str(p).encode(), digest_size=4).digest(), "little") for p in purpose]
        return np.random.default_rng([self.spec.seed, *words])

    def _new_force(self, force: str, index: int) -> ForceState:
        rng = self._rng("force", force)
        places = force_places(force, index, self.spec.seed)
        addresses = places.address_ids()
        yearly_crimes = float(self.forces_table.loc[force, "crimes_per_year"]) * self.spec.scale
        population = cal.force_population(force) * self.spec.scale
        n_offenders = max(20, int(yearly_crimes * 0.45))
        offenders = self.people.create(rng, n_offenders, home_force=index, home_addresses=addresses,
                                       age_range=(16, 60), at=self.start_date, female_share=0.16, pnc_share=0.65)
        # Offending is concentrated: a few prolific offenders, a long tail of one-offs. The Pareto
        # tail is capped: uncapped, the most prolific draw grows with the size of the pool (at
        # full scale one person would be the suspect in a thousand crimes a year); capped at
        # PROLIFIC_CAP times the typical weight, the most prolific offender is the suspect in about
        # ten recorded crimes a year at any scale (an assumption: see docs/synthetic-world.md).
        weights = np.minimum(rng.pareto(1.6, n_offenders) + 0.05, PROLIFIC_CAP)
        child_episodes = population * cal.MISSING_EPISODES_PER_1000_PEOPLE_PER_YEAR / 1000 * cal.MISSING_CHILD_SHARE
        n_children = max(10, int(child_episodes / 2.5))
        children = self.people.create(rng, n_children, home_force=index, home_addresses=addresses,
                                      age_range=(12, 17), at=self.start_date, female_share=0.5, pnc_share=0.08)
        from_care = rng.random(n_children) < 0.3
        child_weights = (rng.pareto(1.5, n_children) + 0.1) * np.where(from_care, 4.0, 1.0)
        adult_episodes = population * cal.MISSING_EPISODES_PER_1000_PEOPLE_PER_YEAR / 1000 * (1 - cal.MISSING_CHILD_SHARE)
        adults_missing = self.people.create(rng, max(10, int(adult_episodes / 1.5)), home_force=index,
                                            home_addresses=addresses, age_range=(18, 85), at=self.start_date,
                                            female_share=0.4, pnc_share=0.2)
        care_homes = places.sample_addresses(rng, max(2, len(places.lsoas) // 60))
        state = ForceState(places, offenders, weights / weights.sum(), children, child_weights / child_weights.sum(),
                           from_care, adults_missing, care_homes)
        self._seed_visor(rng, force, index, state)
        state.offender_cumulative = _cumulative(state.offender_weights)
        state.child_cumulative = _cumulative(state.child_weights)
        return state

    def _seed_visor(self, rng: np.random.Generator, force: str, index: int, state: ForceState) -> None:
        """The force's ViSOR register at the world's start (exported in the first month)."""
        n_rso = cal.rso_count(force, self.spec.scale)
        n_vo = max(1, round(n_rso * cal.VIOLENT_OFFENDERS_PER_RSO))
        n_pdp = max(1, round(n_rso * cal.PDP_PER_RSO))
        addresses = state.places.address_ids()
        for category, count in (("RSO", n_rso), ("VO", n_vo), ("PDP", n_pdp)):
            ids = self.people.create(rng, count, home_force=index, home_addresses=addresses, age_range=(21, 80),
                                     at=self.start_date, female_share=0.03, pnc_share=1.0)
            for pid in ids:
                state.visor.append(self._visor_nominal(rng, force, int(pid), category, self.months[0], initial=True))
        # Some registered offenders are still active: they join the force's offender pool.
        active = [int(v["person_id"]) for v in state.visor if rng.random() < 0.15]
        if active:
            state.offenders = np.concatenate([state.offenders, np.array(active, dtype=np.int64)])
            extra = np.full(len(active), state.offender_weights.mean())
            weights = np.concatenate([state.offender_weights, extra])
            state.offender_weights = weights / weights.sum()

    def _visor_nominal(self, rng: np.random.Generator, force: str, pid: int, category: str, month: str,
                       initial: bool) -> dict[str, object]:
        mappa_category = {"RSO": 1, "VO": 2, "PDP": 3}[category]
        level = int(rng.choice([1, 2, 3], p=[0.985, 0.012, 0.003] if category == "RSO" else [0.8, 0.17, 0.03]))
        registered = (world_date(month) - dt.timedelta(days=int(rng.integers(30, 3650)))) if initial else \
            world_date(month) + dt.timedelta(days=int(rng.integers(0, 27)))
        orders = []
        if category == "RSO" and rng.random() < 0.3:
            orders.append("SHPO")
        if category == "PDP" and rng.random() < 0.3:
            orders.append("SRO")
        if category == "VO" and rng.random() < 0.05:
            orders.append("SPO")
        return {
            "person_id": pid, "visor_ref": self._next_ref(force, "visor"), "category": category,
            "mappa_category": mappa_category, "mappa_level": level,
            "rosh": str(rng.choice(["low", "medium", "high", "very_high"], p=[0.45, 0.4, 0.13, 0.02])),
            "rm2000": str(rng.choice(["low", "medium", "high", "very_high"], p=[0.4, 0.35, 0.18, 0.07]))
            if category == "RSO" else None,
            "notification_period": str(rng.choice(["indefinite", "10y", "7y", "5y", "2y"], p=[0.35, 0.25, 0.2, 0.15, 0.05]))
            if category == "RSO" else None,
            "registered_on": registered, "civil_orders": ";".join(orders) or None,
            "managing_unit": f"MOSOVO {['North', 'South', 'East', 'West', 'Central'][int(rng.integers(0, 5))]}",
            "first_month": month,
        }

    def _next_ref(self, force: str, namespace: str) -> str:
        key = (force, namespace)
        count = self.counters[key] = self.counters.get(key, 0) + 1
        prefix = self.ref_prefixes.get(key)
        if prefix is None:
            prefix = self.ref_prefixes[key] = _ref_prefix(force, namespace)
        return f"{prefix}{count:08d}"

    # --- planting -----------------------------------------------------------------------------
    def _plant(self) -> None:
        rng = self._rng("plant")
        for index, force in enumerate(self.spec.forces):
            self._plant_serial_perpetrators(rng, force, index)
            self._plant_groups(rng, force, index)
            self._plant_network(rng, force, index)
            self._plant_visor_crossings(rng, force)

    def _plant_serial_perpetrators(self, rng: np.random.Generator, force: str, index: int) -> None:
        state = self.state[force]
        for k in range(plants_per_force(self.spec.scale, 12, 5)):
            perp = int(self.people.create(rng, 1, home_force=index, home_addresses=state.places.address_ids(),
                                          age_range=(20, 50), at=self.start_date, female_share=0.05,
                                          pnc_share=0.8)[0])
            tier = str(rng.choice(["high", "medium", "low"], p=[0.35, 0.4, 0.25]))
            n_victims = int(rng.integers(4, 7))
            cross_border = rng.random() < 0.35 and self.neighbours[force]
            victim_forces = [force] * n_victims
            if cross_border:
                victim_forces[-1] = self.neighbours[force][int(rng.integers(0, len(self.neighbours[force])))]
            victims = [int(self.people.create(rng, 1, home_force=self.spec.forces.index(vf),
                                              home_addresses=self.state[vf].places.address_ids(),
                                              age_range=(17, 45), at=self.start_date, female_share=0.95,
                                              pnc_share=0.02)[0]) for vf in victim_forces]
            n_offences = int(rng.integers(max(8, n_victims + 3), 15))
            months = active_course_months(rng, self.months, n_offences, recent_bias=2.0, last_within=2)
            if len(months) < n_offences:
                # A world shorter than the course holds one offence a month; fewer victims then, so
                # that the course is still repeat abuse of the same women (at their homes).
                keep = max(2, min(n_victims, len(months) // 2))
                victims, victim_forces = victims[:keep - 1] + victims[-1:], victim_forces[:keep - 1] + victim_forces[-1:]
                n_victims = keep
            n_offences = len(months)
            codes = escalating_course(rng, SERIAL_PALETTES[tier], n_offences)
            serial_id = f"S{index:02d}{k:03d}"
            for i, (month, code) in enumerate(zip(months, codes)):
                victim_index = min(i * n_victims // n_offences, n_victims - 1)
                victim = victims[victim_index]
                vforce = victim_forces[victim_index]
                self.plan.add_crime(PlannedCrime(
                    vforce, month, code, True, [perp], [victim],
                    int(self.people.col("home_address")[victim]), f"serial:{serial_id}", arrest=rng.random() < 0.4,
                    reported_promptly=True))
                if rng.random() < 0.35:
                    self.plan.add_intel(PlannedIntel(vforce, month, [perp], [], [], [], 2, f"serial:{serial_id}"))
            self.plan.serial_perpetrators.append({
                "serial_id": serial_id, "person_id": perp, "home_force": force, "harm_tier": tier,
                "victim_ids": victims, "victim_forces": sorted(set(victim_forces)),
                "cross_border": bool(cross_border), "planned_offences": n_offences,
            })

    def _plant_groups(self, rng: np.random.Generator, force: str, index: int) -> None:
        state = self.state[force]
        for k in range(plants_per_force(self.spec.scale, 4, 2)):
            group_id = f"G{index:02d}{k:03d}"
            n_members = int(rng.integers(4, 9))
            members = [int(x) for x in self.people.create(
                rng, n_members, home_force=index, home_addresses=state.places.address_ids(), age_range=(17, 40),
                at=self.start_date, female_share=0.1, pnc_share=0.75)]
            phones = [format_phone(7_000_000_000 + int(rng.integers(100_000_000, 999_999_999))) for _ in range(3)]
            vehicles = [vehicle_registration(rng, int(rng.integers(2010, 2024))) for _ in range(2)]
            bases = [int(a) for a in state.places.sample_addresses(rng, 2)]
            registered = k % 2 == 0
            for month in spread_months(rng, self.months, int(rng.integers(8, 16)), recent_bias=0.8):
                crew = [members[int(i)] for i in rng.choice(n_members, size=int(rng.integers(2, 4)), replace=False)]
                self.plan.add_crime(PlannedCrime(force, month, pick_weighted(rng, GROUP_OFFENCES), False, crew, [],
                                                 bases[int(rng.integers(0, 2))], f"group:{group_id}",
                                                 arrest=rng.random() < 0.5))
            for month in spread_months(rng, self.months, int(rng.integers(10, 20)), recent_bias=0.8):
                crew = [members[int(i)] for i in rng.choice(n_members, size=int(rng.integers(2, 4)), replace=False)]
                self.plan.add_intel(PlannedIntel(
                    force, month, crew, [phones[int(rng.integers(0, 3))]], [vehicles[int(rng.integers(0, 2))]],
                    [bases[int(rng.integers(0, 2))]], int(rng.choice([0, 4, 5])), f"group:{group_id}"))
            self.plan.groups.append({
                "group_id": group_id, "force_id": force, "registered": registered,
                "ocg_ref": ocg_ref(force, k + 1) if registered else None,
                "member_ids": members, "phones": phones, "vehicles": vehicles,
                "address_ids": bases, "addresses": [state.places.address(a).line for a in bases],
            })

    def _plant_network(self, rng: np.random.Generator, force: str, index: int) -> None:
        state = self.state[force]
        for k in range(plants_per_force(self.spec.scale, 3, 1)):
            network_id = f"X{index:02d}{k:03d}"
            adults = [int(x) for x in self.people.create(
                rng, int(rng.integers(1, 3)), home_force=index, home_addresses=state.places.address_ids(),
                age_range=(18, 35), at=self.start_date, female_share=0.15, pnc_share=0.7)]
            locations: list[tuple[str, int]] = [(force, int(state.places.sample_addresses(rng, 1)[0]))]
            neighbours = self.neighbours[force]
            if neighbours:
                nforce = neighbours[int(rng.integers(0, len(neighbours)))]
                locations.append((nforce, int(self.state[nforce].places.sample_addresses(rng, 1)[0])))
            child_forces = [force if rng.random() < 0.6 or not neighbours else neighbours[int(rng.integers(0, len(neighbours)))]
                            for _ in range(int(rng.integers(3, 7)))]
            children = []
            for cforce in child_forces:
                cstate = self.state[cforce]
                child = int(self.people.create(rng, 1, home_force=self.spec.forces.index(cforce),
                                               home_addresses=cstate.care_homes, age_range=(13, 16),
                                               at=self.start_date, female_share=0.4, pnc_share=0.1)[0])
                children.append((cforce, child))
                indicators = str(rng.choice(["cce;county_lines", "cse", "cce", "cse;cce"]))
                for month in spread_months(rng, self.months, int(rng.integers(4, 10)), recent_bias=1.0):
                    found = locations[int(rng.integers(0, len(locations)))] if rng.random() < 0.75 else None
                    self.plan.add_episode(PlannedEpisode(
                        cforce, month, child, adults[int(rng.integers(0, len(adults)))] if rng.random() < 0.7 else None,
                        found[1] if found else None, indicators, f"network:{network_id}"))
            for month in spread_months(rng, self.months, int(rng.integers(3, 7)), recent_bias=1.0):
                loc_force, loc = locations[int(rng.integers(0, len(locations)))]
                kids = [c for _, c in children][: int(rng.integers(1, 3))]
                self.plan.add_intel(PlannedIntel(loc_force, month, [adults[0], *kids],
                                                 [format_phone(int(self.people.col("phone")[adults[0]]))], [], [loc], 3,
                                                 f"network:{network_id}"))
            self.plan.networks.append({
                "network_id": network_id, "force_id": force, "adult_ids": adults,
                "children": [{"force_id": f, "person_id": c} for f, c in children],
                "locations": [{"force_id": f, "address_id": a, "address": self.state[f].places.address(a).line,
                               "postcode": self.state[f].places.address(a).postcode,
                               "lsoa11cd": self.state[f].places.address(a).lsoa11cd} for f, a in locations],
            })

    def _plant_visor_crossings(self, rng: np.random.Generator, force: str) -> None:
        neighbours = self.neighbours[force]
        if not neighbours:
            return
        state = self.state[force]
        count = min(len(state.visor), max(2, round(len(state.visor) * 0.02)))
        for position in rng.choice(len(state.visor), size=count, replace=False):
            nominal = state.visor[int(position)]
            other = neighbours[int(rng.integers(0, len(neighbours)))]
            month = spread_months(rng, self.months, 1, recent_bias=1.5)[0]
            pid = int(nominal["person_id"])
            if rng.random() < 0.5:
                self.plan.add_intel(PlannedIntel(other, month, [pid], [], [], [], 6, f"visor:{force}"))
                feed = "intelligence"
            else:
                victim = int(self.people.create(rng, 1, home_force=self.spec.forces.index(other),
                                                home_addresses=self.state[other].places.address_ids(),
                                                age_range=(14, 40), at=self.start_date, female_share=0.9,
                                                pnc_share=0.0)[0])
                self.plan.add_crime(PlannedCrime(other, month, str(rng.choice(["88E", "20A", "8L"])), False, [pid],
                                                 [victim], None, f"visor:{force}"))
                feed = "crime"
            self.plan.visor_crossings.append({"person_id": pid, "visor_force": force, "visor_ref": nominal["visor_ref"],
                                              "appears_in_force": other, "feed": feed, "month": month})

    # --- month generation ----------------------------------------------------------------------
    def month_records(self, force: str, month: str) -> MonthRecords:
        """Canonical frames of the five feeds for one force and month (call months in order)."""
        rng = self._rng("month", force, month)
        collector = _Collector(force)
        crimes, involvements, suspects = self._crimes(rng, force, month, collector)
        collector.frames["crime"] = {"occurrences": crimes, "involvements": involvements}
        collector.frames["custody"] = {"records": self._custody(rng, force, month, suspects, collector)}
        collector.frames["intelligence"] = self._intelligence(rng, force, month, len(crimes), collector)
        collector.frames["missing"] = {"episodes": self._missing(rng, force, month, collector)}
        collector.frames["visor"] = {"nominals": self._visor(rng, force, month, collector)}
        return collector.finish()

    def _nominal(self, rng: np.random.Generator, force: str, namespace: str, pid: int, *,
                 pnc_recorded: float, dob_recorded: float, collector: "_Collector", reuse: bool = True) -> Nominal:
        """The force's nominal record of a person: reused if it exists, sometimes duplicated."""
        key = (force, namespace, pid)
        existing = self.nominals.get(key) if reuse else None
        if existing is not None and rng.random() > 0.03:
            return existing
        nominal = render_nominal(rng, self.people, pid, self._next_ref(force, namespace),
                                 pnc_recorded=pnc_recorded, dob_recorded=dob_recorded)
        if reuse:
            self.nominals[key] = nominal
        collector.nominal_truth.append((force, nominal.person_ref, pid))
        return nominal

    def _person_columns(self, rng: np.random.Generator, nominal: Nominal, pid: int) -> dict[str, object]:
        """The canonical person fields of one record (address and phone vary per record)."""
        address = self._address_of(pid, rng)
        phone = format_phone(int(self.people.col("phone")[pid])) if rng.random() < 0.45 else None
        return {
            "person_ref": nominal.person_ref, "forenames": nominal.forenames, "surname": nominal.surname,
            "date_of_birth": nominal.date_of_birth, "sex": nominal.sex, "ethnicity_self": nominal.ethnicity_self,
            "ethnicity_officer": nominal.ethnicity_officer, "pnc_id": nominal.pnc_id, "cro_number": nominal.cro_number,
            "address": address.line if address else None, "postcode": address.postcode if address else None,
            "phone": phone,
        }

    def _address_of(self, pid: int, rng: np.random.Generator) -> Address | None:
        if rng.random() < 0.08:
            return None
        address_id = int(self.people.col("home_address")[pid])
        if rng.random() < 0.1:  # a previous or alternative address, consistently the same one
            within_lsoa = (address_id % ADDRESS_ID_STRIDE) % ADDRESSES_PER_LSOA
            address_id += 1 if within_lsoa < ADDRESSES_PER_LSOA - 1 else -1
        return self._render_address(address_id)

    def _render_address(self, address_id: int) -> Address:
        force = self.spec.forces[address_id // ADDRESS_ID_STRIDE]
        return self.state[force].places.address(address_id)

    def _crimes(self, rng: np.random.Generator, force: str, month: str, collector: "_Collector"
                ) -> tuple[pd.DataFrame, pd.DataFrame, list[tuple[int, str, str, pd.Timestamp]]]:
        state = self.state[force]
        month_index = self.months.index(month)
        planned = self.plan.crimes.get((force, month), [])
        n_background = max(0, int(self.crime_counts[force][month_index]) - len(planned))
        mix = cal.offence_mix(force)
        picks = rng.choice(len(mix.codes), size=n_background, p=mix.probabilities)
        codes, subgroups = mix.codes[picks], mix.subgroups[picks]
        occurrences: list[dict] = []
        people_rows: list[dict] = []
        arrests: list[tuple[int, str, str, pd.Timestamp]] = []
        start = pd.Timestamp(month + "-01")
        days = start.days_in_month
        for code, subgroup in zip(codes, subgroups):
            da = rng.random() < cal.DA_FLAG_PROBABILITY.get(subgroup, cal.DA_FLAG_DEFAULT)
            suspect_known = rng.random() < cal.SUSPECT_PROBABILITY.get(subgroup, cal.SUSPECT_PROBABILITY_DEFAULT)
            suspects = [self._pick_offender(rng, force)] if suspect_known else []
            if suspects and rng.random() < 0.08:
                co_suspect = self._pick_offender(rng, force)
                if co_suspect != suspects[0]:  # a prolific offender can be drawn twice: one person, one role
                    suspects.append(co_suspect)
            victims: list[int] = []
            if subgroup not in cal.NO_VICTIM_SUBGROUPS:
                victims = [self._victim_for(rng, force, suspects[0] if (da and suspects) else None, subgroup)]
            address_id = int(self.people.col("home_address")[victims[0]]) if (da and victims) else None
            self._add_crime(rng, force, month, str(code), "crime", da, suspects, victims, address_id,
                            None, occurrences, people_rows, arrests, start, days, collector)
        for planned_crime in planned:
            self._add_crime(rng, force, month, planned_crime.ho_code, "crime", planned_crime.domestic_abuse,
                            planned_crime.suspects, planned_crime.victims, planned_crime.address_id,
                            planned_crime, occurrences, people_rows, arrests, start, days, collector)
        for _ in range(int(round(len(codes) * cal.NON_CRIME_DA_PER_CRIME))):
            suspect = self._pick_offender(rng, force)
            victim = self._victim_for(rng, force, suspect, "Violence without injury")
            self._add_crime(rng, force, month, "NC", "non-crime", True, [suspect], [victim],
                            int(self.people.col("home_address")[victim]), None, occurrences, people_rows,
                            arrests, start, days, collector)
        for occurrence, rows in state.pending_crimes.pop(month, []):
            updated = dict(occurrence)
            updated["outcome"] = OUTCOME_FINAL.draw(rng)
            updated["updated_at"] = _random_time(rng, start, days)
            occurrences.append(updated)
            people_rows.extend({**row, "updated_at": updated["updated_at"]} for row in rows)
        return (_frame("crime", "occurrences", occurrences), _frame("crime", "involvements", people_rows), arrests)

    def _add_crime(self, rng: np.random.Generator, force: str, month: str, code: str, record_type: str, da: bool,
                   suspects: list[int], victims: list[int], address_id: int | None, planned: PlannedCrime | None,
                   occurrences: list[dict], people_rows: list[dict], arrests: list, start: pd.Timestamp, days: int,
                   collector: "_Collector") -> None:
        state = self.state[force]
        reported = _random_time(rng, start, days)
        delayed = code in ("19C", "19D", "19E", "20A") and not (planned and planned.reported_promptly)
        delay_days = rng.exponential(120.0) if delayed else rng.exponential(2.0)
        committed = _floor_minute(reported.value - _days_ns(float(delay_days)))
        if address_id is not None:
            address = self._render_address(address_id)
            lsoa, lat, lon = address.lsoa11cd, address.latitude, address.longitude
            desc = f"On or near {address.line.split(', ')[0].split(' ', 1)[1]}"
        else:
            codes_, lats, lons = state.places.lsoa_point(rng, state.places.sample_lsoas(rng, 1))
            lsoa, lat, lon, desc = codes_[0], lats[0], lons[0], "On or near a public place"
        crime_ref = self._next_ref(force, "crime")
        outcome = "pending" if suspects else "no_suspect"
        occurrence = {
            "force_id": force, "crime_ref": crime_ref, "record_type": record_type, "ho_code": code,
            "committed_at": committed, "reported_at": reported, "lsoa11cd": lsoa,
            "latitude": float(lat), "longitude": float(lon), "location_desc": desc, "flag_domestic_abuse": bool(da),
            "flag_cse": code in ("71",), "outcome": outcome, "updated_at": reported,
        }
        occurrences.append(occurrence)
        rows = []
        for role, persons in (("suspect", suspects), ("victim", victims)):
            for pid in persons:
                nominal = self._nominal(rng, force, "rms", pid, pnc_recorded=0.6 if role == "suspect" else 0.05,
                                        dob_recorded=0.95, collector=collector,
                                        reuse=role == "suspect" or da or planned is not None)
                row = {"force_id": force, "crime_ref": crime_ref, "role": role,
                       **self._person_columns(rng, nominal, pid), "updated_at": reported}
                rows.append(row)
                collector.record_truth.append((force, "crime", crime_ref, nominal.person_ref, role, pid))
        if rng.random() < 0.12 and victims:
            witness = self._new_person(rng, force, (18, 75), 0.5)
            nominal = self._nominal(rng, force, "rms", witness, pnc_recorded=0.0, dob_recorded=0.8,
                                    collector=collector, reuse=False)
            rows.append({"force_id": force, "crime_ref": crime_ref, "role": "witness",
                         **self._person_columns(rng, nominal, witness), "updated_at": reported})
            collector.record_truth.append((force, "crime", crime_ref, nominal.person_ref, "witness", witness))
        people_rows.extend(rows)
        if planned is not None:
            collector.planted_crimes.append((force, crime_ref, planned.tag, planned.ho_code,
                                             ";".join(map(str, planned.suspects)), ";".join(map(str, planned.victims))))
        if suspects:
            resolve_in = int(rng.integers(1, 7))
            resolve_index = self.months.index(month) + resolve_in
            if resolve_index < len(self.months):
                state.pending_crimes.setdefault(self.months[resolve_index], []).append((occurrence, rows))
            arrest_p = 0.9 if (planned and planned.arrest) else (0.0 if planned else 0.33)
            if code != "NC" and rng.random() < arrest_p:
                arrests.append((suspects[0], code, crime_ref, reported))

    def _pick_offender(self, rng: np.random.Generator, force: str) -> int:
        neighbours = self.neighbours[force]
        source = force
        if neighbours and rng.random() < cal.CROSS_BORDER_SHARE:
            source = neighbours[int(rng.integers(0, len(neighbours)))]
        state = self.state[source]
        return int(state.offenders[_weighted_index(rng, state.offender_cumulative)])

    def _victim_for(self, rng: np.random.Generator, force: str, suspect: int | None, subgroup: str) -> int:
        """The victim: a domestic abuser's current partner (who may change), else a new person."""
        state = self.state[force]
        if suspect is not None:
            partner = state.partners.get(suspect)
            if partner is None or rng.random() < 0.12:
                partner = self._new_person(rng, force, (16, 60), 0.85 if self.people.col("sex")[suspect] == 0 else 0.2)
                state.partners[suspect] = partner
            return partner
        female = 0.85 if subgroup in cal.SEXUAL_SUBGROUPS else 0.45
        return self._new_person(rng, force, (10, 85), female)

    def _new_person(self, rng: np.random.Generator, force: str, ages: tuple[int, int], female: float) -> int:
        """A new person living in the force, taken from a batch created ahead (creating one at a
        time is slow); batches are keyed by the kind of person, so the draws stay deterministic."""
        key = (force, ages, female)
        batch = self.spare_people.get(key)
        if not batch:
            state = self.state[force]
            created = self.people.create(self._rng("spare", *key, len(self.people)), 512,
                                         home_force=state.places.force_index,
                                         home_addresses=state.places.address_ids(), age_range=ages,
                                         at=self.start_date, female_share=female, pnc_share=0.02)
            batch = self.spare_people[key] = [int(pid) for pid in created[::-1]]
        return batch.pop()

    def _custody(self, rng: np.random.Generator, force: str, month: str,
                 arrests: list[tuple[int, str, str, pd.Timestamp]], collector: "_Collector") -> pd.DataFrame:
        rows = []
        year = int(month[:4])
        state = self.state[force]
        for pid, code, crime_ref, reported in arrests:
            self.people.give_pnc(np.array([pid]), year)
            nominal = self._nominal(rng, force, "rms", pid, pnc_recorded=0.95, dob_recorded=1.0, collector=collector)
            person = self._person_columns(rng, nominal, pid)
            if person["pnc_id"] is None and rng.random() < 0.9:
                person["pnc_id"] = self.people.true_identity(pid)["pnc_id"]
            arrested = min(reported + pd.Timedelta(hours=float(rng.exponential(20))),
                           pd.Timestamp(month + "-01") + pd.offsets.MonthEnd(1) + pd.Timedelta(hours=23))
            custody_ref = self._next_ref(force, "custody")
            rows.append({
                "force_id": force, "custody_ref": custody_ref,
                "arrest_summons_no": f"{year % 100:02d}/{state.places.force_index:02d}/{int(custody_ref[-8:]):07d}",
                "arrested_at": arrested.floor("min"), "ho_code": code,
                "custody_suite": f"{force.replace('-', ' ').title()} Custody {1 + int(rng.integers(0, 3))}",
                "disposal": DISPOSALS.draw(rng), **person, "updated_at": arrested.floor("min"),
            })
            collector.record_truth.append((force, "custody", custody_ref, nominal.person_ref, "detained", pid))
        return _frame("custody", "records", rows)

    def _intelligence(self, rng: np.random.Generator, force: str, month: str, n_crimes: int,
                      collector: "_Collector") -> dict[str, pd.DataFrame]:
        start = pd.Timestamp(month + "-01")
        reports: list[dict] = []
        subjects: list[dict] = []
        legacy_share = 0.15 if self.months.index(month) < 12 else 0.02
        background = [PlannedIntel(force, month, [self._pick_offender(rng, force)
                                                   for _ in range(INTEL_SUBJECT_COUNT.draw(rng))],
                                   [], [], [], int(rng.integers(0, len(INTEL_THEMES))), "background")
                      for _ in range(int(round(n_crimes * cal.INTEL_REPORTS_PER_CRIME)))]
        for report in background + self.plan.intel.get((force, month), []):
            intel_ref = self._next_ref(force, "intel")
            created = _random_time(rng, start, start.days_in_month)
            lead = report.persons[0]
            home = self._render_address(int(self.people.col("home_address")[lead]))
            if rng.random() < legacy_share:
                grading = ("5x5x5", *(choice.draw(rng) for choice in LEGACY_GRADING))
            else:
                grading = ("3x5x2", *(choice.draw(rng) for choice in NATIONAL_GRADING))
            reports.append({"force_id": force, "intel_ref": intel_ref, "created_at": created,
                            "grading_scheme": grading[0], "source_evaluation": grading[1],
                            "intelligence_assessment": grading[2], "handling_code": grading[3],
                            "summary": INTEL_THEMES[report.theme].format(town=home.line.split(", ")[-1]),
                            "lsoa11cd": home.lsoa11cd, "updated_at": created})
            base = {key: None for key in contract.column_names("intelligence", "subjects")}
            for pid in dict.fromkeys(report.persons):
                nominal = self._nominal(rng, force, "rms", pid, pnc_recorded=0.4, dob_recorded=0.7, collector=collector)
                subjects.append({**base, "force_id": force, "intel_ref": intel_ref, "subject_type": "person",
                                 **self._person_columns(rng, nominal, pid), "updated_at": created})
                collector.record_truth.append((force, "intelligence", intel_ref, nominal.person_ref, "subject", pid))
            phones = list(report.phones)
            if report.tag == "background" and rng.random() < 0.3:
                phones.append(format_phone(int(self.people.col("phone")[lead])))
            vehicles = list(report.vehicles)
            if report.tag == "background" and rng.random() < 0.15:
                vehicles.append(self._vehicle_of(lead))
            addresses = [self._render_address(a).line for a in report.address_ids]
            for kind, values in (("phone", phones), ("vehicle", vehicles), ("address", addresses)):
                for value in dict.fromkeys(values):
                    subjects.append({**base, "force_id": force, "intel_ref": intel_ref, "subject_type": kind,
                                     "value": value, "updated_at": created})
        return {"reports": _frame("intelligence", "reports", reports),
                "subjects": _frame("intelligence", "subjects", subjects)}

    def _vehicle_of(self, pid: int) -> str:
        if pid not in self.group_vehicles:
            self.group_vehicles[pid] = vehicle_registration(self._rng("vehicle", pid), 2010 + pid % 14)
        return self.group_vehicles[pid]

    def _missing(self, rng: np.random.Generator, force: str, month: str, collector: "_Collector") -> pd.DataFrame:
        state = self.state[force]
        start = pd.Timestamp(month + "-01")
        month_end = start + pd.offsets.MonthEnd(1) + pd.Timedelta(hours=23, minutes=59)
        population = cal.force_population(force) * self.spec.scale
        per_year = population * cal.MISSING_EPISODES_PER_1000_PEOPLE_PER_YEAR / 1000
        month_index = self.months.index(month)
        n_episodes = int(cal.monthly_rate(per_year, self.months, force)[month_index])
        planned = self.plan.episodes.get((force, month), [])
        rows: list[dict] = []
        for i in range(max(0, n_episodes - len(planned))):
            if rng.random() < cal.MISSING_CHILD_SHARE:
                position = _weighted_index(rng, state.child_cumulative)
                pid, from_care, child = int(state.children[position]), bool(state.child_from_care[position]), True
            else:
                position = int(rng.integers(0, len(state.adults_missing)))  # rng.choice's draw, without its cost
                pid, from_care, child = int(state.adults_missing[position]), False, False
            found = int(state.places.sample_addresses(rng, 1)[0]) if rng.random() < 0.35 else None
            indicators = CHILD_INDICATORS.draw(rng) if child and rng.random() < 0.06 else None
            rows.append(self._episode(rng, force, month, pid, child, from_care, None, found, indicators, collector))
        for episode in planned:
            rows.append(self._episode(rng, force, month, episode.child, True, True, episode.adult,
                                      episode.found_address_id, episode.indicators, collector))
        out: list[dict] = []
        for row in rows:
            if row["returned_at"] is not None and row["returned_at"] > month_end:
                next_index = self.months.index(month) + 1
                final = dict(row)
                row["returned_at"] = None
                row["updated_at"] = row["went_missing_at"]
                row["return_interview_at"] = None
                for key in ("found_address", "found_postcode", "found_lsoa11cd", "found_with_forenames",
                            "found_with_surname", "found_with_date_of_birth", "found_with_phone"):
                    row[key] = None
                if next_index < len(self.months):
                    state.pending_episodes.setdefault(self.months[next_index], []).append(final)
            out.append(row)
        for final in state.pending_episodes.pop(month, []):
            final["updated_at"] = max(final["returned_at"], start) if final["returned_at"] is not None else start
            if final["updated_at"] > month_end:
                final["updated_at"] = month_end.floor("min")
            out.append(final)
        return _frame("missing", "episodes", out)

    def _episode(self, rng: np.random.Generator, force: str, month: str, pid: int, child: bool, from_care: bool,
                 adult: int | None, found_address_id: int | None, indicators: str | None,
                 collector: "_Collector") -> dict:
        start = pd.Timestamp(month + "-01")
        went = _random_time(rng, start, start.days_in_month)
        hours = float(rng.lognormal(np.log(18), 1.0))
        returned = (went + pd.Timedelta(hours=hours)).floor("min") if rng.random() > 0.002 else None
        nominal = self._nominal(rng, force, "mp", pid, pnc_recorded=0.3, dob_recorded=0.98, collector=collector)
        person = self._person_columns(rng, nominal, pid)
        risk = MISSING_RISK_EXPLOITED if (adult is not None or indicators) else (MISSING_RISK_CHILD if child else MISSING_RISK_ADULT)
        home = self._render_address(int(self.people.col("home_address")[pid]))
        found = self._render_address(found_address_id) if found_address_id is not None else None
        with_fields: dict[str, object] = {"found_with_forenames": None, "found_with_surname": None,
                                          "found_with_date_of_birth": None, "found_with_phone": None}
        if adult is not None:
            variant = render_nominal(rng, self.people, adult, "-", pnc_recorded=0, dob_recorded=0.3)
            with_fields = {"found_with_forenames": variant.forenames, "found_with_surname": variant.surname,
                           "found_with_date_of_birth": variant.date_of_birth,
                           "found_with_phone": format_phone(int(self.people.col("phone")[adult])) if rng.random() < 0.4 else None}
        interview = None
        if child and returned is not None:
            draw = rng.random()
            if draw < 0.63:
                interview = returned + pd.Timedelta(hours=float(rng.uniform(4, 72)))
            elif draw < 0.85:
                interview = returned + pd.Timedelta(days=float(rng.uniform(3, 20)))
        episode_ref = self._next_ref(force, "episode")
        collector.record_truth.append((force, "missing", episode_ref, nominal.person_ref, "missing_person", pid))
        if adult is not None:
            collector.record_truth.append((force, "missing", episode_ref, None, "found_with", adult))
        return {
            "force_id": force, "episode_ref": episode_ref, **person,
            "risk_grade": risk.draw(rng),
            "went_missing_at": went, "returned_at": returned, "from_care": from_care,
            "missing_from_postcode": home.postcode, "missing_from_lsoa11cd": home.lsoa11cd,
            "found_address": found.line if found else None, "found_postcode": found.postcode if found else None,
            "found_lsoa11cd": found.lsoa11cd if found else None, **with_fields,
            "exploitation_indicators": indicators, "return_interview_at": interview.floor("min") if interview is not None else None,
            "updated_at": (returned if returned is not None else went),
        }

    def _visor(self, rng: np.random.Generator, force: str, month: str, collector: "_Collector") -> pd.DataFrame:
        state = self.state[force]
        start = pd.Timestamp(month + "-01")
        rows = []
        first = month == self.months[0]
        if not first:
            for _ in range(int(rng.binomial(len(state.visor), cal.VISOR_MONTHLY_TURNOVER))):
                pid = self._new_person(rng, force, (21, 70), 0.03)
                self.people.give_pnc(np.array([pid]), int(month[:4]))
                state.visor.append(self._visor_nominal(rng, force, pid, "RSO", month, initial=False))
        for nominal_record in state.visor:
            new = nominal_record["first_month"] == month
            changed = not new and rng.random() < 0.01
            if not (new or changed):
                continue
            if changed:
                nominal_record["mappa_level"] = int(rng.choice([1, 2, 3], p=[0.9, 0.08, 0.02]))
                if rng.random() < 0.3:
                    orders = set(filter(None, str(nominal_record["civil_orders"] or "").split(";")))
                    orders.add("SHPO" if nominal_record["category"] == "RSO" else "SPO")
                    nominal_record["civil_orders"] = ";".join(sorted(orders))
            pid = int(nominal_record["person_id"])
            nominal = self._nominal(rng, force, "visor", pid, pnc_recorded=1.0, dob_recorded=1.0, collector=collector)
            updated = _random_time(rng, start, start.days_in_month)
            rows.append({"force_id": force, **self._person_columns(rng, nominal, pid),
                         **{k: v for k, v in nominal_record.items() if k not in ("person_id", "first_month")},
                         "updated_at": updated})
            collector.record_truth.append((force, "visor", str(nominal_record["visor_ref"]), nominal.person_ref,
                                           "nominal", pid))
        return _frame("visor", "nominals", rows)


class _Collector:
    """Gathers one force-month's frames and truth rows."""

    def __init__(self, force: str) -> None:
        self.force = force
        self.frames: dict[str, dict[str, pd.DataFrame]] = {}
        self.nominal_truth: list[tuple[str, str, int]] = []
        self.record_truth: list[tuple[str, str, str, str | None, str, int]] = []
        self.planted_crimes: list[tuple[str, str, str, str, str, str]] = []

    def finish(self) -> MonthRecords:
        return MonthRecords(
            self.frames,
            pd.DataFrame(self.nominal_truth, columns=["force_id", "person_ref", "person_id"]),
            pd.DataFrame(self.record_truth, columns=["force_id", "feed", "record_ref", "person_ref", "role", "person_id"]),
            pd.DataFrame(self.planted_crimes, columns=["force_id", "crime_ref", "tag", "ho_code", "suspect_ids",
                                                       "victim_ids"]),
        )


def _cumulative(weights: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(weights / weights.sum())
    cumulative[-1] = 1.0
    return cumulative


def _weighted_index(rng: np.random.Generator, cumulative: np.ndarray) -> int:
    """One weighted draw in O(log n) (``rng.choice`` with ``p`` is O(n) per call)."""
    return int(np.searchsorted(cumulative, rng.random(), side="right"))


def _random_time(rng: np.random.Generator, start: pd.Timestamp, days: int) -> pd.Timestamp:
    """A time in the ``days`` from ``start``, to the minute.

    In integer nanoseconds, because this runs for nearly every record and pandas' Timedelta and
    floor took a tenth of the synthesis. It is the same arithmetic as
    ``(start + pd.Timedelta(seconds=s)).floor("min")`` (pandas truncates float seconds to whole
    nanoseconds), so a seed still gives the world it gave before."""
    offset_ns = int(float(rng.uniform(0, days * 86400 - 60)) * 1_000_000_000)
    return _floor_minute(start.value + offset_ns)


NS_PER_MINUTE = 60_000_000_000


def _floor_minute(ns: int) -> pd.Timestamp:
    """The timestamp at ``ns`` nanoseconds since the epoch, floored to the minute."""
    return pd.Timestamp(ns - ns % NS_PER_MINUTE)


def _days_ns(days: float) -> int:
    """``pd.Timedelta(days=days).value``, computed as pandas computes it, without the object."""
    return int(days * 24 * 3600 * 1_000_000_000)


def _ref_prefix(force: str, namespace: str) -> str:
    """A record reference's fixed part: the namespace's letters and the force's initials."""
    letters = {"rms": "N", "mp": "MP", "visor": "VIS", "crime": "CR", "intel": "IR", "custody": "CU",
               "episode": "ME"}[namespace]
    return letters + "".join(part[0] for part in force.split("-")).upper()


def _frame(feed: str, entity: str, rows: list[dict]) -> pd.DataFrame:
    """Rows as a canonical frame: the contract's columns in order, typed."""
    columns: dict[str, pd.Series] = {}
    for fld in contract.fields(feed, entity):
        # Column by column from the dicts: a frame of the dicts first, then typed, cost twice as much.
        values = pd.Series([row.get(fld.name) for row in rows], dtype=object)
        if fld.dtype in ("timestamp", "date"):
            columns[fld.name] = pd.to_datetime(values).astype("datetime64[us]")
        elif fld.dtype == "bool":
            columns[fld.name] = values.astype("boolean")
        elif fld.dtype == "int":
            columns[fld.name] = pd.to_numeric(values).astype("Int64")
        elif fld.dtype == "float":
            columns[fld.name] = pd.to_numeric(values).astype("float64")
        else:
            columns[fld.name] = values.where(values.notna(), None)
    return pd.DataFrame(columns)


def _neighbours(forces: tuple[str, ...]) -> dict[str, list[str]]:
    """Each force's nearest three forces in the world, by distance between LSOA centroids."""
    centres = {}
    for force in forces:
        lsoas = reference.force_lsoas(force)
        centres[force] = (float(lsoas["latitude"].mean()), float(lsoas["longitude"].mean()))
    result = {}
    for force in forces:
        lat, lon = centres[force]
        others = sorted((f for f in forces if f != force),
                        key=lambda f: (centres[f][0] - lat) ** 2 + ((centres[f][1] - lon) * 0.62) ** 2)
        result[force] = others[:3]
    return result


def central_platform(world: World) -> dict[str, pd.DataFrame]:
    """The central platform as at the world's end: national nominals, OCG register, operations."""
    people = world.people
    has_pnc = np.flatnonzero(people.col("pnc_year") > 0)
    rng = world._rng("central")
    nominals = []
    for pid in has_pnc:
        true = people.true_identity(int(pid))
        address = world._render_address(int(people.col("home_address")[pid]))
        nominals.append({"nominal_ref": f"NAT{int(pid):09d}", "pnc_id": true["pnc_id"], "cro_number": true["cro_number"],
                         "forenames": true["forenames"], "surname": true["surname"],
                         "date_of_birth": true["date_of_birth"], "sex": true["sex"],
                         "ethnicity_self": true["ethnicity_self"], "last_known_postcode": address.postcode,
                         "pnc_created_year": int(people.col("pnc_year")[pid])})
    register, members, operations = [], [], []
    bands = ("1A", "1B", "1C", "2A", "2B", "2C", "3A", "3B", "3C")
    for group in world.plan.groups:
        if not group["registered"]:
            continue
        register.append({"ocg_ref": group["ocg_ref"], "lead_force": group["force_id"],
                         "threat_band": bands[int(rng.integers(0, len(bands)))],
                         "primary_activity": "drug supply", "status": "active",
                         "mapped_on": world_date(world.months[0]) - dt.timedelta(days=int(rng.integers(30, 700)))})
        for index, pid in enumerate(group["member_ids"]):
            if rng.random() < 0.85:  # registers are never complete
                true = people.true_identity(int(pid))
                members.append({"ocg_ref": group["ocg_ref"], "pnc_id": true["pnc_id"], "forenames": true["forenames"],
                                "surname": true["surname"], "date_of_birth": true["date_of_birth"],
                                "role": "principal" if index == 0 else "significant" if index < 3 else "peripheral"})
        if rng.random() < 0.5:
            operations.append({"operation": f"Operation {['Kestrel', 'Granite', 'Harrier', 'Lantern', 'Orchid'][int(rng.integers(0, 5))]} {int(rng.integers(1, 99))}",
                               "ocg_ref": group["ocg_ref"], "lead_force": group["force_id"],
                               "started_on": world_date(world.months[0]) - dt.timedelta(days=int(rng.integers(100, 900))),
                               "ended_on": None, "outcome": "ongoing"})
    return {
        "national_nominals": pd.DataFrame(nominals, columns=["nominal_ref", "pnc_id", "cro_number", "forenames", "surname",
                                                             "date_of_birth", "sex", "ethnicity_self",
                                                             "last_known_postcode", "pnc_created_year"]),
        "ocg_register": pd.DataFrame(register, columns=["ocg_ref", "lead_force", "threat_band", "primary_activity",
                                                        "status", "mapped_on"]),
        "ocg_members": pd.DataFrame(members, columns=["ocg_ref", "pnc_id", "forenames", "surname", "date_of_birth", "role"]),
        "prior_operations": pd.DataFrame(operations, columns=["operation", "ocg_ref", "lead_force", "started_on",
                                                              "ended_on", "outcome"]),
    }


def truth_tables(world: World) -> dict[str, pd.DataFrame]:
    """The planted truth and every true person (never read by the pipeline)."""
    people = world.people
    n = len(people)
    persons = pd.DataFrame({"person_id": np.arange(n), "sex": np.where(people.col("sex") == 1, "F", "M"),
                            "home_force": [world.spec.forces[i] for i in people.col("home_force")],
                            "date_of_birth": pd.to_datetime(people.col("dob"), unit="D"),
                            "has_pnc": people.col("pnc_year") > 0})
    serial = pd.DataFrame([{**s, "victim_ids": ";".join(map(str, s["victim_ids"])),
                            "victim_forces": ";".join(s["victim_forces"])} for s in world.plan.serial_perpetrators])
    network_rows = []
    for net in world.plan.networks:
        for pid in net["adult_ids"]:
            network_rows.append({"network_id": net["network_id"], "force_id": net["force_id"], "member_type": "adult",
                                 "person_id": pid, "address": None, "postcode": None, "lsoa11cd": None})
        for child in net["children"]:
            network_rows.append({"network_id": net["network_id"], "force_id": child["force_id"], "member_type": "child",
                                 "person_id": child["person_id"], "address": None, "postcode": None, "lsoa11cd": None})
        for loc in net["locations"]:
            network_rows.append({"network_id": net["network_id"], "force_id": loc["force_id"], "member_type": "location",
                                 "person_id": None, "address": loc["address"], "postcode": loc["postcode"],
                                 "lsoa11cd": loc["lsoa11cd"]})
    group_rows = []
    for group in world.plan.groups:
        for pid in group["member_ids"]:
            group_rows.append({"group_id": group["group_id"], "force_id": group["force_id"],
                               "registered": group["registered"], "ocg_ref": group["ocg_ref"], "person_id": pid,
                               "phones": ";".join(group["phones"]), "vehicles": ";".join(group["vehicles"]),
                               "addresses": " | ".join(group["addresses"])})
    return {
        "persons": persons,
        "serial_perpetrators": serial,
        "exploitation_networks": pd.DataFrame(network_rows),
        "groups": pd.DataFrame(group_rows),
        "visor_crossings": pd.DataFrame(world.plan.visor_crossings),
    }


def pnc_of(world: World, pid: int) -> str | None:
    """The true PNC ID of a person, if issued (used by tests)."""
    year = int(world.people.col("pnc_year")[pid])
    return format_pnc(year, int(world.people.col("pnc_serial")[pid])) if year else None
