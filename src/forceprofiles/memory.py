"""How much memory each DuckDB of the build may take: a share of what this process may use.

The build runs two DuckDB databases at once during person resolution: the warehouse's (dbt and
the resolver, ``FORCEPROFILES_DUCKDB_MEMORY``) and Splink's in-memory one
(``FORCEPROFILES_LINKAGE_MEMORY``). Without a limit each takes up to 80% of the machine; with
one, big joins and sorts spill to a temporary folder instead. A fixed limit is wrong both ways:
4GB ran the national marts out of memory on a 24 GiB machine, and on a small container two
fixed limits together can exceed the container, which kills the worker rather than spilling.
So each defaults to a share of the memory this process may use, and a variable overrides it.
"""

from __future__ import annotations

import os
from pathlib import Path

MINIMUM_GB = 1
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")


def available_memory_bytes() -> int:
    """The memory this process may use: the machine's, or its container's limit where that is lower
    (cgroup v2 ``memory.max`` or v1 ``memory.limit_in_bytes``: in a container the machine's own
    figure is the host's, and a limit above the container's gets the worker killed, not spilled)."""
    available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    for path in _CGROUP_LIMITS:
        try:
            text = Path(path).read_text(encoding="ascii").strip()
        except OSError:
            continue
        if text.isdigit():  # "max" (v2) means no limit
            available = min(available, int(text))
    return available


def share_of_memory(share: float, available_bytes: int | None = None) -> str:
    """``share`` of ``available_bytes`` (default :func:`available_memory_bytes`) as a DuckDB
    memory limit in whole GB (DuckDB's GB: 10^9 bytes), at least :data:`MINIMUM_GB`: a bigger
    machine should let the build grow with the records, a small one should spill rather than be
    killed."""
    available = available_memory_bytes() if available_bytes is None else available_bytes
    return f"{max(MINIMUM_GB, int(available * share / 10**9))}GB"


def memory_limit(variable: str, share: float) -> str:
    """``$variable`` as given (DuckDB's units: ``8GB``, ``6GiB``), else :func:`share_of_memory`."""
    return os.environ.get(variable, "").strip() or share_of_memory(share)
