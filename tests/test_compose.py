"""``docker-compose.yml``: valid Compose, and the production topology the design asks for.

Validated three ways, none of which needs a Docker engine:
- ``docker-compose config`` (Debian's ``docker-compose`` package, installed for tests by
  ``scripts/setup_test_tools.sh``) resolves the file with ``.env.example`` and fails, naming the
  secret, when a required secret is missing;
- the resolved file is checked against the Compose specification JSON schema that the same
  package ships (``compose/config/compose_spec.json``);
- structural assertions: every Airflow service runs the one project image with the same
  environment and volumes, the CeleryExecutor on PostgreSQL and Redis, a scalable worker, the
  init job that creates the warehouse pool, a mail relay, secrets only from the environment.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
COMPOSE_SPEC_SCHEMA = Path("/usr/lib/python3/dist-packages/compose/config/compose_spec.json")
AIRFLOW_SERVICES = ("airflow-init", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer", "worker")
SECRETS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_API_SECRET_KEY",
           "AIRFLOW_JWT_SECRET", "AIRFLOW_ADMIN_PASSWORD")


def _docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing: scripts/setup_test_tools.sh installs it")
        # in CI the tools are installed by scripts/setup_test_tools.sh: missing there is a failure
        (pytest.fail if os.environ.get("CI") else pytest.skip)("docker-compose is not installed (scripts/setup_test_tools.sh installs it)")
    return found


def _config(tmp_path: Path, env_text: str) -> subprocess.CompletedProcess[str]:
    """``docker-compose config`` on a copy of the compose file with ``env_text`` as its .env."""
    (tmp_path / "docker-compose.yml").write_text(COMPOSE.read_text())
    (tmp_path / ".env").write_text(env_text)
    env = {key: value for key, value in os.environ.items() if key not in SECRETS and not key.startswith("AIRFLOW")}
    return subprocess.run([_docker_compose(), "config"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def resolved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The compose file as docker-compose resolves it with .env.example."""
    done = _config(tmp_path_factory.mktemp("compose"), ENV_EXAMPLE.read_text())
    assert done.returncode == 0, done.stderr
    return dict(yaml.safe_load(done.stdout))


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    """The compose file as written (YAML anchors and merge keys expanded by the loader)."""
    return dict(yaml.safe_load(COMPOSE.read_text()))


def test_docker_compose_config_accepts_the_file(resolved: dict[str, Any]) -> None:
    assert set(AIRFLOW_SERVICES) | {"postgres", "redis", "mailpit"} <= set(resolved["services"])


@pytest.mark.parametrize("secret", SECRETS)
def test_a_missing_secret_stops_compose_with_its_name(tmp_path: Path, secret: str) -> None:
    env_text = "\n".join(line for line in ENV_EXAMPLE.read_text().splitlines() if not line.startswith(f"{secret}="))
    done = _config(tmp_path, env_text)
    assert done.returncode != 0
    assert f"set {secret} in .env" in done.stderr


