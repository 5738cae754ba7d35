"""Write a synthetic world to disk (and PostgreSQL): landing extracts, central platform, truth.

Layout under the output directory:

- ``landing/<force>/<feed>/<YYYY-MM>/``: each force's monthly extract in its own dialect
  (forces configured for database delivery go to PostgreSQL instead when a DSN is given);
- ``central/``: the central platform (national nominals, OCG register and members, prior
  operations) as Parquet;
- ``truth/``: what the pipeline must never read: every true person, the planted patterns, and
  which true person is behind every nominal and record;
- ``world.json``: the arguments and the row count of every extract, for tests and benchmarks.

The world is generated month by month and force by force, and each month's records are written
and dropped at once, so memory stays bounded however many months or forces there are.
"""

from __future__ import annotations

import gc
import json
import shutil
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from forceprofiles.dialects import load_dialect, write_extract, write_extract_postgres
from forceprofiles.registry import force_config
from forceprofiles.synth.world import World, WorldSpec, central_platform, truth_tables

OWNED_DIRECTORIES = ("landing", "central", "truth")


def generate_world(
    spec: WorldSpec,
    out_dir: Path,
    postgres_dsn: str | None = None,
    on_month: Callable[[str, str], None] | None = None,
) -> dict[str, object]:
    """Generate the world described by ``spec`` into ``out_dir``; returns the world summary.

    ``on_month(force, month)`` is called after each force-month is written (progress bars).
    Re-running replaces the world's own directories, so the output is byte-identical.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in OWNED_DIRECTORIES:
        shutil.rmtree(out_dir / name, ignore_errors=True)
    world = World(spec)
    counts: list[dict[str, object]] = []
    dialects: dict[str, Any] = {}
    # The world's own objects (people's nominals, pending crimes and episodes) live to the end and
    # grow month by month, and Python's cycle collector rescanned all of them at every full
    # collection: by the second year of a national world that was a quarter to a half of the
    # synthesis (py-spy: gc_collect_main). After each month its garbage is collected and the
    # survivors are frozen, so later collections scan only newer objects; unfrozen at the end.
    try:
        for month in world.months:
            for force in spec.forces:
                counts += _write_force_month(world, force, month, out_dir, postgres_dsn, dialects)
                if on_month is not None:
                    on_month(force, month)
            gc.collect()
            gc.freeze()
    finally:
        gc.unfreeze()
    for name, frame in central_platform(world).items():
        _write_parquet(frame, out_dir / "central" / f"{name}.parquet")
    for name, frame in truth_tables(world).items():
        _write_parquet(frame, out_dir / "truth" / f"{name}.parquet")
    summary = {"spec": {**asdict(spec), "forces": list(spec.forces)}, "months": world.months,
               "people": len(world.people), "extracts": counts}
    (out_dir / "world.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n")
    return summary


def _write_force_month(world: World, force: str, month: str, out_dir: Path, postgres_dsn: str | None,
                       dialects: dict[str, Any]) -> list[dict[str, object]]:
    """One force's month: its extracts (files or PostgreSQL) and its truth; returns their row counts."""
    records = world.month_records(force, month)
    config = force_config(force)
    dialect = dialects.get(config.dialect) or dialects.setdefault(config.dialect, load_dialect(config.dialect))
    to_database = postgres_dsn is not None and config.delivery == "postgres"
    counts: list[dict[str, object]] = []
    for feed, frames in records.frames.items():
        if to_database:
            write_extract_postgres(frames, feed, dialect, month, postgres_dsn, config.schema)  # type: ignore[arg-type]
        else:
            write_extract(frames, feed, dialect, out_dir / "landing" / force / feed / month)
        for entity, frame in frames.items():
            counts.append({"force_id": force, "feed": feed, "entity": entity, "month": month,
                           "rows": len(frame), "delivery": "postgres" if to_database else "file_drop"})
    _write_parquet(records.nominal_truth, out_dir / "truth" / "nominals" / force / f"{month}.parquet")
    _write_parquet(records.record_truth, out_dir / "truth" / "records" / force / f"{month}.parquet")
    _write_parquet(records.planted_crimes, out_dir / "truth" / "planted_crimes" / force / f"{month}.parquet")
    return counts


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Parquet with a fixed layout so that the same frame always gives the same bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.reset_index(drop=True).to_parquet(path, index=False, compression="zstd")
