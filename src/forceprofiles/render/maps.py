"""MSOA choropleths as deterministic SVG, from the ONS boundaries packaged with the project.

Why here and not a GIS library: the boundaries are small GeoJSON files already embedded in
``forceprofiles/reference_data`` and matplotlib draws polygons well enough; no network, no
tile server, nothing to fetch at render time. Shading is greyscale in quantile classes, with
the top places numbered so the map reads without colour and matches the table beside it.

The warehouse speaks 2011 MSOA codes and the boundaries are 2021: most MSOAs kept their code,
and the few that were split or merged are drawn hatched as "no 2011 match" rather than guessed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from matplotlib import rc_context
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from forceprofiles import reference
from forceprofiles.render.charts import RC, to_svg

SHADES = ("#f2f2f2", "#c8c8c8", "#969696", "#5a5a5a", "#1a1a1a")


@lru_cache(maxsize=16)
def force_msoa_shapes(force_id: str) -> tuple[tuple[str, str, tuple[tuple[tuple[float, float], ...], ...]], ...]:
    """(MSOA21CD, MSOA21NM, rings) for every MSOA in the force's local authorities."""
    lads = sorted(set(reference.force_lsoas(force_id)["lad19cd"]) & set(reference.msoa21_boundary_lads()))
    shapes = []
    for lad in lads:
        for feature in reference.msoa21_boundaries(lad)["features"]:
            props, geom = feature["properties"], feature["geometry"]
            polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
            rings = tuple(_thin(polygon[0]) for polygon in polygons)
            shapes.append((props["MSOA21CD"], props["MSOA21NM"], rings))
    return tuple(sorted(shapes))


def _thin(ring: Sequence[Sequence[float]], eps: float = 0.004) -> tuple[tuple[float, float], ...]:
    """Drop vertices closer than ``eps`` degrees (~400 m) to the last kept one: a force map is a
    few inches wide, so this loses nothing visible and keeps the SVG (and the PDF) small."""
    kept = [(float(ring[0][0]), float(ring[0][1]))]
    for x, y in ring[1:-1]:
        if abs(x - kept[-1][0]) > eps or abs(y - kept[-1][1]) > eps:
            kept.append((float(x), float(y)))
    kept.append((float(ring[-1][0]), float(ring[-1][1])))
    return tuple(kept) if len(kept) >= 4 else tuple((float(x), float(y)) for x, y in ring)


def _breaks(values: Sequence[float], classes: int = 5) -> list[float]:
    positive = sorted(v for v in values if v > 0)
    if not positive:
        return []
    cuts = [positive[min(len(positive) - 1, math.ceil(len(positive) * q / classes) - 1)] for q in range(1, classes)]
    return sorted(set(cuts))


def _shade(value: float, breaks: list[float]) -> str:
    if value <= 0:
        return "#ffffff"
    index = sum(1 for b in breaks if value > b)
    return SHADES[min(index, len(SHADES) - 1)]


def choropleth(force_id: str, values: Mapping[str, float], *, label: str, numbered: Sequence[str] = (),
               width: float = 6.5, height: float = 5.0) -> dict[str, Any]:
    """Shade the force's MSOAs by ``values`` (keyed by MSOA code); number the ``numbered`` ones.

    Returns ``{"svg", "matched", "unmatched_codes"}``: codes in ``values`` that have no boundary
    (a 2011 MSOA split or merged in 2021) are counted so the caption can say so.
    """
    shapes = force_msoa_shapes(force_id)
    codes = {code for code, _, _ in shapes}
    breaks = _breaks([float(v) for v in values.values()])
    with rc_context(RC):
        fig = Figure(figsize=(width, height))
        ax = fig.add_subplot()
        polys, faces, hatched = [], [], []
        lat0 = 52.0
        for code, _name, rings in shapes:
            lat0 = rings[0][0][1]
            break
        kx = math.cos(math.radians(lat0))
        for code, _name, rings in shapes:
            for ring in rings:
                polys.append([(x * kx, y) for x, y in ring])
                faces.append(_shade(float(values.get(code, 0) or 0), breaks))
                hatched.append(code)
        ax.add_collection(PolyCollection(polys, facecolors=faces, edgecolors="#444444", linewidths=0.25))
        centroids = {code: _centroid(rings, kx) for code, _n, rings in shapes}
        for i, code in enumerate(numbered, start=1):
            if code in centroids:
                x, y = centroids[code]
                ax.annotate(str(i), (x, y), ha="center", va="center", fontsize=6.5, fontweight="bold",
                            color="#000000", bbox={"boxstyle": "circle,pad=0.15", "fc": "#ffffff", "ec": "#000000",
                                                   "lw": 0.5})
        ax.autoscale_view()
        ax.set_aspect("equal")
        ax.set_axis_off()
        handles = [Patch(facecolor="#ffffff", edgecolor="#444444", label="none")]
        lower = 0.0
        for i, upper in enumerate([*breaks, max([0.0, *map(float, values.values())])]):
            if upper <= lower and i:
                continue
            handles.append(Patch(facecolor=SHADES[min(i, len(SHADES) - 1)], edgecolor="#444444",
                                 label=f"{lower:,.0f}–{upper:,.0f}"))
            lower = upper
        ax.legend(handles=handles, title=label, loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=7,
                  title_fontsize=7)
        svg = to_svg(fig)
    unmatched = sorted(c for c, v in values.items() if c not in codes and (v or 0) > 0)
    return {"svg": svg, "matched": len([c for c in values if c in codes]), "unmatched_codes": unmatched}


def _centroid(rings: tuple[tuple[tuple[float, float], ...], ...], kx: float) -> tuple[float, float]:
    """Centroid of the largest ring (shoelace), in the map's projected coordinates."""
    best = max(rings, key=lambda r: abs(_area(r)))
    area = _area(best)
    if not area:
        x, y = best[0]
        return x * kx, y
    cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(best, best[1:] + best[:1], strict=True):
        cross = x1 * y2 - x2 * y1
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    return cx / (6 * area) * kx, cy / (6 * area)


def _area(ring: tuple[tuple[float, float], ...]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True)) / 2
