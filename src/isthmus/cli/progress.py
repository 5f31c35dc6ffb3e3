"""A Rich progress display fed by the engine's per-page progress callback."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


class SyncProgress:
    """One line per flow: records processed, rate and elapsed time."""

    def __init__(self, console: Console, *, enabled: bool = True) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} rec/s"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> SyncProgress:
        self._progress.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.__exit__(kind, value, traceback)

    def advance(self, flow: str, records: int) -> None:
        task = self._tasks.get(flow)
        if task is None:
            task = self._progress.add_task(flow, total=None, rate="0")
            self._tasks[flow] = task
        self._progress.update(task, advance=records)
        current = self._progress.tasks[task]
        elapsed = current.elapsed or 0.0
        rate = f"{current.completed / elapsed:,.0f}" if elapsed > 0 else "-"
        self._progress.update(task, rate=rate, total=current.completed)
