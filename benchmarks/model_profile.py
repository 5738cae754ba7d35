"""Benchmark: one dbt model's compiled SQL on a built warehouse, with DuckDB's profile per operator.

    .venv/bin/python benchmarks/model_profile.py --warehouse var/bench/runs/<run>/warehouse/force_profiles.duckdb \
        --model dim_persons [--threads 2] [--memory 4GB] [--top 15] [--json-out var/bench/dim_persons.json]

Why: the issue asks to profile before fixing, and dbt's log gives a model's wall time only, with
four threads sharing two cores. This runs the SQL dbt compiled for the model in the last build
(``<warehouse stem>_dbt/target/compiled/**/<model>.sql``) alone, against the warehouse attached
read-only, into a table of an in-memory database that is thrown away, with the build's DuckDB
memory limit (``forceprofiles.warehouse.duckdb_config``) unless ``--memory`` says otherwise. It
prints the statement's wall time, DuckDB's peak buffer memory and spill, and the operators that
took longest (their own time, rows out and what they do), from DuckDB's JSON profile.

``--sql FILE`` profiles another version of the statement instead (an edited copy of the compiled
SQL), so a change to a model can be measured on the warehouse it is meant to speed up; with
``--compare`` the two results must hold the same rows (``except all`` both ways), or the script
exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def compiled_sql(warehouse: Path, model: str) -> Path:
    """The SQL dbt compiled for ``model`` in the warehouse's last build."""
    compiled = warehouse.with_name(warehouse.stem + "_dbt") / "target" / "compiled"
    # dbt also compiles each unit test to <model>.sql, in a folder named after the model's YAML
    found = sorted(path for path in compiled.rglob(f"{model}.sql") if not path.parent.name.endswith(".yml"))
    if len(found) != 1:
        raise SystemExit(f"no compiled SQL for {model} under {compiled}: build the warehouse first"
                         if not found else f"{model} is compiled more than once under {compiled}: {found}")
    return found[0]


def operators(node: dict[str, Any]) -> list[dict[str, Any]]:
    """Every operator of a DuckDB JSON profile tree, flattened, with its own time."""
    found = []
    for child in node.get("children", []):
        found.append({
            "type": child.get("type", ""),
            "seconds": float(child.get("timing") or 0.0),
            "rows": int(child.get("intermediate_rows") or 0),
            "detail": _detail(child.get("extra_info") or {}),
        })
        found.extend(operators(child))
    return found


def _detail(extra: dict[str, Any]) -> str:
    parts = []
    for key in ("Table", "Join Type", "Conditions", "Groups", "Aggregates", "Function"):
        value = extra.get(key)
        if value:
            text = "; ".join(value) if isinstance(value, list) else str(value)
            parts.append(f"{key}: {text}")
    return " | ".join(parts)[:160]


def profile_statement(conn: Any, sql: str, table: str, profile_path: Path) -> dict[str, Any]:
    """Run ``create table memory.main.<table> as <sql>`` with JSON profiling; the profile's summary."""
    conn.execute("pragma enable_profiling='json'")
    conn.execute(f"pragma profiling_output='{profile_path}'")
    started = time.monotonic()
    conn.execute(f"create or replace table memory.main.{table} as {sql}")
    wall = time.monotonic() - started
    conn.execute("pragma disable_profiling")
    profile = json.loads(profile_path.read_text())
    rows = conn.execute(f"select count(*) from memory.main.{table}").fetchone()[0]
    flat = sorted(operators({"children": profile.get("operator", [])}), key=lambda op: -op["seconds"])
    system = profile.get("system", {})
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(float(profile.get("query", {}).get("cpu_time") or 0.0), 2),
        "rows": rows,
        "peak_buffer_mib": round((system.get("peak_buffer_memory") or 0) / 2**20),
        "peak_temp_dir_mib": round((system.get("peak_temp_dir_size") or 0) / 2**20),
        "operators": flat,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--model", required=True, help="a dbt model name, e.g. dim_persons")
    parser.add_argument("--sql", type=Path, default=None, help="profile this SQL instead of the compiled model")
    parser.add_argument("--compare", action="store_true", help="with --sql: also run the compiled model and "
                        "check the two give the same rows")
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: DuckDB's, the cores)")
    parser.add_argument("--memory", default=None, help="DuckDB memory_limit (default: the build's)")
    parser.add_argument("--top", type=int, default=15, help="how many operators to print")
    parser.add_argument("--json-out", type=Path, default=None)
    args = parser.parse_args()

    import duckdb

    from forceprofiles.warehouse import duckdb_config

    warehouse = args.warehouse.resolve()
    model_sql = compiled_sql(warehouse, args.model).read_text()
    config = duckdb_config()
    if args.memory:
        config["memory_limit"] = args.memory
    conn = duckdb.connect(config=config)
    spill = tempfile.TemporaryDirectory(prefix="model_profile_")
    conn.execute(f"set temp_directory='{spill.name}'")
    if args.threads:
        conn.execute(f"set threads={args.threads}")
    # The compiled SQL names the warehouse's catalog by the file's stem.
    conn.execute(f"attach '{warehouse}' as \"{warehouse.stem}\" (read_only)")

    threads = conn.execute("select current_setting('threads')").fetchone()[0]
    runs = {}
    statements = {"candidate": args.sql.read_text()} if args.sql else {}
    if not args.sql or args.compare:
        statements = {"compiled": model_sql, **statements}
    for label, sql in statements.items():
        runs[label] = profile_statement(conn, sql.strip().rstrip(";"), f"profiled_{label}",
                                        Path(spill.name) / f"{label}.json")
        run = runs[label]
        print(f"{args.model} ({label}): {run['wall_s']} s wall, {run['cpu_s']} s CPU, {run['rows']:,} rows, "
              f"peak buffer {run['peak_buffer_mib']:,} MiB, spilled {run['peak_temp_dir_mib']:,} MiB "
              f"(memory_limit {config['memory_limit']}, threads {threads})")
        print(f"  {'operator':<26}{'own s':>8}{'rows out':>14}  detail")
        for op in run["operators"][:args.top]:
            print(f"  {op['type']:<26}{op['seconds']:>8.2f}{op['rows']:>14,}  {op['detail']}")
        run["operators"] = run["operators"][:args.top]

    status = 0
    if "compiled" in runs and "candidate" in runs:
        differ = conn.execute(
            "select (select count(*) from (select * from memory.main.profiled_compiled except all "
            "select * from memory.main.profiled_candidate)), (select count(*) from (select * from "
            "memory.main.profiled_candidate except all select * from memory.main.profiled_compiled))"
        ).fetchone()
        runs["rows_only_in"] = {"compiled": differ[0], "candidate": differ[1]}
        print(f"rows only in the compiled model's result: {differ[0]:,}; only in the candidate's: {differ[1]:,}")
        status = 0 if differ == (0, 0) else 1
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps({"model": args.model, "warehouse": str(warehouse), **runs}, indent=2))
    conn.close()
    spill.cleanup()
    return status


if __name__ == "__main__":
    sys.exit(main())
