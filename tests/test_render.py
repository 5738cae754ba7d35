"""The render stage: marking and numbering on every page, the right subjects and no others,
deterministic bytes, and hostile record content that stays inert text and fetches nothing."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from pypdf import PdfReader

from forceprofiles.render import charts, common
from forceprofiles.render.fetcher import AssetFetcher, RefusedURL
from forceprofiles.render.options import options_for
from forceprofiles.render.pdf import render_pdf, templates_dir
from forceprofiles.render.products import PRODUCT_IDS, load_product, load_products

HOSTILE = ('<img src="file:///etc/passwd"><script>alert("x")</script> url(http://example.com/x) '
           '<link href="http://example.com/evil.css" rel="stylesheet">')


def page_texts(pdf: bytes) -> list[str]:
    """The extracted text of every page."""
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """Whitespace collapsed (pypdf breaks long lines where the layout wrapped them)."""
    return re.sub(r"\s+", " ", text)


def assert_marked_and_numbered(pdf: bytes) -> None:
    """OFFICIAL-SENSITIVE top and bottom and 'Page i of n' on every page."""
    texts = page_texts(pdf)
    n = len(texts)
    assert n >= 3
    for i, text in enumerate(texts, start=1):
        assert text.count("OFFICIAL-SENSITIVE") >= 2, f"page {i} lacks the marking top and bottom"
        assert f"Page {i} of {n}" in text, f"page {i} lacks 'Page {i} of {n}'"


# --------------------------------------------------------------------------- no warehouse needed


def test_fetcher_refuses_everything_but_assets_and_own_charts(tmp_path: Path) -> None:
    svg = charts.line_chart(["2026-09", "2026-10"], {"crimes": [1, 2]}, ylabel="crimes")
    own = charts.data_uri(svg)
    fetcher = AssetFetcher(templates_dir(), [own])
    assert fetcher.fetch((templates_dir() / "style.css").as_uri()).read().startswith(b"/*")
    assert fetcher.fetch(own).read() == svg.encode("utf-8")
    for url in ("file:///etc/passwd", "http://example.com/x", "https://example.com/x.css",
                (templates_dir() / ".." / "pyproject.toml").as_uri(), "ftp://example.com/x",
                charts.data_uri("<svg xmlns='http://www.w3.org/2000/svg'/>")):
        with pytest.raises(RefusedURL):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 6
    assert len(fetcher.calls) == 8


def test_product_definitions_are_complete() -> None:
    products = load_products()
    assert set(PRODUCT_IDS) <= set(products)
    assert products["vawg-tactical"].list_size == 25
    assert {r.id for r in products["vawg-tactical"].options} >= {"matac", "clares_law", "spo", "sro_shpo", "mosovo"}
    assert {r.id for r in products["missing-tactical"].options} >= {"cawn", "return_interview"}


def test_options_follow_the_configured_rules() -> None:
    rules = load_product("vawg-tactical").options
    stalker = {"is_serial_perpetrator": False, "victim_count": 1, "ho_codes": ["8Q"], "visor_status": None,
               "days_since_last_offence": 400, "is_cross_force": False}
    assert [o["id"] for o in options_for(stalker, rules, "subject")] == ["spo"]
    serial_rso = dict(stalker, is_serial_perpetrator=True, victim_count=3, visor_status="RSO / MAPPA 1",
                      ho_codes=["19C", "8N"], days_since_last_offence=10)
    ids = [o["id"] for o in options_for(serial_rso, rules, "subject")]
    assert ids == ["matac", "clares_law", "dapo", "sro_shpo", "mosovo"]


def handmade_tactical_context() -> dict[str, Any]:
    """A VAWG tactical context with hostile text in a name, a reason, a description and a setting."""
    product = load_product("vawg-tactical")
    ctx = common.header(product, "2026-10", "kent")
    subjects = []
    for i in range(3):
        s = {"rank": i + 1, "person_key": f"PK{i}", "forenames": HOSTILE if i == 0 else "Sam", "surname": f"Zed{i}",
             "date_of_birth": "1990-01-02", "pnc_id": None, "sex": "M", "score": 90 - i, "recency_points": 10,
             "frequency_points": 20, "gravity_points": 40, "victims_points": 10, "uplift_points": 10 - i,
             "offence_count": 3, "victim_count": 2, "harm_days": 730, "first_offence_at": "2025-01-01",
             "last_offence_at": "2026-10-01", "forces_offended": "kent", "is_cross_force": False,
             "is_serial_perpetrator": True, "is_escalating": False, "visor_status": None, "civil_orders": None,
             "intel_report_count": 0, "best_intel_grading": None, "rank_reason": "Why: " + HOSTILE,
             "previous_rank": None, "rank_change": "new", "ho_codes": ["8Q"], "days_since_last_offence": 30,
             "age": 36, "forces_named": "Kent Police", "items_more": 0, "items_more_points": 0}
        s["options"] = options_for(s, product.options, "subject")
        s["items"] = [{"item_at": "2026-10-01", "item_type": "offence", "source_ref": "URN-1", "item_force_id": "kent",
                       "ho_code": "8Q", "description": "Stalking " + HOSTILE, "detail": None, "harm_days": 10,
                       "victim_count": 1, "grading": None, "points": 5}]
        subjects.append(s)
    ctx.update(subjects=subjects, scored=3, list_size=25, key_points=["Three scored."], movement={"new": 3}, left=0,
               figures={"trend": {"uri": charts.data_uri(charts.line_chart(["a", "b"], {"x": [1, 2]}, ylabel="n")),
                                  "alt": HOSTILE}},
               data_quality={"sentences": [HOSTILE], "rows": [], "held": []},
               methodology={"scoring_file": "profiles/vawg.yml", "scoring_version": "test",
                            "scoring": [{"setting": "a.b", "value": HOSTILE}], "networks": [], "networks_version": None,
                            "linkage": common.linkage_method(), "fairness": [], "fairness_table": "fct_vawg_fairness"})
    return ctx


def test_hostile_content_renders_as_inert_text_and_fetches_nothing() -> None:
    ctx = handmade_tactical_context()
    rendered = render_pdf("vawg_tactical.html", ctx)
    text = flat(" ".join(page_texts(rendered.pdf)))
    assert '<img src="file:///etc/passwd">' in text
    assert '<script>alert("x")</script>' in text
    assert "url(http://example.com/x)" in text
    assert '<link href="http://example.com/evil.css" rel="stylesheet">' in text
    assert "root:x:0:0" not in text
    # Only the stylesheet and the logo were asked for (the tactical template draws no chart); nothing refused.
    assert rendered.refused == []
    assets = [(templates_dir() / "style.css").resolve().as_uri(), (templates_dir() / "assets/logo.svg").resolve().as_uri()]
    assert sorted(rendered.fetched) == sorted(assets)
    assert_marked_and_numbered(rendered.pdf)


def test_appendix_gives_this_builds_prior_and_force_weight() -> None:
    """The prior and the weight of "same force" depend on the table resolved: the appendix shows
    the build's (main.person_resolution_settings), and the model's training figures without one."""
    import math

    con = duckdb.connect()
    assert common.linkage_method(con)["build"] == {}
    con.execute("""create table main.person_resolution_settings as select '1.3.0' as model_version,
                   8639322::bigint as records, 43 as forces, 0.000001::double as prior,
                   0.04::double as force_same_u, 0.95::double as threshold""")
    method = common.linkage_method(con)
    same, other = [lv for lv in method["levels"] if lv["field"] == "force"]
    assert same["u"] == pytest.approx(0.04) and other["u"] == pytest.approx(0.96)
    assert same["weight"] == pytest.approx(math.log2(same["m"] / 0.04))
    trained = [lv for lv in common.linkage_method()["levels"] if lv["field"] == "force"][0]
    assert trained["u"] != pytest.approx(0.04)
    ctx = handmade_tactical_context()
    ctx["methodology"]["linkage"] = method
    text = flat(" ".join(page_texts(render_pdf("vawg_tactical.html", ctx).pdf)))
    assert "this month's build resolved 8,639,322 records, so the prior was 1 in 1,000,000" in text
    assert "(this month: 43, so the \"same force\" u below is this month's)" in text


def test_same_context_gives_the_same_bytes() -> None:
    ctx = handmade_tactical_context()
    first, second = render_pdf("vawg_tactical.html", ctx), render_pdf("vawg_tactical.html", ctx)
    assert hashlib.sha256(first.pdf).hexdigest() == hashlib.sha256(second.pdf).hexdigest()
    reader = PdfReader(io.BytesIO(first.pdf))
    assert reader.metadata.title == ctx["document_title"]
    assert reader.metadata["/CreationDate"] == "D:20261101000000Z"
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in reader.trailer["/Root"]  # tagged (PDF/UA-1)


# --------------------------------------------------------------------------- against a built warehouse


@pytest.fixture(scope="module")
def rendered_force(built_warehouse: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """All four products for the force with the most VAWG subjects, rendered once for the module."""
    from forceprofiles.render.api import render_month

    warehouse, month, _world = built_warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        force = con.execute("""select force_id from main.fct_vawg_subjects where report_month = ?
                               group by force_id order by count(*) desc, force_id limit 1""", [month]).fetchone()[0]
    out = tmp_path_factory.mktemp("out")
    manifest = render_month(Path(warehouse), month, [force], list(PRODUCT_IDS), out)
    return {"warehouse": Path(warehouse), "month": month, "force": force, "out": out, "manifest": manifest}


def test_every_product_is_marked_numbered_and_listed_in_the_manifest(rendered_force: dict[str, Any]) -> None:
    out, month, force = rendered_force["out"], rendered_force["month"], rendered_force["force"]
    manifest = json.loads((out / month / "manifest.json").read_text())
    assert manifest["month"] == month
    assert {p["product"] for p in manifest["products"]} == set(PRODUCT_IDS)
    for sidecar in manifest["products"]:
        pdf = (out / sidecar["path"]).read_bytes()
        assert sidecar["path"] == f"{month}/{force}/{sidecar['product']}.pdf"
        assert hashlib.sha256(pdf).hexdigest() == sidecar["sha256"]
        assert sidecar["pages"] == len(PdfReader(io.BytesIO(pdf)).pages)
        assert sidecar["bytes"] == len(pdf) and sidecar["changes"] and sidecar["inputs"]["marts"]
        assert_marked_and_numbered(pdf)


def test_vawg_tactical_lists_the_force_top_subjects_and_no_one_else(rendered_force: dict[str, Any]) -> None:
    month, force = rendered_force["month"], rendered_force["force"]
    size = load_product("vawg-tactical").list_size
    with duckdb.connect(str(rendered_force["warehouse"]), read_only=True) as con:
        mine = [r[0] for r in con.execute("""select person_key from main.fct_vawg_subjects
            where report_month = ? and force_id = ? and rank <= ? order by rank""", [month, force, size]).fetchall()]
        others = {r[0] for r in con.execute("""select person_key from main.fct_vawg_subjects
            where report_month = ? and force_id <> ?""", [month, force]).fetchall()} - set(
            r[0] for r in con.execute("select person_key from main.fct_vawg_subjects where report_month = ? and "
                                      "force_id = ?", [month, force]).fetchall())
    assert mine, "the test force has no VAWG subjects"
    text = flat(" ".join(page_texts((rendered_force["out"] / month / force / "vawg-tactical.pdf").read_bytes())))
    for key in mine:
        assert f"person key {key}" in text
    leaked = [k for k in others if f"person key {k}" in text]
    assert leaked == [], "another force's subjects appear in this force's tactical product"


def test_missing_tactical_names_only_the_force_children(rendered_force: dict[str, Any]) -> None:
    month, force = rendered_force["month"], rendered_force["force"]
    with duckdb.connect(str(rendered_force["warehouse"]), read_only=True) as con:
        listed = con.execute("""select surname from main.fct_missing_children_at_risk
            where report_month = ? and force_id = ? and rank <= 25 and surname is not null order by rank""",
                             [month, force]).fetchall()
    text = flat(" ".join(page_texts((rendered_force["out"] / month / force / "missing-tactical.pdf").read_bytes())))
    for (surname,) in listed:
        assert str(surname).upper() in text


def test_missing_fairness_gives_each_list_its_rows_once(rendered_force: dict[str, Any], tmp_path: Path) -> None:
    """fct_missing_fairness has a row per list (children at risk, persons of concern) for each
    group: the appendix groups them by list and says which list a row is, instead of printing
    every group twice with nothing to tell the two rows apart."""
    from forceprofiles.render.api import render_product

    warehouse, month = rendered_force["warehouse"], rendered_force["month"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        force = con.execute("""select force_id from main.fct_missing_fairness where report_month = ?
                               group by force_id having count(distinct subject_type) = 2
                               order by force_id limit 1""", [month]).fetchone()
        assert force, "no force of the test world has both missing-persons lists"
        force = force[0]
        rows = common.methodology(con, load_product("missing-strategic"), month, force)["fairness"]
    keys = [(r["subject_type"], r["dimension"], r["group_value"]) for r in rows]
    assert {k[0] for k in keys} == {"child_at_risk", "person_of_concern"}
    assert len(keys) == len(set(keys)) and keys == sorted(keys)
    render_product(warehouse, month, force, "missing-strategic", tmp_path)
    text = flat(" ".join(page_texts((tmp_path / month / force / "missing-strategic.pdf").read_bytes())))
    appendix = text[text.index("Scores by sex and self-defined ethnicity"):]
    assert "List Dimension Group" in appendix
    for list_name in ("child at risk", "person of concern"):
        assert f"{list_name} {rows[0]['dimension']}" in appendix


def test_rerender_is_byte_identical(rendered_force: dict[str, Any], tmp_path: Path) -> None:
    from forceprofiles.render.api import render_product

    month, force = rendered_force["month"], rendered_force["force"]
    again = render_product(rendered_force["warehouse"], month, force, "vawg-strategic", tmp_path)
    first = next(p for p in rendered_force["manifest"]["products"] if p["product"] == "vawg-strategic")
    assert again["sha256"] == first["sha256"]


def test_trends_start_at_the_first_month_the_warehouse_holds(built_warehouse: Any) -> None:
    """The force-month marts run a 36-month spine; months before the lake's first are not
    charted as zeros (a chart would read them as a real fall)."""
    from forceprofiles.render import context_missing, context_vawg

    warehouse, month, _world = built_warehouse
    with duckdb.connect(str(warehouse), read_only=True) as con:
        force, first = con.execute("""select force_id, min(month) from main.fct_feed_accounting
            where report_month = ? and feed = 'crime' and rows_landed > 0
            group by force_id order by force_id limit 1""", [month]).fetchone()
        spine = con.execute("select min(month) from main.fct_vawg_force_month where report_month = ? and force_id = ?",
                            [month, force]).fetchone()[0]
        assert spine < first, "the mart's spine should reach back before the lake (else this test proves nothing)"
        vawg = context_vawg.strategic(con, load_product("vawg-strategic"), month, force)
        missing = context_missing.strategic(con, load_product("missing-strategic"), month, force)
    for ctx, name in ((vawg, "VAWG crimes per month"), (missing, "Missing episodes")):
        alt = ctx["figures"]["trend"]["alt"]
        assert alt.startswith(name) and f"{first} to {month}" in alt, alt
        span = _months_between(first, month)
        trend_title = next(s["title"] for s in ctx["product"]["sections"] if s["id"] == "trend")
        assert trend_title == f"Trend over {span} months", trend_title


def _months_between(first: str, last: str) -> int:
    """Months from ``first`` to ``last`` inclusive (YYYY-MM)."""
    (y0, m0), (y1, m1) = (map(int, first.split("-")), map(int, last.split("-")))
    return (y1 - y0) * 12 + (m1 - m0) + 1
