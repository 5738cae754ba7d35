"""Charts as deterministic, greyscale-readable SVG strings (matplotlib, no pyplot state).

Why SVG: the PDF keeps charts as vectors (sharp at any zoom, small). Why deterministic: a
rerun or backfill of a month must give the same PDF bytes, so the SVG ids are salted with a
constant, the date is left out of the metadata, and text stays text (``svg.fonttype='none'``).
Why greyscale: products are printed on office printers; series differ by line style, marker
and hatch as well as by grey level, never by colour alone.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")

from matplotlib import rc_context  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

RC = {
    "svg.hashsalt": "forceprofiles",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.edgecolor": "#333333",
    "axes.linewidth": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.5,
    "legend.frameon": False,
    "path.simplify": True,
}
GREYS = ("#111111", "#666666", "#999999", "#444444", "#bbbbbb")
STYLES = ("-", "--", ":", "-.", (0, (5, 1, 1, 1)))
MARKERS = ("o", "s", "^", "D", "v")
HATCHES = ("", "////", "....", "xxxx", "\\\\\\\\")


def to_svg(fig: Figure) -> str:
    """Serialise a figure to SVG text with fixed ids and no date."""
    buffer = io.StringIO()
    with rc_context(RC):
        fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return buffer.getvalue()


def data_uri(svg: str) -> str:
    """An SVG as a base64 data: URI for an ``<img>`` (the fetcher serves only registered ones)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _figure(width: float, height: float) -> Figure:
    with rc_context(RC):
        return Figure(figsize=(width, height))


def line_chart(x_labels: Sequence[str], series: Mapping[str, Sequence[float]], *, ylabel: str,
               width: float = 7.0, height: float = 2.6, every: int = 3) -> str:
    """Lines over months: one per series, told apart by dash style and marker as well as grey."""
    with rc_context(RC):
        fig = _figure(width, height)
        ax = fig.add_subplot()
        xs = list(range(len(x_labels)))
        for i, (label, values) in enumerate(series.items()):
            ax.plot(xs, [float(v or 0) for v in values], label=label, color=GREYS[i % len(GREYS)],
                    linestyle=STYLES[i % len(STYLES)], marker=MARKERS[i % len(MARKERS)], markersize=2.5,
                    linewidth=1.2)
        ax.set_xticks(xs[::every], [x_labels[i] for i in xs[::every]], rotation=45, ha="right")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0)
        if len(series) > 1:
            ax.legend(loc="upper left", ncol=min(len(series), 4), fontsize=7)
        return to_svg(fig)


def bar_chart(labels: Sequence[str], series: Mapping[str, Sequence[float]], *, xlabel: str,
              width: float = 7.0, height: float | None = None, highlight: str | None = None,
              percent: bool = False) -> str:
    """Horizontal grouped bars (first label at the top); hatches tell series apart in grey.

    ``highlight`` draws that label's bars black (e.g. the force among its neighbours).
    """
    n = max(len(labels), 1)
    height = height or max(1.4, 0.28 * n * max(1, len(series)) ** 0.5 + 0.6)
    with rc_context(RC):
        fig = _figure(width, height)
        ax = fig.add_subplot()
        k = max(len(series), 1)
        bar = 0.8 / k
        ys = list(range(n))
        for i, (label, values) in enumerate(series.items()):
            offsets = [y - 0.4 + bar * (i + 0.5) for y in ys]
            colours = [("#000000" if labels[j] == highlight else GREYS[(i + 1) % len(GREYS)]) for j in ys]
            ax.barh(offsets, [float(v or 0) for v in values], height=bar, label=label, color=colours,
                    hatch=HATCHES[i % len(HATCHES)], edgecolor="#222222", linewidth=0.4)
        ax.set_yticks(ys, list(labels))
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.grid(axis="y", visible=False)
        if percent:
            ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:.0%}")
        if len(series) > 1:
            ax.legend(loc="lower right", fontsize=7)
        return to_svg(fig)
