"""Person records (in the person schema) and their ground truth from a synthetic world.

Used to train the person model (``scripts/train_person_model.py``) and to measure its precision
and recall (``tests/test_linkage.py``): the world's ``truth/nominals`` say which true person is
behind every force's person_ref, and the national nominals' refs encode the true person id.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from forceprofiles.dialects import load_dialect, read_extract
from forceprofiles.registry import force_config

_PERSON_COLUMNS = ["forenames", "surname", "date_of_birth", "sex", "address", "postcode", "pnc_id", "cro_number"]

# (feed, entity, record reference column, fixed role when the entity has no role column)
_ENTITIES: tuple[tuple[str, str, str, str | None], ...] = (
    ("crime", "involvements", "crime_ref", None),
    ("custody", "records", "custody_ref", "arrested"),
    ("missing", "episodes", "episode_ref", "missing_person"),
    ("visor", "nominals", "visor_ref", "visor_nominal"),
    ("intelligence", "subjects", "intel_ref", "intelligence_subject"),
)


def world_persons(world_dir: Path, *, months: list[str] | None = None, include_central: bool = True
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """All person records of a generated world, and (record_id, person_id) truth.

    record_id = force_id|feed|record_ref|person_ref|role; source = the force id ('central' for
    national nominals). Records whose person_ref has no truth entry are dropped.
    """
    world_dir = Path(world_dir)
    summary = json.loads((world_dir / "world.json").read_text())
    forces = summary["spec"]["forces"]
    months = months or summary["months"]
    frames: list[pd.DataFrame] = []
    truths: list[pd.DataFrame] = []
    for force in forces:
        dialect = load_dialect(force_config(force).dialect)
        for month in months:
            truths.append(pd.read_parquet(world_dir / "truth" / "nominals" / force / f"{month}.parquet"))
            for feed, entity, ref, fixed_role in _ENTITIES:
                frame = read_extract(world_dir / "landing" / force / feed / month, feed, dialect).frames[entity]
                if entity == "subjects":
                    frame = frame[frame["subject_type"] == "person"]
                frame = frame[frame["person_ref"].notna()]
                role = frame["role"].astype(str) if fixed_role is None else fixed_role
                out = frame[_PERSON_COLUMNS].copy()
                out.insert(0, "source", force)
                out.insert(0, "record_id", force + "|" + feed + "|" + frame[ref].astype(str) + "|"
                           + frame["person_ref"].astype(str) + "|" + role)
                out["person_ref"] = frame["person_ref"].astype(str)
                frames.append(out)
    persons = pd.concat(frames, ignore_index=True).drop_duplicates("record_id", keep="last")
    truth_refs = pd.concat(truths, ignore_index=True).drop_duplicates(["force_id", "person_ref"])
    persons = persons.merge(truth_refs.rename(columns={"force_id": "source"}), on=["source", "person_ref"], how="left")
    if include_central:
        nominals = pd.read_parquet(world_dir / "central" / "national_nominals.parquet")
        central = pd.DataFrame({
            "record_id": "central|national_nominals|" + nominals["nominal_ref"],
            "source": "central",
            "forenames": nominals["forenames"], "surname": nominals["surname"],
            "date_of_birth": nominals["date_of_birth"], "sex": nominals["sex"],
            "address": None, "postcode": nominals["last_known_postcode"],
            "pnc_id": nominals["pnc_id"], "cro_number": nominals["cro_number"],
            "person_ref": nominals["nominal_ref"],
            "person_id": nominals["nominal_ref"].str[3:].astype(int),
        })
        persons = pd.concat([persons, central], ignore_index=True)
    persons = persons[persons["person_id"].notna()].reset_index(drop=True)
    truth = persons[["record_id", "person_id"]].astype({"person_id": "int64"})
    return persons.drop(columns=["person_id", "person_ref"]), truth


def pairwise_scores(clusters: pd.DataFrame, truth: pd.DataFrame, key: str = "cluster_id") -> dict[str, float]:
    """Pairwise precision, recall and F1 of predicted clusters against true person ids.

    Also within-source and cross-source recall/precision, since cross-force links are the ones
    that products lean on.
    """
    frame = clusters[["record_id", "source", key]].merge(truth, on="record_id")


    def count_pairs(cols: list[str]) -> float:
        sizes = frame.groupby(cols).size()
        return float((sizes * (sizes - 1) / 2).sum())

    def scores(tp: float, pred: float, true: float) -> dict[str, float]:
        precision = tp / pred if pred else 1.0
        recall = tp / true if true else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1}

    tp_all, pred_all, true_all = count_pairs([key, "person_id"]), count_pairs([key]), count_pairs(["person_id"])
    tp_within = count_pairs([key, "person_id", "source"])
    pred_within = count_pairs([key, "source"])
    true_within = count_pairs(["person_id", "source"])
    result = {f"all_{k}": v for k, v in scores(tp_all, pred_all, true_all).items()}
    result |= {f"within_{k}": v for k, v in scores(tp_within, pred_within, true_within).items()}
    result |= {f"cross_{k}": v for k, v in scores(tp_all - tp_within, pred_all - pred_within,
                                                   true_all - true_within).items()}
    result |= {"true_pairs": true_all, "predicted_pairs": pred_all, "true_cross_pairs": true_all - true_within}
    return result
