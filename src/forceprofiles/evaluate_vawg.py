"""VAWG section of ``forceprofiles evaluate``: do the planted serial perpetrators reach the top lists?

The synthetic world plants serial VAWG perpetrators (``truth/serial_perpetrators.parquet``) and
the crimes that make them serial (``truth/planted_crimes/<force>/<month>.parquet``, tagged
``serial:<id>``). The tactical product of a force lists its top N subjects of
``fct_vawg_subjects``. This module asks, for a report month, how many of the planted serial
perpetrators who are *active* (a planted crime the warehouse could see inside the scoring window)
are in the top N of a force they offended in.

Only truth identifiers (serial ids, person ids, person keys) are reported, never names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from forceprofiles.scoring_config import load_scoring_config


def evaluate_vawg(conn: duckdb.DuckDBPyConnection, month: str, truth_dir: Path,
                  person_truth: pd.DataFrame) -> dict[str, Any]:
    """The share of active planted serial perpetrators in their force's top N, with a breakdown.

    ``person_truth`` has (person_key, person_id): the true person behind each resolved key. A
    planted perpetrator is "in the top N" of a force when any key whose true person he is ranks
    N or better in that force's list (a perpetrator split over two keys is found if either key
    is). Figures: ``serial_in_top_n_share`` (in the top N of at least one force he offended in,
    the issue's target), ``serial_in_top_n_share_all_forces`` (of every such force), both over
    the same denominator, plus per home force and a list of misses with the reason.
    """
    truth_dir = Path(truth_dir)
    config = load_scoring_config("vawg")
    window = int(config["window_months"])
    list_size = _list_size(conn, month, int(config["list_size"]))
    window_months = _months_back(month, window)

    serial = pd.read_parquet(truth_dir / "serial_perpetrators.parquet")
    planted = _planted_serial_crimes(truth_dir, window_months)
    loaded = _loaded_partitions(conn, month)
    planted = planted.merge(loaded, on=["force_id", "month"], how="inner")

    active = (planted.groupby("serial_id")
              .agg(offending_forces=("force_id", lambda s: sorted(set(s))), active_crimes=("crime_ref", "size"))
              .reset_index())
    active = active.merge(serial[["serial_id", "person_id", "home_force", "harm_tier", "cross_border"]],
                          on="serial_id", how="inner")

    listed = conn.execute(
        "select force_id, person_key, rank, score, is_serial_perpetrator, offence_count, victim_count, harm_days, "
        "months_since_last_offence from main.fct_vawg_subjects where report_month = ?", [month]).df()
    keys = person_truth[["person_key", "person_id"]].drop_duplicates()
    subjects = listed.merge(keys, on="person_key", how="inner")
    visible = _visible_serial(planted, conn, truth_dir, month)

    rows = [_judge(row, subjects, list_size) for row in active.itertuples(index=False)]
    judged = pd.DataFrame(rows, columns=["serial_id", "home_force", "cross_border", "offending_forces",
                                         "best_rank", "in_top_n", "in_top_n_all_forces", "flagged_serial",
                                         "listed", "reason", "outranked_on_every_input"])
    planted_ids = set(serial["person_id"])
    judged["outranked_on_every_input"] = [
        _outranked(row.serial_id, active, subjects, planted_ids) for row in judged.itertuples(index=False)]
    judged["visible_serial"] = judged["serial_id"].isin(visible)
    planted_count = int(len(judged))
    in_top = int(judged["in_top_n"].sum()) if planted_count else 0
    in_top_all = int(judged["in_top_n_all_forces"].sum()) if planted_count else 0

    per_force: dict[str, dict[str, Any]] = {}
    for force, group in judged.groupby("home_force"):
        per_force[str(force)] = {
            "planted": int(len(group)),
            "in_top_n": int(group["in_top_n"].sum()),
            "in_top_n_all_forces": int(group["in_top_n_all_forces"].sum()),
            "share": float(group["in_top_n"].mean()),
        }
    for force, group in listed.groupby("force_id"):
        ranked = group.sort_values("rank")
        per_force.setdefault(str(force), {"planted": 0, "in_top_n": 0, "in_top_n_all_forces": 0, "share": None})
        per_force[str(force)].update({
            "subjects": int(len(group)),
            "subjects_flagged_serial": int(group["is_serial_perpetrator"].sum()),
            "score_at_list_size": float(ranked["score"].iloc[min(list_size, len(ranked)) - 1]),
        })
    misses = judged[~judged["in_top_n"]][["serial_id", "home_force", "offending_forces", "best_rank",
                                          "flagged_serial", "reason", "outranked_on_every_input"]]
    visible_judged = judged[judged["visible_serial"]]
    visible_count = int(len(visible_judged))

    return {
        "list_size": list_size,
        "window_months": window,
        "serial_perpetrators_in_truth": int(len(serial)),
        "serial_perpetrators_planted": planted_count,
        "serial_perpetrators_in_top_n": in_top,
        "serial_in_top_n_share": (in_top / planted_count) if planted_count else None,
        "serial_perpetrators_in_top_n_all_forces": in_top_all,
        "serial_in_top_n_share_all_forces": (in_top_all / planted_count) if planted_count else None,
        "serial_perpetrators_visible_serial": visible_count,
        "serial_in_top_n_share_visible_serial": (float(visible_judged["in_top_n"].mean()) if visible_count else None),
        "serial_perpetrators_outranked_on_every_input": int((judged["outranked_on_every_input"] >= list_size).sum()),
        "serial_perpetrators_flagged_serial": int(judged["flagged_serial"].sum()) if planted_count else 0,
        "serial_perpetrators_listed": int(judged["listed"].sum()) if planted_count else 0,
        "per_force": per_force,
        "misses": misses.to_dict(orient="records"),
        "definition": (
            f"denominator: planted serial perpetrators (truth/serial_perpetrators) with at least one planted "
            f"VAWG crime (truth/planted_crimes, tag serial:<id>) recorded in the {window} months up to {month} "
            f"in a force and month whose crime occurrences were landed in the warehouse "
            f"(fct_feed_accounting rows_landed > 0); numerator: those with a person key (true person by "
            f"majority of the key's records) ranked <= {list_size} in fct_vawg_subjects of at least one force "
            f"among the forces of those crimes (_all_forces: of every such force). _visible_serial: the same over "
            f"the planted perpetrators whose planted crimes the warehouse could see (as above) are themselves 2+ "
            f"crimes against 2+ distinct victims. outranked_on_every_input: how many other (non-planted) subjects "
            f"of one of his forces have at least as many offences, victims and harm days and an offence at least "
            f"as recent (no scoring that rises with each of these inputs can rank him above them)"),
    }


def _judge(row: Any, subjects: pd.DataFrame, list_size: int) -> tuple[Any, ...]:
    """One planted perpetrator: best rank in the forces he offended in, and why he was missed."""
    mine = subjects[subjects["person_id"] == row.person_id]
    in_forces = mine[mine["force_id"].isin(row.offending_forces)]
    best_by_force = in_forces.groupby("force_id")["rank"].min()
    in_top = bool((best_by_force <= list_size).any())
    in_top_all = bool(len(best_by_force) == len(row.offending_forces) and (best_by_force <= list_size).all())
    best_rank = int(best_by_force.min()) if len(best_by_force) else None
    flagged = bool(in_forces["is_serial_perpetrator"].any()) if len(in_forces) else False
    if in_top:
        reason = "in top list"
    elif mine.empty:
        reason = "not listed (no person key of his scored: linkage or roles)"
    elif in_forces.empty:
        reason = "listed only in forces other than those of his active planted crimes"
    elif not flagged:
        reason = "listed but not flagged serial (victims or offences split or outside the window)"
    else:
        reason = "flagged serial but ranked below the list size"
    return (row.serial_id, row.home_force, bool(row.cross_border), ";".join(row.offending_forces), best_rank,
            in_top, in_top_all, flagged, not mine.empty, reason, 0)


def _outranked(serial_id: str, active: pd.DataFrame, subjects: pd.DataFrame, planted_ids: set[int]) -> int:
    """The fewest non-planted subjects, over his offending forces, who match or beat a planted
    perpetrator on every RFGV input (offences, victims, harm days, months since the last offence)."""
    row = active[active["serial_id"] == serial_id].iloc[0]
    mine = subjects[(subjects["person_id"] == row.person_id) & subjects["force_id"].isin(row.offending_forces)]
    counts = []
    for subject in mine.itertuples(index=False):
        others = subjects[(subjects["force_id"] == subject.force_id) & ~subjects["person_id"].isin(planted_ids)]
        beating = others[(others["offence_count"] >= subject.offence_count)
                         & (others["victim_count"] >= subject.victim_count)
                         & (others["harm_days"] >= subject.harm_days)
                         & (others["months_since_last_offence"] <= subject.months_since_last_offence)]
        counts.append(len(beating))
    return min(counts) if counts else 0


def _visible_serial(planted: pd.DataFrame, conn: duckdb.DuckDBPyConnection, truth_dir: Path, month: str) -> set[str]:
    """Serial ids whose visible planted crimes (in window, landed) are 2+ crimes against 2+ victims."""
    if planted.empty:
        return set()
    frames = []
    for (force, crime_month), _ in planted.groupby(["force_id", "month"]):
        path = truth_dir / "planted_crimes" / force / f"{crime_month}.parquet"
        frames.append(pd.read_parquet(path, columns=["force_id", "crime_ref", "victim_ids"]))
    victims = pd.concat(frames, ignore_index=True).merge(planted, on=["force_id", "crime_ref"])
    victims = victims.assign(victim=victims["victim_ids"].fillna("").str.split(";")).explode("victim")
    victims = victims[victims["victim"] != ""]
    summary = victims.groupby("serial_id").agg(crimes=("crime_ref", "nunique"), victims=("victim", "nunique"))
    return set(summary[(summary["crimes"] >= 2) & (summary["victims"] >= 2)].index)


def _planted_serial_crimes(truth_dir: Path, months: list[str]) -> pd.DataFrame:
    """(serial_id, force_id, month, crime_ref) of the planted serial crimes recorded in ``months``."""
    frames = []
    for month in months:
        for path in sorted((truth_dir / "planted_crimes").glob(f"*/{month}.parquet")):
            frame = pd.read_parquet(path, columns=["force_id", "crime_ref", "tag"])
            frame = frame[frame["tag"].str.startswith("serial:")]
            frames.append(frame.assign(month=month, serial_id=frame["tag"].str.slice(len("serial:"))))
    if not frames:
        return pd.DataFrame(columns=["force_id", "crime_ref", "tag", "month", "serial_id"])
    return pd.concat(frames, ignore_index=True)


def _loaded_partitions(conn: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """(force_id, month) whose crime occurrences the warehouse had landed as at ``month``."""
    return conn.execute("""
        select distinct force_id, month
        from main.fct_feed_accounting
        where report_month = ? and feed = 'crime' and entity = 'occurrences' and rows_landed > 0
    """, [month]).df()


def _list_size(conn: duckdb.DuckDBPyConnection, month: str, default: int) -> int:
    """The list size the build used (fct_vawg_force_summary), else the configured one."""
    row = conn.execute("select max(list_size) from main.fct_vawg_force_summary where report_month = ?",
                       [month]).fetchone()
    return int(row[0]) if row and row[0] is not None else default


def _months_back(month: str, count: int) -> list[str]:
    """The ``count`` months up to and including ``month``, as YYYY-MM."""
    year, mon = int(month[:4]), int(month[5:7])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{mon:02d}")
        mon -= 1
        if mon == 0:
            year, mon = year - 1, 12
    return out
