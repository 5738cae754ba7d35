"""The VAWG products' template context: the force's threat picture and its ranked subjects.

Why separate from the templates: every figure and sentence is computed here from the marts
(and tested), and the templates only lay it out. Person-level rows are always filtered to the
product's own force (a force's tactical product never shows another force's subjects).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import duckdb

from forceprofiles import reference
from forceprofiles.render import charts, common, data, maps, narrative
from forceprofiles.render.narrative import fmt_days, fmt_int, fmt_pct, num, plural
from forceprofiles.render.options import options_for
from forceprofiles.render.products import Product

STRANDS = (("domestic_abuse_crimes", "Domestic abuse"), ("sexual_offences", "Sexual offences"),
           ("stalking_harassment", "Stalking and harassment"))


def month_end(month: str) -> dt.date:
    """The last day of the report month (recency and ages are measured to it)."""
    year, mon = (int(p) for p in month.split("-"))
    first_next = dt.date(year + (mon == 12), 1 if mon == 12 else mon + 1, 1)
    return first_next - dt.timedelta(days=1)


def previous_month(month: str) -> str:
    """'2026-01' -> '2025-12'."""
    year, mon = (int(p) for p in month.split("-"))
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def _chart(out: dict[str, Any], name: str, svg: str, alt: str) -> None:
    out[name] = {"uri": charts.data_uri(svg), "alt": alt}


def strategic(con: duckdb.DuckDBPyConnection, product: Product, month: str, force_id: str) -> dict[str, Any]:
    """Volumes, trend, offence mix by harm and count, places, victims, cross-force, comparison."""
    ctx = common.header(product, month, force_id)
    name = ctx["force"]["name"]
    figures: dict[str, Any] = {}
    summary = data.one(con, "select * from main.fct_vawg_force_summary where report_month = ? and force_id = ?",
                       [month, force_id])
    loaded = data.loaded_months(con, month, force_id, "crime")
    trend = data.since_first_loaded(data.for_force(con, "fct_vawg_force_month", month, force_id, "month"), loaded)
    months = [r["month"] for r in trend]
    common.title_trend_section(ctx, months)
    crimes = [num(r["vawg_crimes"]) for r in trend]
    last12, prev12 = sum(crimes[-12:]), sum(crimes[-24:-12])
    harm12 = sum(num(r["vawg_harm_days"]) for r in trend[-12:])
    this_month = crimes[-1] if crimes else 0
    same_month_last_year = crimes[-13] if len(crimes) >= 13 else 0
    gap = narrative.coverage_gap("Trend", loaded, months[-24:-12]) if len(months) >= 24 else "Trend: under 24 months."
    key_points = [
        f"{name} recorded {plural(this_month, 'VAWG crime')} in {ctx['month_label']}, and "
        f"{fmt_int(last12)} in the last 12 months, causing {fmt_days(harm12)} of harm.",
        gap or narrative.change("VAWG crimes", last12, prev12, "the previous 12 months"),
    ]
    if not gap:
        key_points.append(narrative.change(f"Crimes in {ctx['month_label']}", this_month, same_month_last_year,
                                           "the same month last year"))
    if crimes:
        _chart(figures, "trend", charts.line_chart(months, {"VAWG crimes": crimes} | {
            label: [num(r.get(col)) for r in trend] for col, label in STRANDS if trend and col in trend[0]},
            ylabel="crimes per month"), f"VAWG crimes per month, {months[0]} to {months[-1]}, by strand")
        _chart(figures, "harm_trend", charts.line_chart(months, {"harm days": [num(r["vawg_harm_days"]) for r in trend]},
                                                        ylabel="harm days per month", height=2.0),
               "Harm days per month")
    strand_rows = [{"label": label, "last12": sum(num(r.get(col)) for r in trend[-12:]),
                    "prev12": sum(num(r.get(col)) for r in trend[-24:-12])} for col, label in STRANDS]
    for row in strand_rows:
        row["sentence"] = (f"{row['label']}: {fmt_int(row['last12'])} crimes in the last 12 months." if gap else
                           narrative.change(row["label"], row["last12"], row["prev12"], "the previous 12 months"))

    mix = data.for_force(con, "fct_vawg_offence_mix", month, force_id, "harm_days_12m desc, crimes_12m desc, ho_code")
    mix_points = []
    if mix:
        top = mix[0]
        mix_points.append(f"{top['description']} ({top['ho_code']}) was {fmt_pct(top['share_of_count'])} of VAWG "
                          f"crimes but {fmt_pct(top['share_of_harm'])} of the harm.")
        by_count = max(mix, key=lambda r: (num(r["crimes_12m"]), r["ho_code"]))
        if by_count is not top:
            mix_points.append(f"The most frequent offence, {by_count['description']} ({by_count['ho_code']}), was "
                              f"{fmt_pct(by_count['share_of_count'])} of crimes and {fmt_pct(by_count['share_of_harm'])}"
                              " of the harm.")
        shown = mix[:12]
        _chart(figures, "mix", charts.bar_chart([f"{r['ho_code']} {str(r['description'])[:38]}" for r in shown],
                                                {"share of crimes": [num(r["share_of_count"]) for r in shown],
                                                 "share of harm": [num(r["share_of_harm"]) for r in shown]},
                                                xlabel="share of the force's VAWG (last 12 months)", percent=True),
               "Offence mix: share of crimes and of harm for the offences with most harm")

    top_n = int(product.setting("top_places", 10))
    msoas = data.for_force(con, "fct_vawg_harm_by_msoa", month, force_id, "harm_days_12m desc, crimes_12m desc, msoa11cd")
    total_harm = sum(num(r["harm_days_12m"]) for r in msoas)
    top_msoas = msoas[:top_n]
    places_points = []
    if total_harm > 0:
        top_harm = sum(num(r["harm_days_12m"]) for r in top_msoas)
        places_points.append(f"The {len(top_msoas)} neighbourhoods (MSOAs) with most harm hold "
                             f"{fmt_pct(top_harm / total_harm)} of the force's VAWG harm, from "
                             f"{len(msoas)} neighbourhoods with any.")
    drawn = maps.choropleth(force_id, {r["msoa11cd"]: num(r["harm_days_12m"]) for r in msoas},
                            label="harm days, 12 months", numbered=[r["msoa11cd"] for r in top_msoas])
    _chart(figures, "map", drawn["svg"], "Map of VAWG harm days by neighbourhood (MSOA); the top places are numbered")
    if drawn["unmatched_codes"]:
        places_points.append(f"{len(drawn['unmatched_codes'])} neighbourhoods changed boundary in 2021 and are "
                             "listed but not drawn.")
    repeat_locations = data.for_force(con, "fct_vawg_repeat_locations", month, force_id, "rank")[:top_n]

    victims = data.one(con, """
        select count(*) as victims, count(*) filter (where is_repeat_victim) as repeat_victims,
               count(*) filter (where is_high_harm_victim) as high_harm_victims,
               coalesce(sum(harm_days), 0) as harm_days,
               coalesce(sum(harm_days) filter (where is_repeat_victim), 0) as repeat_harm
        from main.fct_vawg_victims where report_month = ? and force_id = ?""", [month, force_id])
    victim_points = [f"{plural(victims.get('victims'), 'victim')} in the scoring window; "
                     f"{fmt_int(victims.get('repeat_victims'))} were repeat victims and "
                     f"{fmt_int(victims.get('high_harm_victims'))} high-harm victims."]
    if num(victims.get("harm_days")) > 0:
        victim_points.append(f"Repeat victims suffered {fmt_pct(num(victims['repeat_harm']) / num(victims['harm_days']))}"
                             " of the harm to victims.")

    subjects = data.rows(con, """
        select forces_offended, is_cross_force from main.fct_vawg_subjects
        where report_month = ? and force_id = ?""", [month, force_id])
    other = Counter(f for s in subjects for f in str(s["forces_offended"] or "").split(";")
                    if f.strip() and f.strip() != force_id)
    cross = sum(1 for s in subjects if s["is_cross_force"])
    cross_points = [f"{plural(cross, 'perpetrator')} of {fmt_int(len(subjects))} "
                    f"({fmt_pct(cross / len(subjects)) if subjects else '0%'}) also offended in another force."]
    if other:
        cross_points.append("Most shared with: " + ", ".join(
            f"{common.force_name(f)} ({n})" for f, n in sorted(other.items(), key=lambda kv: (-kv[1], kv[0]))[:4]) + ".")

    comparison = _comparison(con, month, force_id)
    if comparison:
        labels = [r["name"] for r in comparison]
        _chart(figures, "comparison", charts.bar_chart(labels, {"harm days per 1,000 people (12 months)":
                                                                [r["harm_per_1000"] for r in comparison]},
                                                       xlabel="harm days per 1,000 residents", highlight=name),
               "VAWG harm per 1,000 residents in each force, this force in black")
    me = next((r for r in comparison if r["force_id"] == force_id), None)
    comparison_points = []
    if me:
        position = sorted(comparison, key=lambda r: -r["harm_per_1000"]).index(me) + 1
        comparison_points.append(f"{name} has the {narrative.ordinal(position)} highest VAWG harm per 1,000 "
                                 f"residents of {len(comparison)} forces ({me['harm_per_1000']:.1f} harm days).")

    public = police_uk(force_id, month)
    if public:
        figures["police_uk"] = public.pop("figure")
    ctx.update({
        "summary": summary, "key_points": key_points, "strands": strand_rows, "mix": mix, "mix_points": mix_points,
        "top_msoas": top_msoas, "places_points": places_points, "repeat_locations": repeat_locations,
        "victims": victims, "victim_points": victim_points, "cross_points": cross_points,
        "comparison": comparison, "comparison_points": comparison_points,
        "police_uk": public, "figures": figures,
        "data_quality": common.data_quality(con, month, force_id),
        "methodology": common.methodology(con, product, month, force_id),
    })
    return ctx


def _comparison(con: duckdb.DuckDBPyConnection, month: str, force_id: str) -> list[dict[str, Any]]:
    out = []
    for r in data.for_month(con, "fct_vawg_force_summary", month, "force_id"):
        population = common.force_population(r["force_id"]) or 0
        out.append({"force_id": r["force_id"], "name": common.force_name(r["force_id"]),
                    "crimes_12m": num(r["crimes_12m"]), "harm_days_12m": num(r["harm_days_12m"]),
                    "per_1000": 1000 * num(r["crimes_12m"]) / population if population else 0.0,
                    "harm_per_1000": 1000 * num(r["harm_days_12m"]) / population if population else 0.0,
                    "trend_pct": r.get("trend_pct"), "cross_force_subject_share": r.get("cross_force_subject_share"),
                    "is_self": r["force_id"] == force_id})
    return out


def police_uk(force_id: str, month: str) -> dict[str, Any] | None:
    """The public police.uk picture for forces whose data is packaged (Bedfordshire, Hertfordshire)."""
    try:
        months = reference.police_uk_months(force_id)
    except ValueError:
        return None
    if not months:
        return None
    street = reference.police_uk_street(force_id)
    latest = months[-12:]
    recent = street[street["month"].isin(latest)]
    by_type = recent.groupby("crime_type").size().sort_values(ascending=False)
    vso = recent[recent["crime_type"] == "Violence and sexual offences"].groupby("month").size()
    rows = [{"crime_type": str(k), "count": int(v), "share": int(v) / max(len(recent), 1)} for k, v in by_type.items()]
    series = [int(vso.get(m, 0)) for m in latest]
    figure = {"uri": charts.data_uri(charts.line_chart(latest, {"violence and sexual offences": series},
                                                       ylabel="crimes per month", height=2.0, every=1)),
              "alt": "police.uk violence and sexual offences per month"}
    total_vso = sum(series)
    return {"months": f"{latest[0]} to {latest[-1]}", "total": len(recent), "rows": rows, "figure": figure,
            "sentence": f"police.uk published {fmt_int(len(recent))} crimes for the force from {latest[0]} to "
                        f"{latest[-1]}; {fmt_int(total_vso)} ({fmt_pct(total_vso / max(len(recent), 1))}) were "
                        "violence and sexual offences, the category that holds most VAWG.",
            "stale": latest[-1] < month}


def tactical(con: duckdb.DuckDBPyConnection, product: Product, month: str, force_id: str) -> dict[str, Any]:
    """The ranked subjects with score cards, reasons, movement and the options open to the team."""
    ctx = common.header(product, month, force_id)
    size = int(product.list_size or 25)
    listed = data.for_force(con, "fct_vawg_subjects", month, force_id, "rank, person_key", limit=size)
    scored = int(con.execute("select count(*) from main.fct_vawg_subjects where report_month = ? and force_id = ?",
                             [month, force_id]).fetchone()[0])
    keys = [s["person_key"] for s in listed]
    cards = data.where_in(con, "fct_vawg_score_cards", month, force_id, "person_key", keys,
                          "person_key, points desc, item_at desc nulls last, item_id")
    by_key: dict[str, list[dict[str, Any]]] = {}
    for card in cards:
        by_key.setdefault(card["person_key"], []).append(card)
    end = month_end(month)
    per_card = int(product.setting("score_card_items", 6))
    subjects = []
    for s in listed:
        items = by_key.get(s["person_key"], [])
        record = dict(s)
        record["ho_codes"] = sorted({str(i["ho_code"]) for i in items if i.get("ho_code")})
        last = s.get("last_offence_at")
        record["days_since_last_offence"] = (end - _date(last)).days if last else None
        record["age"] = _age(s.get("date_of_birth"), end)
        record["forces_named"] = ", ".join(common.force_name(f) for f in str(s.get("forces_offended") or "").split(";")
                                           if f.strip())
        record["options"] = options_for(record, product.options, "subject")
        record["items"] = items[:per_card]
        record["items_more"] = len(items) - len(record["items"])
        record["items_more_points"] = sum(num(i.get("points")) for i in items[per_card:])
        subjects.append(record)
    movement = Counter(str(s.get("rank_change") or "new") for s in listed)
    previous = data.rows(con, """select person_key from main.fct_vawg_subjects
                                 where report_month = ? and force_id = ? and rank <= ?""",
                         [previous_month(month), force_id, size])
    left = len({p["person_key"] for p in previous} - set(keys))
    key_points = [
        f"{plural(scored, 'person')} scored as VAWG suspects in {ctx['force']['name']}; the {len(listed)} "
        "highest-harm are listed.",
        narrative.rank_movement(dict(movement), left),
        f"{plural(sum(1 for s in listed if s.get('is_serial_perpetrator')), 'listed subject')} meet the serial "
        f"perpetrator definition; {fmt_int(sum(1 for s in listed if s.get('is_cross_force')))} offended in another "
        f"force; {fmt_int(sum(1 for s in listed if s.get('visor_status')))} are ViSOR nominals.",
    ]
    ctx.update({"subjects": subjects, "scored": scored, "list_size": size, "key_points": key_points,
                "movement": dict(movement), "left": left, "figures": {},
                "data_quality": common.data_quality(con, month, force_id),
                "methodology": common.methodology(con, product, month, force_id)})
    return ctx


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _age(dob: Any, at: dt.date) -> int | None:
    if not dob:
        return None
    try:
        born = _date(dob)
    except ValueError:
        return None
    return at.year - born.year - ((at.month, at.day) < (born.month, born.day))
