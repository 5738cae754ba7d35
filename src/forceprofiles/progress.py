"""Progress bars for long command-line work, quiet when not on a terminal (Airflow, CI)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(label: str, total: int, enabled: bool = True) -> Iterator[Callable[[], None]]:
    """Yield an ``advance()`` callable; draws a rich progress bar only on an interactive terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda: progress.advance(task)
