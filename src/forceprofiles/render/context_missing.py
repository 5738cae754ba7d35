"""The missing-persons products' template context: the picture, and who and where to act on.

Why separate from the templates: figures and sentences are computed (and tested) here. Names
of children and adults appear only for the product's own force; links into other forces are
counted per force, never named, so need-to-know holds across borders.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import duckdb

from forceprofiles.render import charts, common, data, maps, narrative
from forceprofiles.render.context_vawg import _age, _chart, month_end
from forceprofiles.render.narrative import fmt_int, fmt_pct, num, plural
from forceprofiles.render.options import options_for
from forceprofiles.render.products import Product

RISKS = (("high_risk_episodes", "High"), ("medium_risk_episodes", "Medium"), ("low_risk_episodes", "Low"),
         ("no_apparent_risk_episodes", "No apparent risk"))


def _split(value: Any) -> list[str]:
    return [p.strip() for p in str(value or "").split(";") if p.strip()]


def strategic(con: duckdb.DuckDBPyConnection, product: Product, month: str, force_id: str) -> dict[str, Any]:
    """Episodes, people, children, care, risk, repeat, places, exploitation, cross-force, trend."""
    ctx = common.header(product, month, force_id)
    name = ctx["force"]["name"]
    figures: dict[str, Any] = {}
    summary = data.one(con, "select * from main.fct_missing_force_summary where report_month = ? and force_id = ?",
                       [month, force_id])
    loaded = data.loaded_months(con, month, force_id, "missing")
    trend = data.since_first_loaded(data.for_force(con, "fct_missing_force_month", month, force_id, "month"), loaded)
    months = [r["month"] for r in trend]
    common.title_trend_section(ctx, months)
    episodes = [num(r["episodes"]) for r in trend]
    last12, prev12 = sum(episodes[-12:]), sum(episodes[-24:-12])
    key_points = [
        f"{name} recorded {plural(episodes[-1] if episodes else 0, 'missing episode')} in {ctx['month_label']}, "
        f"and {fmt_int(last12)} in the last 12 months involving {plural(summary.get('people_12m'), 'person', 'people')}, "
        f"{fmt_int(summary.get('children_12m'))} of them children.",
        (narrative.coverage_gap("Trend", loaded, months[-24:-12])
         if len(months) >= 24 else "Trend: under 24 months.")
        or narrative.change("Missing episodes", last12, prev12, "the previous 12 months"),
        f"{fmt_pct(summary.get('from_care_share'))} of episodes were from care; "
        f"{plural(summary.get('repeat_missing_children'), 'child', 'children')} were repeat missing.",
    ]
    if summary.get("return_interview_within_72h_share") is not None:
        key_points.append(f"{fmt_pct(summary['return_interview_within_72h_share'])} of return home interviews due were "
                          "held within 72 hours (63% nationally in 2023/24, Missing People).")
    if trend:
        _chart(figures, "trend", charts.line_chart(months, {
            "episodes": episodes, "children": [num(r["children"]) for r in trend],
            "from care": [num(r["from_care_episodes"]) for r in trend],
            "high risk": [num(r["high_risk_episodes"]) for r in trend]}, ylabel="per month"),
            f"Missing episodes, children, from-care and high-risk episodes per month, {months[0]} to {months[-1]}")
    risks = [{"label": label, "episodes": num(summary.get(col))} for col, label in RISKS]
    total_risk = sum(r["episodes"] for r in risks)
    for r in risks:
        r["share"] = r["episodes"] / total_risk if total_risk else 0.0
    risk_points = [f"{fmt_pct(risks[0]['share'])} of episodes in the last 12 months were graded high risk and "
                   f"{fmt_pct(risks[1]['share'])} medium risk."] if total_risk else ["No risk grades recorded."]
    if total_risk:
        _chart(figures, "risk", charts.bar_chart([r["label"] for r in risks], {"episodes": [r["episodes"] for r in risks]},
                                                 xlabel="episodes, last 12 months", height=1.5),
               "Missing episodes by risk grade, last 12 months")

    top_n = int(product.setting("top_places", 10))
    from_places = data.missing_episode_places(con, month, force_id)
    drawn = maps.choropleth(force_id, {r["msoa11cd"]: num(r["episodes"]) for r in from_places},
                            label="episodes, 12 months", numbered=[r["msoa11cd"] for r in from_places[:top_n]])
    _chart(figures, "map", drawn["svg"], "Map of missing episodes by the neighbourhood (MSOA) gone missing from")
    found = data.rows(con, """
        select l.msoa11cd, any_value(l.msoa11nm) as msoa11nm, sum(c.children) as children, sum(c.episodes) as episodes
        from main.fct_missing_locations_of_concern c join main.int_locations l using (lsoa11cd)
        where c.report_month = ? and c.force_id = ?
        group by l.msoa11cd order by episodes desc, children desc, l.msoa11cd limit ?""", [month, force_id, top_n])
    total_from = sum(num(r["episodes"]) for r in from_places)
    places_points = []
    if total_from:
        places_points.append(f"The {min(top_n, len(from_places))} neighbourhoods most gone missing from account for "
                             f"{fmt_pct(sum(num(r['episodes']) for r in from_places[:top_n]) / total_from)} of episodes.")

    children = data.rows(con, """select exploitation_indicators, forces_missing_from, is_repeat_missing, is_from_care
                                 from main.fct_missing_children_at_risk where report_month = ? and force_id = ?""",
                         [month, force_id])
    indicators = Counter(i for c in children for i in _split(c["exploitation_indicators"]))
    indicator_rows = [{"indicator": k.replace("_", " "), "children": v}
                      for k, v in sorted(indicators.items(), key=lambda kv: (-kv[1], kv[0]))]
    with_any = sum(1 for c in children if _split(c["exploitation_indicators"]))
    exploitation_points = [f"{plural(with_any, 'child', 'children')} of {fmt_int(len(children))} at risk had "
                           "exploitation indicators recorded"
                           + (f", most often {indicator_rows[0]['indicator']}." if indicator_rows else ".")]
    other = Counter(f for c in children for f in _split(c["forces_missing_from"]) if f != force_id)
    cross_points = [f"{plural(summary.get('cross_force_children'), 'child', 'children')} went missing in more than "
                    "one force."]
    if other:
        cross_points.append("Also missing from: " + ", ".join(
            f"{common.force_name(f)} ({n})" for f, n in sorted(other.items(), key=lambda kv: (-kv[1], kv[0]))[:4]) + ".")

    comparison = []
    for r in data.for_month(con, "fct_missing_force_summary", month, "force_id"):
        population = common.force_population(r["force_id"]) or 0
        comparison.append({"force_id": r["force_id"], "name": common.force_name(r["force_id"]),
                           "episodes_12m": num(r["episodes_12m"]), "children_12m": num(r["children_12m"]),
                           "per_1000": 1000 * num(r["episodes_12m"]) / population if population else 0.0,
                           "from_care_share": r.get("from_care_share"),
                           "repeat_missing_children": num(r.get("repeat_missing_children")),
                           "is_self": r["force_id"] == force_id})
    if comparison:
        _chart(figures, "comparison", charts.bar_chart([r["name"] for r in comparison],
                                                       {"episodes per 1,000": [r["per_1000"] for r in comparison]},
                                                       xlabel="missing episodes per 1,000 residents, 12 months",
                                                       highlight=name),
               "Missing episodes per 1,000 residents in each force, this force in black")
    ctx.update({
        "summary": summary, "key_points": key_points, "risks": risks, "risk_points": risk_points,
        "from_places": from_places[:top_n], "found_places": found, "places_points": places_points,
        "indicators": indicator_rows, "exploitation_points": exploitation_points, "cross_points": cross_points,
        "comparison": comparison, "figures": figures,
        "data_quality": common.data_quality(con, month, force_id),
        "methodology": common.methodology(con, product, month, force_id),
    })
    return ctx


def tactical(con: duckdb.DuckDBPyConnection, product: Product, month: str, force_id: str) -> dict[str, Any]:
    """Children at greatest risk, persons of concern, locations, OCG candidates, and options."""
    ctx = common.header(product, month, force_id)
    end = month_end(month)
    size = int(product.list_size or 25)
    children = data.for_force(con, "fct_missing_children_at_risk", month, force_id, "rank, person_key", limit=size)
    for c in children:
        c["age"] = _age(c.get("date_of_birth"), end)
        c["options"] = options_for(c, product.options, "child")
    known_children = {c["person_key"]: c for c in data.for_force(con, "fct_missing_children_at_risk", month,
                                                                 force_id, "rank, person_key")}
    pocs = data.for_force(con, "fct_missing_persons_of_concern", month, force_id, "rank, person_key",
                          limit=int(product.setting("persons_of_concern_size", 15)))
    links = data.where_in(con, "fct_missing_poc_links", month, None, "poc_person_key", [p["person_key"] for p in pocs],
                          "poc_person_key, force_id, child_person_key, evidence_type, linked_at, source_ref")
    for p in pocs:
        mine = [lk for lk in links if lk["poc_person_key"] == p["person_key"]]
        in_force = sorted({lk["child_person_key"] for lk in mine if lk["force_id"] == force_id})
        p["children_in_force"] = [{"name": _name(known_children.get(k)), "evidence": sorted(
            {lk["evidence_type"] for lk in mine if lk["child_person_key"] == k and lk["force_id"] == force_id})}
            for k in in_force]
        elsewhere = Counter()
        for f, k in {(lk["force_id"], lk["child_person_key"]) for lk in mine if lk["force_id"] != force_id}:
            elsewhere[f] += 1
        p["children_elsewhere"] = ", ".join(f"{common.force_name(f)}: {n}" for f, n in sorted(elsewhere.items()))
        p["forces_linked_count"] = p.get("forces_linked_count") or len(_split(p.get("forces_linked")))
        p["age"] = _age(p.get("date_of_birth"), end)
        p["options"] = options_for(p, product.options, "person_of_concern")
    locations = data.for_force(con, "fct_missing_locations_of_concern", month, force_id, "rank, location_key",
                               limit=int(product.setting("locations_size", 10)))
    for loc in locations:
        loc["options"] = options_for(loc, product.options, "location")
    candidates = _ocg_candidates(con, month, force_id, int(product.setting("ocg_candidates_size", 5)))
    for cand in candidates:
        cand["options"] = options_for(cand, product.options, "ocg_candidate")
    key_points = [
        f"{plural(len(known_children), 'child', 'children')} missing from {ctx['force']['name']} scored at risk; "
        f"the {len(children)} at greatest risk are listed.",
        f"{plural(sum(1 for c in children if c.get('is_repeat_missing')), 'listed child', 'listed children')} "
        f"are repeat missing and {fmt_int(sum(1 for c in children if _split(c.get('exploitation_indicators'))))} "
        "have exploitation indicators.",
        f"{plural(len(pocs), 'adult')} linked to two or more missing children; "
        f"{plural(len(candidates), 'possible group')} with members seen in the force match no registered OCG"
        if not any(c.get("matched_ocg_ref") for c in candidates) else
        f"{plural(len(pocs), 'adult')} linked to two or more missing children; {plural(len(candidates), 'network')} "
        "with members seen in the force.",
    ]
    ctx.update({"children": children, "persons_of_concern": pocs, "locations": locations,
                "ocg_candidates": candidates, "key_points": key_points, "list_size": size, "figures": {},
                "data_quality": common.data_quality(con, month, force_id),
                "methodology": common.methodology(con, product, month, force_id)})
    return ctx


def _name(row: dict[str, Any] | None) -> str:
    if not row:
        return "a child not in this month's list"
    return " ".join(str(p) for p in (row.get("forenames"), str(row.get("surname") or "").upper()) if p) or "unnamed"


def _ocg_candidates(con: duckdb.DuckDBPyConnection, month: str, force_id: str, limit: int) -> list[dict[str, Any]]:
    """Network communities with at least one member seen in this force; only its members are named."""
    ids = [r["candidate_id"] for r in data.rows(con, """
        select distinct candidate_id from main.fct_ocg_candidate_members
        where report_month = ? and force_id = ? order by candidate_id""", [month, force_id])]
    candidates = data.where_in(con, "fct_ocg_candidates", month, None, "candidate_id", ids,
                               "matched_ocg_ref nulls first, rank, candidate_id")[:limit]
    members = data.where_in(con, "fct_ocg_candidate_members", month, None, "candidate_id",
                            [c["candidate_id"] for c in candidates], "candidate_id, degree desc, person_key")
    for cand in candidates:
        mine = [m for m in members if m["candidate_id"] == cand["candidate_id"]]
        cand["members_in_force"] = [m for m in mine if m["force_id"] == force_id]
        outside = Counter(m["force_id"] for m in mine if m["force_id"] != force_id)
        cand["members_elsewhere"] = ", ".join(f"{common.force_name(f)}: {n}" for f, n in sorted(outside.items()))
    return candidates
