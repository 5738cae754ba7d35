"""Missing persons and networks measured against the synthetic world's planted truth.

The world plants exploitation networks (adults around repeat-missing children, and the addresses
where the children are found) and organised groups, some on the OCG register and some not
(``truth/exploitation_networks.parquet``, ``truth/groups.parquet``). These functions ask whether
the marts find them: the recall of planted persons and locations of concern, the share of
unregistered groups surfaced as OCG candidates and the share of candidates that are real.

A plant only counts when the warehouse could have seen it as at the month: its people must have
records inside the marts' window (``truth/records``, the true person behind every record), in the
force-months the warehouse ingested (``fct_feed_accounting``). Every result says so in its
``definition``. The marts never see any of this: nothing here feeds back.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from forceprofiles.scoring_config import load_scoring_config


def evaluate_missing(conn: duckdb.DuckDBPyConnection, month: str, truth_dir: Path,
                     person_truth: pd.DataFrame) -> dict[str, Any]:
    """Recall of the planted persons and locations of concern in the month's marts.

    ``person_truth`` maps every resolved ``person_key`` to the true ``person_id`` behind it (see
    :func:`forceprofiles.evaluate.person_truth`). A planted network adult is expected when, in the
    missing-persons window, the truth records show them found with, or in an intelligence report
    with, at least ``min_linked_children`` distinct children of their network (otherwise no
    product could call them a person of concern); found when any key resolved to them is in
    ``fct_missing_persons_of_concern``. A planted location is expected when at least
    ``locations_of_concern.min_children`` of its network's children went missing in the window
    while still children; found when ``fct_missing_locations_of_concern`` holds its address
    (normalised) or postcode. Planted "children" grow up in a three-year world: links to them after
    their 18th birthday are not expected, as the marts rightly do not count them.
    """
    truth_dir = Path(truth_dir)
    config = load_scoring_config("missing_persons")
    window = _window_months(month, int(config["window_months"]))
    min_children = int(config["persons_of_concern"]["min_linked_children"])
    networks = pd.read_parquet(truth_dir / "exploitation_networks.parquet")
    records = _truth_records(truth_dir, window, _ingested(conn, month))

    adults = networks[networks["member_type"] == "adult"][["network_id", "person_id"]].astype({"person_id": "int64"})
    children = networks[networks["member_type"] == "child"][["network_id", "person_id"]].astype({"person_id": "int64"})
    child_records = _children_then(records, truth_dir, int(config["child_max_age"]))
    links = _adult_child_links(records, adults, children)
    links = links[links["child_id"].isin(set(child_records["person_id"]))]
    linked = links.groupby("adult_id")["child_id"].nunique()
    expected_adults = sorted(int(a) for a in linked[linked >= min_children].index)

    pocs = conn.execute("select distinct person_key from main.fct_missing_persons_of_concern where report_month = ?",
                        [month]).df()
    poc_truth = pocs.merge(person_truth[["person_key", "person_id"]], on="person_key", how="left")
    found_ids = set(int(p) for p in poc_truth["person_id"].dropna())
    found_adults = [a for a in expected_adults if a in found_ids]
    all_adult_ids = set(int(a) for a in adults["person_id"])
    pocs_planted = int(poc_truth["person_id"].dropna().astype("int64").isin(all_adult_ids).sum())

    min_location_children = int(config["locations_of_concern"]["min_children"])
    children_missing = children.merge(child_records[["person_id"]].drop_duplicates(), on="person_id")
    per_network = children_missing.groupby("network_id")["person_id"].nunique()
    active_networks = set(per_network[per_network >= min_location_children].index)
    locations = networks[(networks["member_type"] == "location") & networks["network_id"].isin(active_networks)].copy()
    locations["address_key"] = locations["address"].map(address_key)
    marts = conn.execute("""
        select distinct location_key, postcode, lsoa11cd
        from main.fct_missing_locations_of_concern where report_month = ?""", [month]).df()
    keys, postcodes, lsoas = set(marts["location_key"].dropna()), set(marts["postcode"].dropna()), set(marts["lsoa11cd"].dropna())
    locations["found"] = locations["address_key"].isin(keys) | locations["postcode"].isin(postcodes)
    locations["found_lsoa"] = locations["found"] | locations["lsoa11cd"].isin(lsoas)

    return {
        "window": f"{window[0]}..{window[-1]}",
        "planted_network_adults": int(len(all_adult_ids)),
        "expected_persons_of_concern": len(expected_adults),
        "persons_of_concern_found": len(found_adults),
        "persons_of_concern_recall": _share(len(found_adults), len(expected_adults)),
        "persons_of_concern_listed": int(len(pocs)),
        "persons_of_concern_planted_share": _share(pocs_planted, len(pocs)),
        "expected_locations_of_concern": int(len(locations)),
        "locations_of_concern_found": int(locations["found"].sum()),
        "locations_of_concern_recall": _share(int(locations["found"].sum()), len(locations)),
        "locations_of_concern_recall_lsoa": _share(int(locations["found_lsoa"].sum()), len(locations)),
        "locations_of_concern_listed": int(marts["location_key"].nunique()),
        "definition": (
            f"truth restricted to the force-months ingested (fct_feed_accounting). "
            f"Persons of concern: planted network adults who, in the {len(window)}-month window, were found with or "
            f"in an intelligence report with >= {min_children} distinct children of their network who were still "
            "children then (truth records, true dates of birth), "
            "found when any person_key resolved to them is in fct_missing_persons_of_concern (any force); "
            "planted_share = listed persons whose true person is a planted network adult. Locations: planted network "
            "addresses of networks with >= min_children distinct children (still under 18) missing in the window, "
            "found when fct_missing_locations_of_concern "
            "holds the normalised address or the postcode (recall_lsoa also accepts the LSOA)."
        ),
    }


def evaluate_networks(conn: duckdb.DuckDBPyConnection, month: str, truth_dir: Path,
                      person_truth: pd.DataFrame) -> dict[str, Any]:
    """The share of planted unregistered groups surfaced as OCG candidates, and of real candidates.

    A planted group is active when at least ``communities.min_size`` of its members have records
    (crime, custody, intelligence) in the networks window; it is surfaced when one OCG candidate
    (``fct_ocg_candidates.is_candidate``) holds at least half of those active members. A candidate
    is real when more than half of its members' true persons belong to one planted group or one
    planted exploitation network. Registered groups are reported too: matched when a community
    holding at least half of their active members matched their own ``ocg_ref``.
    """
    truth_dir = Path(truth_dir)
    config = load_scoring_config("networks")
    window = _window_months(month, int(config["window_months"]))
    min_size = int(config["communities"]["min_size"])
    groups = pd.read_parquet(truth_dir / "groups.parquet").astype({"person_id": "int64"})
    networks = pd.read_parquet(truth_dir / "exploitation_networks.parquet")
    records = _truth_records(truth_dir, window, _ingested(conn, month))

    seen = set(int(p) for p in records.loc[records["feed"].isin(["crime", "custody", "intelligence"]), "person_id"])
    groups = groups.assign(active=groups["person_id"].isin(seen))
    active_counts = groups.groupby("group_id")["active"].sum()
    active_groups = set(active_counts[active_counts >= min_size].index)

    members = conn.execute("""
        select members.candidate_id, members.person_key, candidates.is_candidate, candidates.matched_ocg_ref
        from main.fct_ocg_candidate_members as members
        inner join main.fct_ocg_candidates as candidates using (report_month, candidate_id)
        where members.report_month = ?""", [month]).df()
    members = members.merge(person_truth[["person_key", "person_id"]], on="person_key", how="left")

    rows = []
    for group_id, group in groups[groups["group_id"].isin(active_groups)].groupby("group_id"):
        active_ids = set(int(p) for p in group.loc[group["active"], "person_id"])
        best_share, best_is_candidate, best_ref = 0.0, False, None
        for candidate_id, community in members.groupby("candidate_id"):
            share = len(active_ids & set(int(p) for p in community["person_id"].dropna())) / len(active_ids)
            if share > best_share:
                best_share = share
                best_is_candidate = bool(community["is_candidate"].iloc[0])
                best_ref = community["matched_ocg_ref"].iloc[0]
        rows.append({"group_id": group_id, "registered": bool(group["registered"].iloc[0]),
                     "ocg_ref": group["ocg_ref"].iloc[0], "best_share": best_share,
                     "surfaced": best_share >= 0.5 and best_is_candidate,
                     "matched": best_share >= 0.5 and not best_is_candidate and best_ref == group["ocg_ref"].iloc[0]})
    result_groups = pd.DataFrame(rows, columns=["group_id", "registered", "ocg_ref", "best_share", "surfaced", "matched"])
    unregistered = result_groups[~result_groups["registered"]]
    registered = result_groups[result_groups["registered"]]

    plant_of = {int(r.person_id): f"group:{r.group_id}" for r in groups.itertuples()}
    for r in networks[networks["member_type"].isin(["adult", "child"])].itertuples():
        plant_of.setdefault(int(r.person_id), f"network:{r.network_id}")
    candidates = members[members["is_candidate"]]
    real, total = 0, 0
    for _, community in candidates.groupby("candidate_id"):
        total += 1
        plants = community["person_id"].map(lambda p: plant_of.get(int(p)) if pd.notna(p) else None)
        top = plants.value_counts()
        if len(top) and top.iloc[0] > len(community) / 2:
            real += 1

    return {
        "window": f"{window[0]}..{window[-1]}",
        "active_unregistered_groups": int(len(unregistered)),
        "unregistered_groups_surfaced": int(unregistered["surfaced"].sum()),
        "unregistered_groups_surfaced_share": _share(int(unregistered["surfaced"].sum()), len(unregistered)),
        "active_registered_groups": int(len(registered)),
        "registered_groups_matched": int(registered["matched"].sum()),
        "registered_groups_matched_share": _share(int(registered["matched"].sum()), len(registered)),
        "candidates": total,
        "candidates_real": real,
        "candidates_real_share": _share(real, total),
        "communities": int(members["candidate_id"].nunique()),
        "definition": (
            f"truth restricted to the force-months ingested (fct_feed_accounting). "
            f"A planted group is active when >= {min_size} of its members have crime, custody or intelligence records "
            f"in the {len(window)}-month window (truth records); an unregistered group is surfaced when one OCG "
            "candidate (fct_ocg_candidates.is_candidate) holds at least half of its active members (person_key -> "
            "true person); a candidate is real when more than half of its members are the true people of one planted "
            "group or one planted exploitation network; a registered group is matched when the community holding at "
            "least half of its active members matched its own ocg_ref."
        ),
    }


def address_key(value: Any) -> str | None:
    """The normalised address line, as the warehouse's ``address_key`` macro makes it."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode("ascii").lower()
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    return text or None


