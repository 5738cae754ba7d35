"""Train the person-resolution model artefact from a synthetic world's person records.

The trained model is a versioned artefact (profiles/linkage/person_model.json): run this only
when the model's settings change or it must be refreshed, review the diff, bump
forceprofiles.linkage.MODEL_VERSION and commit. Runs never retrain silently.

    PYTHONPATH=src python scripts/train_person_model.py [--out profiles/linkage/person_model.json]

The training world (seed 1001) is deliberately different from the evaluation world in
tests/test_linkage.py, so the measured precision and recall are not on the training data.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from forceprofiles.linkage import save_model, train_model
from forceprofiles.linkage_synth import world_persons
from forceprofiles.synth.world import WorldSpec
from forceprofiles.synth.writer import generate_world

TRAINING_WORLD = WorldSpec(forces=("norfolk", "suffolk", "essex", "cambridgeshire"), start="2025-01", end="2025-06",
                           scale=0.01, seed=1001)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="default profiles/linkage/person_model.json")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        generate_world(TRAINING_WORLD, Path(tmp))
        persons, _ = world_persons(Path(tmp))
    spec = TRAINING_WORLD
    description = (f"synthetic world forces={','.join(spec.forces)} months={spec.start}..{spec.end} "
                   f"scale={spec.scale} seed={spec.seed}: crime involvements, custody, missing, ViSOR, "
                   f"intelligence person subjects and national nominals ({len(persons)} records)")
    model = train_model(persons, seed=args.seed, data_description=description)
    path = save_model(model, args.out)
    print(f"wrote {path}: {description}")
    if model["training"]["untrained_levels_set_neutral"]:
        print("levels set neutral (not seen in training):", model["training"]["untrained_levels_set_neutral"])


if __name__ == "__main__":
    main()
