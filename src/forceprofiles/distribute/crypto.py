"""Group passwords from the secret store, and the AES-256 zip each PDF travels in.

Where passwords come from (first hit wins; never from the repository, never logged):

1. under Airflow (inside a task), the Airflow Variable ``fp_secret_<name>`` (any secrets
   backend Airflow is configured with: the metadata database, Vault, environment
   ``AIRFLOW_VAR_FP_SECRET_<NAME>``...). Airflow masks variables whose key holds "secret" in
   task logs;
2. the environment variable ``FORCEPROFILES_SECRET_<NAME>`` (``<NAME>`` = the group's
   ``secret`` in ``profiles/recipients.yml``, upper case);
3. only when asked for (``forceprofiles send --dev-secrets``, or ``FORCEPROFILES_DEV_SECRETS=1``),
   the development secrets file ``<home>/var/distribution/dev-secrets.env`` (outside git: var/
   is ignored). :func:`ensure_dev_secrets` creates it with a random password for every group
   that has none, mode 0600, and keeps existing entries so earlier runs' zips still open. It
   is for the synthetic default (``make run``) only; a real deployment sets 1 or 2.

A group with no password anywhere raises :class:`MissingSecretError` before anything of that
product is sent. Passwords reach recipients out of band (never in the email).

The zip is WinZip AES-256 (``pyzipper``, AE-2), which 7-Zip, WinZip and macOS/Windows archive
tools open; the PDF inside keeps its name.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path

import pyzipper

from forceprofiles import settings

log = logging.getLogger(__name__)

ENV_PREFIX = "FORCEPROFILES_SECRET_"
AIRFLOW_PREFIX = "fp_secret_"
DEV_SECRETS_ENV = "FORCEPROFILES_DEV_SECRETS"
MIN_LENGTH = 12


class MissingSecretError(LookupError):
    """A recipient group's password is in none of the secret stores: nothing is sent."""


def env_name(secret: str) -> str:
    """``norfolk_vawg_team`` -> ``FORCEPROFILES_SECRET_NORFOLK_VAWG_TEAM``."""
    return ENV_PREFIX + secret.upper()


def dev_secrets_path() -> Path:
    """``<home>/var/distribution/dev-secrets.env``: development passwords, outside git."""
    return settings.project_home() / "var" / "distribution" / "dev-secrets.env"


def dev_secrets_enabled() -> bool:
    """True when ``FORCEPROFILES_DEV_SECRETS`` asks for the development secrets file."""
    return os.environ.get(DEV_SECRETS_ENV, "").strip().lower() in ("1", "true", "yes")


class SecretStore:
    """Look up group passwords: Airflow Variable, environment, then (opt-in) the dev file."""

    def __init__(self, *, use_airflow: bool | None = None, dev_file: Path | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        self.use_airflow = settings.running_under_airflow() if use_airflow is None else use_airflow
        if dev_file is None and dev_secrets_enabled():
            dev_file = dev_secrets_path()
        self.dev_file = dev_file
        self._environ = environ

    def get(self, secret: str) -> str:
        """The password named ``secret``; :class:`MissingSecretError` if no store has it."""
        value = self._lookup(secret)
        if not value:
            where = [f"Airflow Variable {AIRFLOW_PREFIX}{secret}"] if self.use_airflow else []
            where.append(f"environment variable {env_name(secret)}")
            if self.dev_file:
                where.append(f"dev secrets file {self.dev_file}")
            raise MissingSecretError(f"no password for recipient group secret {secret!r}: set {' or '.join(where)} "
                                     f"(nothing of this product was sent)")
        if len(value) < MIN_LENGTH:
            raise MissingSecretError(f"the password for secret {secret!r} is shorter than {MIN_LENGTH} characters")
        return value

    def has(self, secret: str) -> bool:
        """True if some store holds the secret (for checks before sending)."""
        return bool(self._lookup(secret))

    def _lookup(self, secret: str) -> str | None:
        if self.use_airflow:
            value = _airflow_variable(AIRFLOW_PREFIX + secret)
            if value:
                return value
        environ = os.environ if self._environ is None else self._environ
        value = environ.get(env_name(secret), "").strip()
        if value:
            return value
        if self.dev_file and self.dev_file.is_file():
            return read_env_file(self.dev_file).get(env_name(secret)) or None
        return None


def _airflow_variable(key: str) -> str | None:
    try:
        from airflow.sdk import Variable
    except ImportError:  # pragma: no cover - Airflow is a dependency
        return None
    try:
        value = Variable.get(key, default=None)
    except Exception as error:  # no API server reachable, backend error: fall through to the env
        log.warning("Airflow Variable lookup failed (%s); trying the environment", type(error).__name__)
        return None
    return str(value) if value else None


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (``export`` prefix and comments allowed)."""
    values = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.removeprefix("export ").split("=", 1)
        values[name.strip()] = value.strip().strip("'\"")
    return values


def ensure_dev_secrets(secret_names: Iterable[str], path: Path | None = None,
                       store: SecretStore | None = None) -> Path:
    """Create or extend the development secrets file with a password for every group lacking one.

    Groups whose password is already in the environment (or Airflow) are left out; existing
    entries are kept. The file is written with mode 0600 under ``var/`` (ignored by git). Its
    path is returned; nothing of its contents is logged.
    """
    path = Path(path) if path else dev_secrets_path()
    store = store or SecretStore(dev_file=None)
    existing = read_env_file(path) if path.is_file() else {}
    added = 0
    for secret in sorted(set(secret_names)):
        if store.has(secret) or env_name(secret) in existing:
            continue
        existing[env_name(secret)] = secrets.token_urlsafe(18)
        added += 1
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# Development attachment passwords (forceprofiles send --dev-secrets). Not for real use.\n")
        handle.writelines(f"{name}={value}\n" for name, value in sorted(existing.items()))
    os.replace(tmp, path)
    log.info("development secrets file %s: %d password(s), %d new", path, len(existing), added)
    return path


def encrypt_pdf(pdf: bytes, member_name: str, password: str) -> bytes:
    """The PDF as a WinZip AES-256 encrypted zip (one member, ``member_name``), in memory."""
    if not password:
        raise MissingSecretError("refusing to write an unencrypted attachment (empty password)")
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES) as archive:
        archive.setpassword(password.encode("utf-8"))
        archive.setencryption(pyzipper.WZ_AES, nbits=256)
        archive.writestr(member_name, pdf)
    return buffer.getvalue()


def decrypt_zip(data: bytes, password: str) -> dict[str, bytes]:
    """Every member of an AES zip (for tests and for a recipient's check); wrong password raises."""
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(password.encode("utf-8"))
        return {name: archive.read(name) for name in archive.namelist()}