def _adult_child_links(records: pd.DataFrame, adults: pd.DataFrame, children: pd.DataFrame) -> pd.DataFrame:
    """(adult_id, child_id) for every record that puts a planted adult with a child of their own
    network: the same missing episode (found with) or the same intelligence report."""
    shared = records[records["feed"].isin(["missing", "intelligence"])][["force_id", "feed", "record_ref", "person_id"]]
    with_adults = shared.merge(adults.rename(columns={"person_id": "adult_id"}), left_on="person_id", right_on="adult_id")
    with_children = shared.merge(children.rename(columns={"person_id": "child_id"}), left_on="person_id",
                                 right_on="child_id")
    return (with_adults.drop(columns="person_id")
            .merge(with_children.drop(columns="person_id"), on=["force_id", "feed", "record_ref", "network_id"])
            [["adult_id", "child_id"]].drop_duplicates())


def _ingested(conn: duckdb.DuckDBPyConnection, month: str) -> set[tuple[str, str]] | None:
    """The (force, month) partitions the warehouse was built from as at ``month``
    (``fct_feed_accounting``): a plant in a month or force that was never ingested cannot be found.
    None when the table is missing or empty (then every force and month counts)."""
    try:
        rows = conn.execute("select distinct force_id, month from main.fct_feed_accounting where report_month = ?",
                            [month]).fetchall()
    except duckdb.Error:
        return None
    return {(str(force), str(m)) for force, m in rows} or None


