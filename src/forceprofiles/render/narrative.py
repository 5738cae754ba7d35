"""Short sentences computed from the data, so a product reads like an analyst wrote it.

Why: a table of numbers asks the reader to do the analysis; a sentence such as "VAWG crimes
rose 12% on the previous 12 months (512 against 457)" does it for them. Every sentence here is
a pure function of figures passed in, so it can be tested and it never invents a trend: small
or missing bases are said plainly instead of turned into percentages.
"""

from __future__ import annotations

import calendar
from typing import Any

MIN_BASE = 5  # below this a percentage change is noise: give the counts instead


def num(value: Any) -> float:
    """A figure as a float (None, NaN and blanks are 0)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if number != number else number


def fmt_int(value: Any) -> str:
    """12,345."""
    return f"{round(num(value)):,}"


def fmt_pct(value: Any, digits: int = 0) -> str:
    """A share (0.123) as '12%'."""
    return f"{num(value) * 100:.{digits}f}%"


def fmt_days(value: Any) -> str:
    """Harm days, rounded: '1,234 harm days'."""
    return f"{fmt_int(value)} harm day{'s' if round(num(value)) != 1 else ''}"


def month_label(month: str) -> str:
    """'2026-10' -> 'October 2026'."""
    year, mon = month.split("-")
    return f"{calendar.month_name[int(mon)]} {year}"


def plural(n: Any, word: str, plural_word: str | None = None) -> str:
    """'1 subject', '3 subjects'."""
    count = round(num(n))
    return f"{count:,} {word if count == 1 else (plural_word or word + 's')}"


def change(label: str, current: Any, previous: Any, against: str) -> str:
    """'VAWG crimes rose 12% on the previous 12 months (512 against 457).'"""
    cur, prev = num(current), num(previous)
    figures = f"({fmt_int(cur)} against {fmt_int(prev)})"
    if prev < MIN_BASE:
        return f"{label}: {fmt_int(cur)}, against {fmt_int(prev)} in {against} (too few for a rate of change)."
    pct = (cur - prev) / prev
    if abs(pct) < 0.005:
        return f"{label} were unchanged on {against} {figures}."
    verb = "rose" if pct > 0 else "fell"
    return f"{label} {verb} {abs(pct):.0%} on {against} {figures}."


def coverage_gap(label: str, loaded: set[str], needed: list[str]) -> str | None:
    """None when every needed month is loaded, else a sentence saying why no comparison is made."""
    missing = [m for m in needed if m not in loaded]
    if not missing:
        return None
    first = min(loaded) if loaded else None
    held = f"records from {month_label(first)}" if first else "no records"
    return (f"{label}: the warehouse holds {held} only, so no comparison with {month_label(needed[0])} to "
            f"{month_label(needed[-1])} is made (a longer history gives one).")


def trend_pct_sentence(label: str, trend_pct: Any) -> str:
    """A ready-made 12-month trend (a fraction: 0.12 = +12%) as a sentence."""
    if trend_pct is None or num(trend_pct) != num(trend_pct):
        return f"{label}: no trend (less than two years of records)."
    pct = num(trend_pct)
    if abs(pct) < 0.005:
        return f"{label} were unchanged on the previous 12 months."
    return f"{label} {'rose' if pct > 0 else 'fell'} {abs(pct):.0%} on the previous 12 months."


def share_sentence(part: Any, whole: Any, what: str, of_what: str) -> str:
    """'38% of harm (1,234 of 3,210 harm days) came from rape.'"""
    whole_n = num(whole)
    if whole_n <= 0:
        return f"No {of_what} were recorded."
    return f"{fmt_pct(num(part) / whole_n)} of {of_what} {what}."


def rank_movement(changes: dict[str, int], left: int) -> str:
    """'4 new to the list, 3 moved up, 2 down, 16 unchanged; 4 left the list since last month.'"""
    parts = [f"{changes.get('new', 0):,} new to the list", f"{changes.get('up', 0):,} moved up",
             f"{changes.get('down', 0):,} down", f"{changes.get('same', 0):,} unchanged"]
    return f"{', '.join(parts)}; {plural(left, 'subject')} left the list since last month."


def ordinal(n: Any) -> str:
    """1 -> '1st', 12 -> '12th', 23 -> '23rd'."""
    r = round(num(n))
    suffix = "th" if 10 <= r % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(r % 10, "th")
    return f"{r}{suffix}"


def rank_position(rank: Any, of: Any, force_name: str) -> str:
    """'ranked 3rd of 41 in Kent Police'."""
    return f"ranked {ordinal(rank)} of {round(num(of)):,} in {force_name}"
