"""A worker killed in the middle of the warehouse build or a render leaves nothing half-written:
the rerun converges to the same marts and products (issue #6). The send stage's kill test is in
``tests/test_distribute.py``.

The process is really killed (SIGKILL to its process group, no chance to clean up), at a moment
when it is known to be mid-way: after dbt has started writing, or after the first PDF is out.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
FORCES = ("norfolk", "suffolk")


def _start(code: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")])))
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_when(process: subprocess.Popen[bytes], ready: callable, timeout: float = 600) -> None:  # type: ignore[valid-type]
    """SIGKILL the process group as soon as ``ready()``; fail if the process ended first."""
    deadline = time.monotonic() + timeout
    while not ready():
        assert process.poll() is None, "the process finished before it could be killed mid-way"
        assert time.monotonic() < deadline, "the process never reached the point to kill it at"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


def _marts(warehouse: Path, month: str) -> dict[str, pd.DataFrame]:
    conn = duckdb.connect(str(warehouse), read_only=True)
    try:
        names = [r[0] for r in conn.execute(
            "select distinct table_name from information_schema.columns where table_schema = 'main' "
            "and column_name = 'report_month' and (table_name like 'fct_%' or table_name = 'dim_persons') "
            "order by table_name").fetchall()]
        frames = {}
        for name in names:
            frame = conn.execute(f'select * from main."{name}" where report_month = ?', [month]).df()
            frames[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
        return frames
    finally:
        conn.close()


def test_a_build_killed_mid_way_reruns_to_the_same_marts(built_warehouse: tuple[Path, str, Path],
                                                         tmp_path: Path) -> None:
    source, month, world = built_warehouse
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(source, warehouse)
    expected = _marts(source, month)
    assert expected["fct_vawg_subjects"].shape[0] > 0
    # built as the fixture built it (exact-match resolution), so the rerun must equal it
    code = (f"from pathlib import Path\nfrom forceprofiles.warehouse import build_warehouse\n"
            f"build_warehouse({month!r}, lake_root=Path({str(source.parent / 'lake')!r}), "
            f"warehouse_path=Path({str(warehouse)!r}), central_root=Path({str(world / 'central')!r}))\n")
    logs = tmp_path / "warehouse_dbt" / "logs" / "dbt.log"

    def marts_step_started() -> bool:  # dbt is rewriting the month's marts
        return logs.is_file() and "incremental model main.fct_" in logs.read_text(errors="replace")

    _kill_when(_start(code), marts_step_started)
    rerun = _start(code)
    assert rerun.wait(timeout=900) == 0
    after = _marts(warehouse, month)
    assert set(after) == set(expected)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(frame, after[name], obj=name)


def test_a_render_killed_mid_way_reruns_to_whole_products(built_warehouse: tuple[Path, str, Path],
                                                          tmp_path: Path) -> None:
    source, month, _ = built_warehouse
    out = tmp_path / "out"
    code = (f"from pathlib import Path\nfrom forceprofiles.render.api import render_month\n"
            f"render_month(Path({str(source)!r}), {month!r}, {list(FORCES)!r}, None, Path({str(out)!r}))\n")

    def first_product_out() -> bool:
        return any((out / month).glob("*/*.pdf")) if (out / month).is_dir() else False

    _kill_when(_start(code), first_product_out)
    # Whatever the kill left: whole PDFs only (each written to a temporary file, then renamed).
    for pdf in (out / month).glob("*/*.pdf"):
        assert pdf.read_bytes().rstrip().endswith(b"%%EOF"), pdf
    rerun = _start(code)
    assert rerun.wait(timeout=900) == 0
    manifest = json.loads((out / month / "manifest.json").read_text())
    assert {(p["force_id"], p["product"]) for p in manifest["products"]} == {
        (f, p) for f in FORCES for p in ("missing-strategic", "missing-tactical", "vawg-strategic", "vawg-tactical")}
    import hashlib

    for product in manifest["products"]:
        assert hashlib.sha256((out / product["path"]).read_bytes()).hexdigest() == product["sha256"], product
