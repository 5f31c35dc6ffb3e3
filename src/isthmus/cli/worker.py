"""``isthmus worker -c FILE``: one worker of distributed mode (start any number, anywhere)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer

from isthmus.cli.output import console, fail
from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.errors import IsthmusError


def print_report(report: RunReport) -> None:
    console.print(
        f"{time.strftime('%H:%M:%S')} [bold]{report.flow}[/] {report.status}: {report.summary()}"
    )


def worker(
    config: Annotated[Path, typer.Option("--config", "-c", help="The Isthmus config file.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No line per work item.")] = False,
) -> None:
    """Take work from the broker (queue.backend rabbitmq) and apply it, until stopped.

    Start as many as the systems' API budgets allow, on any machine that reaches the
    broker, the PostgreSQL store and the systems; they share the budgets and never
    apply one record twice at once. Ctrl-C or SIGTERM finishes the item in hand.
    """
    from isthmus.api.logs import configure_logging
    from isthmus.distributed.service import distributed_dsn, serve_worker

    try:
        engine = Engine.from_config(load_config(config))
    except IsthmusError as error:
        fail(str(error), "Fix the file and run `isthmus validate -c FILE` again.")
        raise typer.Exit(2) from None
    try:
        distributed_dsn(engine)
    except IsthmusError as error:
        asyncio.run(engine.close())
        fail(str(error))
        raise typer.Exit(1) from None
    configure_logging()
    queue = engine.loaded.config.queue
    console.print(f"Worker on queue {queue.name!r}; Ctrl-C stops after the item in hand.")
    try:
        done = asyncio.run(serve_worker(engine, None if quiet else print_report))
    except IsthmusError as error:
        fail(str(error))
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        console.print("Stopped.")
        return
    counts = done.counts
    console.print(
        f"Stopped after {counts.items} item(s), {counts.records} record(s); "
        f"{counts.again} queued again, {counts.buried} sent to the dead letters."
    )
