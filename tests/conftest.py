"""Shared fixtures: small synthetic worlds generated once per test session."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from forceprofiles import reference
from forceprofiles.synth.world import WorldSpec
from forceprofiles.synth.writer import generate_world

POSTGRES_ADMIN_DSN = os.environ.get("FORCEPROFILES_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")

# Twelve months of the nine forces at 2% of real volume: enough rows for the realism tests.
YEAR_WORLD = WorldSpec(forces=reference.NINE_FORCES, start="2025-04", end="2026-03", scale=0.02, seed=7)


@pytest.fixture(scope="session", autouse=True)
def _records_outside_the_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The disclosure log, the send ledger and the products of any test that does not choose its
    own go to a session folder, never to the project's var/."""
    root = tmp_path_factory.mktemp("records")
    saved = {name: os.environ.get(name) for name in _RECORD_PATHS}
    for name, file_name in _RECORD_PATHS.items():
        os.environ.setdefault(name, str(root / file_name))
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


_RECORD_PATHS = {"FORCEPROFILES_DISCLOSURE_LOG": "disclosures.sqlite", "FORCEPROFILES_LEDGER": "ledger.sqlite",
                 "FORCEPROFILES_OUT": "out"}


@pytest.fixture(scope="session")
def year_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A nine-force, twelve-month world on disk (file drops only)."""
    out = tmp_path_factory.mktemp("year_world")
    generate_world(YEAR_WORLD, out)
    return out


# The warehouse the mart tests share: three neighbouring forces of year_world, the last months
# ingested as the monthly job would, built (exact-match person resolution) as at the last one.
BUILT_WAREHOUSE_FORCES = ("norfolk", "suffolk", "cambridgeshire")
BUILT_WAREHOUSE_MONTHS = ("2025-12", "2026-01", "2026-02")


@pytest.fixture(scope="session")
def built_warehouse(year_world: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    """(warehouse_path, month, world_dir): a warehouse built once per session from year_world.

    The lake it was built from is ``warehouse_path.parent / "lake"``. Read-only for tests: a test
    that builds again works on a copy. 2026-03 is left un-ingested for as-at tests.
    """
    from forceprofiles.pipeline import ingest_month
    from forceprofiles.warehouse import build_warehouse

    root = tmp_path_factory.mktemp("built_warehouse")
    lake, warehouse_path = root / "lake", root / "warehouse.duckdb"
    for month in BUILT_WAREHOUSE_MONTHS:
        ingest_month(month, list(BUILT_WAREHOUSE_FORCES), landing_root=year_world / "landing", lake_root=lake)
    month = BUILT_WAREHOUSE_MONTHS[-1]
    # unit_tests: the monthly build leaves dbt's unit tests out; CI runs them here, once
    build_warehouse(month, lake_root=lake, warehouse_path=warehouse_path, central_root=year_world / "central",
                    unit_tests=True)
    return warehouse_path, month, year_world


def throwaway_database(prefix: str) -> Iterator[str]:
    """Create a PostgreSQL database on the loopback server, yield its DSN, drop it afterwards.

    Each test module that loads forces into PostgreSQL takes its own database: two worlds loaded
    into the same force schemas would replace each other's months. Skips when no server answers,
    except in CI, where PostgreSQL must be there.
    """
    psycopg = pytest.importorskip("psycopg")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:  # pragma: no cover - depends on the machine
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_DSN}: {error}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A throwaway PostgreSQL database on the loopback server; its DSN."""
    yield from throwaway_database("fp_test")
