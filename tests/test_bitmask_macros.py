"""dbt_project/macros/bitmask.sql: distinct sorted values per group kept as bits (dim_persons).

The macros are plain Jinja, so they are rendered here with jinja2 and run on DuckDB: the lists
they give must equal list_sort(list_distinct(list(...))), and a dictionary beyond the 128 bits
of a uhugeint must stop the query rather than drop values.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import jinja2
import pytest

MACROS = Path(__file__).resolve().parents[1] / "dbt_project" / "macros" / "bitmask.sql"


@pytest.fixture(scope="module")
def macros() -> object:
    return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(MACROS.read_text()).module


def _grouped_lists(macros: object, rows: list[tuple[str, str | None]]) -> dict[str, tuple[list[str], list[str]]]:
    """Per person: (the list decoded from the bits, list_sort(list_distinct(...)) of the same values).
    The dictionary is read as a scalar subquery, as dim_persons reads it."""
    sql = f"""
        with
        records as (select * from (values {", ".join("(?, ?)" for _ in rows)}) as t(person, value)),
        dictionaries as (select {macros.bitmask_dictionary('value', 'values')} as values_seen from records),
        bits as (
            select person, bit_or({macros.bitmask_of('(select values_seen from dictionaries)', 'value')})
                filter (where value is not null) as value_bits
            from records
            group by person
        )
        select person, {macros.values_in_bitmask('(select values_seen from dictionaries)', 'value_bits')} as value_list,
               list_sort(list_distinct((select list(value) from records as r where r.person = bits.person))) as expected
        from bits
        order by person
    """
    params = [item for row in rows for item in row]
    result = duckdb.connect().execute(sql, params).fetchall()
    return {person: (value_list, expected) for person, value_list, expected in result}


def test_the_bits_give_the_distinct_sorted_values_of_each_group(macros: object) -> None:
    rows = [("p1", "kent"), ("p1", "essex"), ("p1", "kent"), ("p2", "norfolk"), ("p2", None),
            ("p3", None), ("p4", "suffolk"), ("p4", "bedfordshire"), ("p4", "norfolk")]
    got = _grouped_lists(macros, rows)
    assert got["p1"][0] == ["essex", "kent"] == got["p1"][1]
    assert got["p2"][0] == ["norfolk"] == got["p2"][1]
    assert got["p3"][0] == [] == got["p3"][1]
    assert got["p4"][0] == ["bedfordshire", "norfolk", "suffolk"] == got["p4"][1]


def test_values_beyond_the_first_64_bits_are_kept(macros: object) -> None:
    values = [f"v{index:03d}" for index in range(128)]
    rows = [("p1", value) for value in values[::2]] + [("p2", values[127]), ("p2", values[64])]
    got = _grouped_lists(macros, rows + [("p3", value) for value in values[1::2]])
    assert got["p1"][0] == values[::2] == got["p1"][1]
    assert got["p2"][0] == [values[64], values[127]]
    assert got["p3"][0] == values[1::2]


def test_more_than_128_values_stop_the_query_with_a_clear_error(macros: object) -> None:
    rows = [("p1", f"v{index:03d}") for index in range(129)]
    with pytest.raises(duckdb.Error, match="more than 128 distinct values in the person records"):
        _grouped_lists(macros, rows)
