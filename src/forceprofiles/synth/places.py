"""Real places for synthetic events: each force's real LSOAs, with made-up addresses in them.

Events sit at the population-weighted centroid of a real 2011 LSOA inside the force area,
jittered by a few hundred metres, so maps and MSOA aggregates are real geography. Crime
concentrates: a few LSOAs (town centres, estates) and a few addresses in them carry a large
share of it, which is what makes "repeat locations" a finding. Addresses and postcodes are
invented (house number, a common street name, the LSOA's district) but stable: address
number k of a force always renders the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forceprofiles import reference
from forceprofiles.synth.people import POSTCODE_LETTERS, STREET_KINDS, STREET_STEMS, Address

ADDRESSES_PER_LSOA = 60
ADDRESS_ID_STRIDE = 10_000_000  # global address id = force index * stride + local index


@dataclass
class ForcePlaces:
    """One force's geography: its LSOAs, their crime concentration and its address book."""

    force_id: str
    force_index: int
    lsoas: pd.DataFrame
    lsoa_weights: np.ndarray
    postcode_area: str
    _codes: np.ndarray = field(init=False, repr=False)
    _towns: np.ndarray = field(init=False, repr=False)
    _lat: np.ndarray = field(init=False, repr=False)
    _lon: np.ndarray = field(init=False, repr=False)
    _cumulative: np.ndarray = field(init=False, repr=False)
    _rendered: dict[int, Address] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        # Plain arrays: row access on a DataFrame costs microseconds, and this runs per record.
        self._codes = self.lsoas["lsoa11cd"].to_numpy(dtype=object)
        self._towns = self.lsoas["lad19nm"].to_numpy(dtype=object)
        self._lat = self.lsoas["latitude"].to_numpy(dtype=float)
        self._lon = self.lsoas["longitude"].to_numpy(dtype=float)
        self._cumulative = np.cumsum(self.lsoa_weights)
        self._cumulative[-1] = 1.0

    @property
    def n_addresses(self) -> int:
        return len(self.lsoas) * ADDRESSES_PER_LSOA

    def address_ids(self) -> np.ndarray:
        """Every address id of the force."""
        return self.force_index * ADDRESS_ID_STRIDE + np.arange(self.n_addresses, dtype=np.int64)

    def sample_lsoas(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """LSOA positions drawn with the force's concentration of crime."""
        return np.searchsorted(self._cumulative, rng.random(n), side="right")

    def sample_addresses(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Address ids in concentrated LSOAs, a few addresses per LSOA being much busier."""
        lsoa_pos = self.sample_lsoas(rng, n)
        within = np.minimum((rng.pareto(1.2, n) * 3).astype(np.int64), ADDRESSES_PER_LSOA - 1)
        return self.force_index * ADDRESS_ID_STRIDE + lsoa_pos * ADDRESSES_PER_LSOA + within

    def address(self, address_id: int) -> Address:
        """Render one address of this force (cached: the same id always renders the same)."""
        cached = self._rendered.get(int(address_id))
        if cached is not None:
            return cached
        local = int(address_id) - self.force_index * ADDRESS_ID_STRIDE
        lsoa_pos, number = divmod(local, ADDRESSES_PER_LSOA)
        digest = hashlib.blake2b(f"{self.force_id}:{lsoa_pos}".encode(), digest_size=8).digest()
        street = f"{STREET_STEMS[digest[0] % len(STREET_STEMS)]} {STREET_KINDS[digest[1] % len(STREET_KINDS)]}"
        town = str(self._towns[lsoa_pos])
        district = 1 + digest[2] % 29
        sector = number % 10
        unit = POSTCODE_LETTERS[digest[3] % 20] + POSTCODE_LETTERS[(digest[4] + number // 10) % 20]
        postcode = f"{self.postcode_area}{district} {sector}{unit}"
        address = Address(f"{number + 1} {street}, {town}", postcode, str(self._codes[lsoa_pos]),
                          float(self._lat[lsoa_pos]), float(self._lon[lsoa_pos]))
        self._rendered[int(address_id)] = address
        return address

    def lsoa_point(self, rng: np.random.Generator, lsoa_pos: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """LSOA codes and jittered coordinates (about 300 m) for LSOA positions."""
        lat = self._lat[lsoa_pos] + rng.normal(0, 0.0027, len(lsoa_pos))
        lon = self._lon[lsoa_pos] + rng.normal(0, 0.0040, len(lsoa_pos))
        return self._codes[lsoa_pos], np.round(lat, 6), np.round(lon, 6)


def force_places(force_id: str, force_index: int, seed: int) -> ForcePlaces:
    """Build one force's geography from the real LSOA list, with a seeded concentration."""
    lsoas = reference.force_lsoas(force_id).sort_values("lsoa11cd").reset_index(drop=True)
    rng = np.random.default_rng([seed, force_index, 7])
    # Crime concentration: a shuffled Zipf-like weight per LSOA (the busiest LSOAs carry many
    # times the median), as police.uk street data shows.
    ranks = rng.permutation(len(lsoas)) + 1
    weights = 1.0 / ranks ** 0.55
    return ForcePlaces(force_id, force_index, lsoas, weights / weights.sum(), postcode_area(force_id))


def postcode_area(force_id: str) -> str:
    """A plausible postcode area for the force (real areas for the nine forces)."""
    known = {
        "norfolk": "NR", "suffolk": "IP", "essex": "CM", "kent": "ME", "hertfordshire": "AL",
        "bedfordshire": "LU", "cambridgeshire": "CB", "warwickshire": "CV", "west-mercia": "WR",
    }
    if force_id in known:
        return known[force_id]
    letters = [ch for ch in force_id.upper() if ch.isalpha()]
    return (letters[0] + letters[-1]) if len(letters) > 1 else "ZZ"
