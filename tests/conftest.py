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


@pytest.fixture(scope="session")
def year_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A nine-force, twelve-month world on disk (file drops only)."""
    out = tmp_path_factory.mktemp("year_world")
    generate_world(YEAR_WORLD, out)
    return out


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
