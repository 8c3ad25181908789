"""The one rich progress bar of the commands: a label, a bar, a line of figures and the time."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any


@contextlib.contextmanager
def progress_bar(
    label: str, total: float | None = None, *, counts: bool = False, transient: bool = False
) -> Iterator[Callable[..., None]]:
    """Yields ``update(completed=None, total=None, info=None)``; ``counts`` adds an "n/N" column."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    cols = [TextColumn(f"[bold]{label}"), BarColumn()]
    cols += [MofNCompleteColumn()] if counts else []
    cols += [TextColumn("{task.fields[info]}"), TimeElapsedColumn()]
    with Progress(*cols, transient=transient) as bar:
        task = bar.add_task(label, total=total, info="")

        def update(completed: float | None = None, total: float | None = None, info: str | None = None) -> None:
            fields: dict[str, Any] = {"info": info} if info is not None else {}
            bar.update(task, completed=completed, total=total, **fields)

        yield update
