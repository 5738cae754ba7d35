"""Read-only warehouse queries: the rows each product is built from.

Why a module of its own: every number in a product comes from one of these queries, always
filtered to one report month and (for anything naming a person) one force, so an auditor can
read here exactly what a product can show. The warehouse is opened read-only (DuckDB allows
many readers), so rendering can fan out while nobody writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

Row = dict[str, Any]


class MissingMartError(RuntimeError):
    """A product's marts are not all in the warehouse: it never renders from a partial warehouse."""


@contextmanager
def connect(warehouse: Path) -> Any:
    """A read-only connection to the warehouse (closed on exit)."""
    path = Path(warehouse)
    if not path.is_file():
        raise FileNotFoundError(f"warehouse not found: {path}")
    con = duckdb.connect(str(path), read_only=True)
    try:
        yield con
    finally:
        con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[Row]:
    """Run a query; rows as dicts (column name -> Python value)."""
    cursor = con.execute(sql, list(params))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> Row:
    """The single row of a query ({} when there is none)."""
    found = rows(con, sql, params)
    return found[0] if found else {}


def tables(con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """Every table/view in the main schema with its columns."""
    out: dict[str, set[str]] = {}
    for table, column in con.execute(
            "select table_name, column_name from information_schema.columns where table_schema = 'main'").fetchall():
        out.setdefault(table, set()).add(column)
    return out


def require_marts(con: duckdb.DuckDBPyConnection, marts: Iterable[str]) -> dict[str, set[str]]:
    """Fail with every missing table named, else return the tables and their columns."""
    known = tables(con)
    missing = [m for m in marts if m not in known]
    if missing:
        raise MissingMartError(f"warehouse lacks {', '.join(missing)}: build the marts before rendering")
    return known


def input_counts(con: duckdb.DuckDBPyConnection, marts: Iterable[str], month: str, force_id: str) -> dict[str, int]:
    """Rows each mart holds for this month and force (the sidecar's record of what was read)."""
    known = tables(con)
    counts: dict[str, int] = {}
    for mart in marts:
        columns = known.get(mart, set())
        where, params = [], []
        if "report_month" in columns:
            where.append("report_month = ?")
            params.append(month)
        if "force_id" in columns:
            where.append("force_id = ?")
            params.append(force_id)
        clause = f" where {' and '.join(where)}" if where else ""
        counts[mart] = int(con.execute(f'select count(*) from main."{mart}"{clause}', params).fetchone()[0])
    return counts


def held_forces(con: duckdb.DuckDBPyConnection, month: str) -> dict[str, str]:
    """Forces held this month (mandatory feed late, unreadable or failed), with the decision text."""
    found = rows(con, """
        select force_id, max(force_decision) as decision
        from main.fct_feed_accounting
        where report_month = ? and month = ? and is_force_held
        group by force_id order by force_id""", [month, month])
    return {r["force_id"]: str(r["decision"] or "held") for r in found}


def feed_caveats(con: duckdb.DuckDBPyConnection, month: str, force_id: str) -> list[Row]:
    """This force's partitions in the last 12 months with quarantined rows or a failed status."""
    return rows(con, """
        select feed, entity, month, validation_status, rows_read, rows_landed, rows_quarantined,
               is_accounted, force_decision, is_force_held
        from main.fct_feed_accounting
        where report_month = ? and force_id = ?
          and month > strftime(cast(? || '-01' as date) - interval 12 month, '%Y-%m')
          and (rows_quarantined > 0 or validation_status not like 'passed%' or not is_accounted or is_force_held)
        order by month desc, feed, entity""", [month, force_id, month])


def held_elsewhere(con: duckdb.DuckDBPyConnection, month: str) -> list[Row]:
    """Every force held in the report month (their records are missing from cross-force figures)."""
    return [{"force_id": f, "decision": d} for f, d in held_forces(con, month).items()]


def for_force(con: duckdb.DuckDBPyConnection, table: str, month: str, force_id: str, order_by: str,
              limit: int | None = None) -> list[Row]:
    """A mart's rows for one month and force, in a fixed order (ties cannot reorder)."""
    sql = f'select * from main."{table}" where report_month = ? and force_id = ? order by {order_by}'
    if limit is not None:
        sql += f" limit {int(limit)}"
    return rows(con, sql, [month, force_id])


def for_month(con: duckdb.DuckDBPyConnection, table: str, month: str, order_by: str) -> list[Row]:
    """A mart's rows for one month across forces (comparisons; never person-level)."""
    return rows(con, f'select * from main."{table}" where report_month = ? order by {order_by}', [month])


def where_in(con: duckdb.DuckDBPyConnection, table: str, month: str, force_id: str | None, column: str,
             values: Sequence[Any], order_by: str) -> list[Row]:
    """Rows of a mart whose ``column`` is in ``values`` (score cards of the listed subjects)."""
    if not values:
        return []
    marks = ", ".join("?" for _ in values)
    params: list[Any] = [month]
    force = ""
    if force_id is not None:
        force = " and force_id = ?"
        params.append(force_id)
    return rows(con, f'select * from main."{table}" where report_month = ?{force} and {column} in ({marks}) '
                     f"order by {order_by}", [*params, *values])


def missing_episode_places(con: duckdb.DuckDBPyConnection, month: str, force_id: str) -> list[Row]:
    """Missing episodes of the last 12 months by MSOA (where people went missing from)."""
    return rows(con, """
        with episodes as (
            select e.lsoa11cd
            from main.int_events e
            where e.event_type = 'missing_episode' and e.force_id = ?
              and e.event_at >= cast(? || '-01' as date) - interval 11 month
              and e.event_at < cast(? || '-01' as date) + interval 1 month
        )
        select l.msoa11cd, any_value(l.msoa11nm) as msoa11nm, count(*) as episodes
        from episodes join main.int_locations l using (lsoa11cd)
        group by l.msoa11cd order by episodes desc, l.msoa11cd""", [force_id, month, month])


def loaded_months(con: duckdb.DuckDBPyConnection, month: str, force_id: str, feed: str) -> set[str]:
    """Extract months of a feed the warehouse holds for the force (a trend needs both periods loaded)."""
    return {r["month"] for r in rows(con, """
        select distinct month from main.fct_feed_accounting
        where report_month = ? and force_id = ? and feed = ? and rows_landed > 0""", [month, force_id, feed])}


def since_first_loaded(trend: list[Row], loaded: set[str]) -> list[Row]:
    """A month-by-month trend from the first month the warehouse holds records of the feed.

    The force-month marts run a full 36-month spine; before the lake's first month those rows are
    zeros only because nothing was loaded, and a chart would read them as a real fall. Months
    after the first loaded one stay, zeros included (a real month with no records, or a late feed,
    which the data-quality section names)."""
    if not loaded:
        return []
    first = min(loaded)
    return [row for row in trend if str(row["month"]) >= first]