def test_resolved_file_matches_the_compose_spec_schema(resolved: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    if not COMPOSE_SPEC_SCHEMA.is_file():
        _docker_compose()  # skips or fails the same way when the package is missing
    import json

    schema = json.loads(COMPOSE_SPEC_SCHEMA.read_text())
    validator = jsonschema.Draft201909Validator(schema)
    errors = sorted(validator.iter_errors(resolved), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    # The schema does reject a wrong file (the check can fail).
    broken = {**resolved, "services": {**resolved["services"], "worker": {**resolved["services"]["worker"],
                                                                          "scale_out": 3}}}
    assert list(validator.iter_errors(broken))


def test_every_airflow_service_shares_image_environment_and_volumes(raw: dict[str, Any]) -> None:
    services = raw["services"]
    base = services["airflow-scheduler"]
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service["image"] == base["image"] == "${FORCEPROFILES_IMAGE:-force-profiles:latest}", name
        assert service["build"] == {"context": "."}, name
        assert service["volumes"] == base["volumes"], name
        # The same environment (airflow-init adds only the admin password it writes).
        extra = {k: v for k, v in service["environment"].items() if k not in base["environment"]}
        assert service["environment"].items() >= base["environment"].items(), name
        assert set(extra) <= {"AIRFLOW_ADMIN_PASSWORD"}, name
    # And in the file itself they come from the shared anchors, not copies.
    text = COMPOSE.read_text()
    assert text.count("<<: *airflow-common") == len(AIRFLOW_SERVICES)


def test_celery_on_postgres_and_redis(raw: dict[str, Any]) -> None:
    env = raw["services"]["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg://airflow:${POSTGRES_PASSWORD:?")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].endswith("@postgres:5432/airflow")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"] == env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert re.fullmatch(r"redis://:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379/\d+", env["AIRFLOW__CELERY__BROKER_URL"])
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-api-server:8080/execution/"
    assert env["AIRFLOW_CONN_SMTP_DEFAULT"].endswith("smtp://mailpit:1025?disable_tls=true&disable_ssl=true}")
    depends = raw["services"]["worker"]["depends_on"]
    assert depends["postgres"]["condition"] == depends["redis"]["condition"] == "service_healthy"
    assert depends["airflow-init"]["condition"] == "service_completed_successfully"


def test_roles_init_job_and_scalable_worker(raw: dict[str, Any]) -> None:
    services = raw["services"]
    commands = {name: services[name].get("command") for name in AIRFLOW_SERVICES}
    assert commands["airflow-api-server"][0] == "api-server"
    assert commands["airflow-scheduler"] == ["scheduler"]
    assert commands["airflow-dag-processor"] == ["dag-processor"]
    assert commands["airflow-triggerer"] == ["triggerer"]
    assert commands["worker"] == ["celery", "worker"]
    init = services["airflow-init"]["command"][0]
    assert "airflow db migrate" in init
    assert 'airflow pools set duckdb_warehouse 1 ' in init  # stage 3's single-writer pool
    assert services["airflow-init"]["restart"] == "no"
    # `--scale worker=N` needs no fixed container name and no host port.
    assert "container_name" not in services["worker"] and "ports" not in services["worker"]
    assert "celery@$${HOSTNAME}" in services["worker"]["healthcheck"]["test"][1]
    assert services["mailpit"]["image"].startswith("axllent/mailpit:")


def test_data_volumes(raw: dict[str, Any]) -> None:
    volumes = raw["services"]["worker"]["volumes"]
    env = raw["services"]["worker"]["environment"]
    mounts = {entry.split(":")[-2] if entry.endswith(":ro") else entry.split(":")[-1]: entry for entry in volumes}
    for variable in ("FORCEPROFILES_LAKE", "FORCEPROFILES_OUT", "FORCEPROFILES_LANDING", "FORCEPROFILES_CENTRAL"):
        assert env[variable] in mounts, variable
    assert str(Path(env["FORCEPROFILES_WAREHOUSE"]).parent) in mounts
    for variable in ("FORCEPROFILES_LEDGER", "FORCEPROFILES_DISCLOSURE_LOG"):
        assert str(Path(env[variable]).parent) in mounts, variable
    for named in ("lake", "warehouse", "out", "distribution", "airflow-logs"):
        assert named in raw["volumes"]
    assert mounts["/data/landing"].endswith(":ro") and mounts["/data/central"].endswith(":ro")


def test_secrets_only_from_the_environment(raw: dict[str, Any]) -> None:
    """No secret value in the compose file; .env is never committed, .env.example holds placeholders."""
    text = COMPOSE.read_text()
    for secret in SECRETS:
        assert f"${{{secret}:?set {secret} in .env}}" in text, secret
    assert not re.search(r"(?i)(password|secret|fernet)[A-Z_]*:\s*['\"]?[A-Za-z0-9+/=_-]{8,}['\"]?\s*$", text,
                         re.MULTILINE)
    assert ".env" in (REPO / ".gitignore").read_text().split(), ".env must be ignored by git"
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", ".env"], cwd=REPO,
                             capture_output=True).returncode == 0  # also false outside a git checkout
    assert not tracked, ".env must never be committed"
    example = dict(line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines()
                   if line and not line.startswith("#"))
    assert all(example[secret].startswith("change-me") for secret in SECRETS)
    assert ".env" in (REPO / ".dockerignore").read_text().split()


def test_dockerfile_installs_the_lock_and_the_project() -> None:
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.MULTILINE)
    assert "pip install -r /tmp/requirements.lock" in dockerfile
    assert "pip install --no-deps -e ." in dockerfile
    assert "libpango-1.0-0" in dockerfile  # WeasyPrint
    assert re.search(r'^ENTRYPOINT \["/usr/bin/tini", "--", "airflow"\]', dockerfile, re.MULTILINE)