def _truth_records(truth_dir: Path, months: list[str],
                   covered: set[tuple[str, str]] | None = None) -> pd.DataFrame:
    """The truth behind every person-bearing record written in ``months``, in the (force, month)
    partitions ``covered`` (None: every force)."""
    files = [(month, path) for month in months for path in sorted((truth_dir / "records").glob(f"*/{month}.parquet"))
             if covered is None or (path.parent.name, month) in covered]
    columns = ["force_id", "feed", "record_ref", "role", "person_id"]
    if not files:
        return pd.DataFrame(columns=[*columns, "month"]).astype({"person_id": "int64"})
    frame = pd.concat([pd.read_parquet(path, columns=columns).assign(month=month) for month, path in files],
                      ignore_index=True)
    return frame[frame["person_id"].notna()].astype({"person_id": "int64"})


def _children_then(records: pd.DataFrame, truth_dir: Path, child_max_age: int) -> pd.DataFrame:
    """The missing-person records whose true person was a child (age <= child_max_age on the first
    day of the record's month, from the true date of birth): planted "children" grow up during a
    three-year world, and the marts rightly stop calling them children."""
    persons = pd.read_parquet(truth_dir / "persons.parquet", columns=["person_id", "date_of_birth"])
    missing = records[(records["feed"] == "missing") & (records["role"] == "missing_person")]
    missing = missing.merge(persons, on="person_id", how="left")
    at = pd.to_datetime(missing["month"] + "-01")
    born = pd.to_datetime(missing["date_of_birth"])
    age = at.dt.year - born.dt.year - ((at.dt.month < born.dt.month)
                                       | ((at.dt.month == born.dt.month) & (at.dt.day < born.dt.day))).astype(int)
    return missing[age <= child_max_age]


def _window_months(month: str, length: int) -> list[str]:
    """The ``length`` months ending with ``month`` (YYYY-MM), oldest first."""
    end = pd.Period(month, freq="M")
    return [str(end - offset) for offset in range(length - 1, -1, -1)]


def _share(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None
