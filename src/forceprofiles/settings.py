"""Where things live: the project's folders, mailboxes and database routes, from the environment.

Every stage takes its paths as arguments (so tests and backfills can point anywhere); this
module is where the CLI and the Airflow DAG get the defaults. Each setting is an environment
variable with a default relative to the project home, so a laptop run needs no configuration
and a deployment changes only environment variables:

================================  =============================================================
``FORCEPROFILES_HOME``            project home (default: the directory holding ``profiles/``,
                                  found by walking up from this package)
``FORCEPROFILES_LANDING``         force file drops (default ``<home>/var/world/landing``)
``FORCEPROFILES_LAKE``            the data lake (default ``<home>/var/lake``)
``FORCEPROFILES_WAREHOUSE``       the DuckDB warehouse file
                                  (default ``<home>/var/warehouse/force_profiles.duckdb``)
``FORCEPROFILES_OUT``             rendered products (default ``<home>/var/out``)
``FORCEPROFILES_DATA_TEAM``       who is told when the monthly job fails
                                  (default ``data-team@force-profiles.example``)
``FORCEPROFILES_ALERT_FROM``      the sender of those alerts
                                  (default ``airflow@force-profiles.example``)
``FORCEPROFILES_POSTGRES_DSN``    outside Airflow: the database of forces that deliver by
                                  PostgreSQL (each force reads its own schema)
================================  =============================================================

Functions read the environment on every call (nothing is cached), so a test or a task can
change a variable and see the effect at once.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forceprofiles.registry import ForceConfig

log = logging.getLogger(__name__)

HOME_ENV = "FORCEPROFILES_HOME"
LANDING_ENV = "FORCEPROFILES_LANDING"
LAKE_ENV = "FORCEPROFILES_LAKE"
WAREHOUSE_ENV = "FORCEPROFILES_WAREHOUSE"
OUTPUT_ENV = "FORCEPROFILES_OUT"
DATA_TEAM_ENV = "FORCEPROFILES_DATA_TEAM"
ALERT_FROM_ENV = "FORCEPROFILES_ALERT_FROM"
POSTGRES_DSN_ENV = "FORCEPROFILES_POSTGRES_DSN"

DEFAULT_DATA_TEAM = "data-team@force-profiles.example"
DEFAULT_ALERT_FROM = "airflow@force-profiles.example"

# Set by Airflow's task runner in the environment of every running task instance.
_AIRFLOW_TASK_ENV = "AIRFLOW_CTX_DAG_ID"

# Airflow connection extras that are libpq connection parameters (passed through to the DSN).
_LIBPQ_EXTRAS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name",
                 "target_session_attrs", "options")


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def project_home() -> Path:
    """The project home: ``$FORCEPROFILES_HOME``, else the directory holding ``profiles/``.

    ``FORCEPROFILES_HOME`` may also name the ``profiles`` directory itself (as
    :func:`forceprofiles.dialects.find_profiles_dir` allows); its parent is then the home.
    """
    home = _env_path(HOME_ENV)
    if home is not None:
        if not (home / "profiles").is_dir() and (home / "dialects").is_dir():
            return home.parent
        return home
    for parent in Path(__file__).resolve().parents:
        if (parent / "profiles").is_dir():
            return parent
    raise FileNotFoundError(f"no profiles/ directory above {__file__}; set {HOME_ENV} to the project home")


def landing_root() -> Path:
    """Where forces drop their files: ``<landing>/<force>/<feed>/<YYYY-MM>/``."""
    return _env_path(LANDING_ENV) or project_home() / "var" / "world" / "landing"


def lake_root() -> Path:
    """The data lake: landing copies, staging, raw, quarantine, reports and run manifests."""
    return _env_path(LAKE_ENV) or project_home() / "var" / "lake"


def warehouse_path() -> Path:
    """The DuckDB warehouse file that the dbt build writes (a single writer at a time)."""
    return _env_path(WAREHOUSE_ENV) or project_home() / "var" / "warehouse" / "force_profiles.duckdb"


def central_root() -> Path:
    """The central platform's Parquet files (national nominals, OCG register, operations)."""
    return _env_path("FORCEPROFILES_CENTRAL") or project_home() / "var" / "world" / "central"


def output_root() -> Path:
    """Rendered products: ``<out>/<YYYY-MM>/<force>/<profile>-<kind>.pdf``."""
    return _env_path(OUTPUT_ENV) or project_home() / "var" / "out"


def data_team_email() -> str:
    """The central data team's mailbox: told when a task of the monthly job fails."""
    return os.environ.get(DATA_TEAM_ENV, "").strip() or DEFAULT_DATA_TEAM


def alert_from_email() -> str:
    """The sender address of failure alerts."""
    return os.environ.get(ALERT_FROM_ENV, "").strip() or DEFAULT_ALERT_FROM


def running_under_airflow() -> bool:
    """True inside an Airflow task instance (the task runner exports ``AIRFLOW_CTX_*``)."""
    return bool(os.environ.get(_AIRFLOW_TASK_ENV))


def postgres_dsn_for(force_config: ForceConfig, *, use_airflow: bool | None = None) -> str | None:
    """The PostgreSQL DSN to read a force's extracts from, or None to read its file drop.

    Forces that deliver by file drop get None. For ``delivery: postgres`` forces:

    1. under Airflow (``use_airflow``; default: when running inside a task), the Airflow
       connection named in the registry (``postgres.conn_id``), turned into a libpq DSN;
    2. else ``$FORCEPROFILES_POSTGRES_DSN`` (one database; each force reads its own schema);
    3. else None: the extract falls back to the force's folder in the landing root.

    A connection that Airflow cannot find is logged and falls through to the next route, so a
    missing connection shows up as a missing extract (and a held force), not a crash.
    """
    if force_config.delivery != "postgres":
        return None
    if use_airflow is None:
        use_airflow = running_under_airflow()
    if use_airflow and force_config.conn_id:
        dsn = _dsn_from_airflow_connection(force_config.conn_id)
        if dsn:
            return dsn
    return os.environ.get(POSTGRES_DSN_ENV, "").strip() or None


def _dsn_from_airflow_connection(conn_id: str) -> str | None:
    """Look up an Airflow connection (Airflow 3 Task SDK) and express it as a libpq DSN."""
    try:
        from airflow.sdk import Connection
    except ImportError:  # pragma: no cover - Airflow is a dependency, but the CLI must not need it
        log.warning("Airflow is not importable; cannot read connection %s", conn_id)
        return None
    try:
        connection = Connection.get(conn_id)
    except Exception as error:  # AirflowNotFoundException, or no secrets backend reachable
        log.warning("Airflow connection %s is not available (%s)", conn_id, type(error).__name__)
        return None
    return connection_to_dsn(connection)


def connection_to_dsn(connection: Any) -> str:
    """A libpq DSN from an Airflow connection (host, port, login, password, schema = database).

    Airflow's Postgres connections keep the database name in ``schema``; libpq parameters in
    the extras (``sslmode`` and friends) are passed through, other extras are ignored.
    """
    from psycopg.conninfo import make_conninfo

    params: dict[str, Any] = {
        "host": connection.host or None,
        "port": connection.port or None,
        "user": connection.login or None,
        "password": connection.password or None,
        "dbname": connection.schema or None,
    }
    extras = getattr(connection, "extra_dejson", None) or {}
    for key in _LIBPQ_EXTRAS:
        if extras.get(key) not in (None, ""):
            params[key] = extras[key]
    return make_conninfo("", **{key: value for key, value in params.items() if value is not None})
