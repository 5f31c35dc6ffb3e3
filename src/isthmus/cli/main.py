"""Entry point: ``isthmus validate|sync|run|status|dead-letters|review|demo``.

Every command that takes ``-c FILE`` loads and checks the whole config first, so a typo
is reported with ``file:line`` before anything touches a system.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated

import typer

from isthmus.cli.output import console, fail, print_matching, report_messages, run_table
from isthmus.cli.reconcile import reconcile
from isthmus.cli.sandbox import sandbox_app
from isthmus.cli.tokens import token_app
from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport
from isthmus.engine.runner import RunOptions
from isthmus.errors import IsthmusError

app = typer.Typer(
    name="isthmus",
    help="Keep a CRM and an ERP in agreement: no duplicates, no lost changes, no echo.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(sandbox_app)
app.add_typer(token_app)
app.command()(reconcile)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The Isthmus config file.")]


def _engine(config: Path) -> Engine:
    try:
        return Engine.from_config(load_config(config))
    except IsthmusError as error:
        fail(str(error), "Fix the file and run `isthmus validate -c FILE` again.")
        raise typer.Exit(2) from None


@app.command()
def validate(config: ConfigOption) -> None:
    """Check a config file, its mappings, and that every system answers."""
    engine = _engine(config)

    async def check() -> None:
        try:
            await engine.describe()
        finally:
            await engine.close()

    try:
        asyncio.run(check())
    except IsthmusError as error:
        fail(str(error), "The config is well formed, but a system could not be described.")
        raise typer.Exit(1) from None
    for flow in engine.ordered():
        console.print(
            f"[green]ok[/] flow [bold]{flow.name}[/]: {flow.entity} "
            f"{flow.source.system}.{flow.source.object_name} "
            f"{'<->' if flow.config.direction == 'both' else '->'} "
            f"{flow.target.system}.{flow.target.object_name}"
        )
    console.print(f"[green]Config {config} is valid.[/]")


@app.command()
def sync(
    config: ConfigOption,
    flow: Annotated[list[str] | None, typer.Option("--flow", "-f", help="Only this flow.")] = None,
    full: Annotated[bool, typer.Option(help="Read everything, not only changes.")] = False,
    force: Annotated[bool, typer.Option(help="Go past the safety valves.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Read both sides, match and plan, write nothing: report what would be "
            "linked, sent to review and created.",
        ),
    ] = False,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the results as JSON (no progress bar).")
    ] = False,
) -> None:
    """Run flows once, in dependency order, with a progress bar."""
    from isthmus.cli.progress import SyncProgress

    engine = _engine(config)
    names = flow or None
    if names:
        for name in names:
            if name not in engine.flows:
                fail(f"no flow named {name!r}", f"flows: {', '.join(engine.flows)}")
                raise typer.Exit(2)
    started = time.perf_counter()

    async def go() -> list[RunReport]:
        try:
            with SyncProgress(console, enabled=not (quiet or json_output)) as progress:
                return await engine.sync(
                    names,
                    options=RunOptions(full=full, force=force, dry_run=dry_run),
                    progress=progress.advance,
                    trigger="dry-run" if dry_run else "manual",
                )
        finally:
            await engine.close()

    try:
        reports = asyncio.run(go())
    except IsthmusError as error:
        fail(str(error))
        raise typer.Exit(1) from None
    _print_results(reports, time.perf_counter() - started, json_output=json_output)
    if any(report.status in ("failed", "stopped", "paused") for report in reports):
        raise typer.Exit(1)


def _print_results(reports: list[RunReport], seconds: float, *, json_output: bool) -> None:
    from isthmus.cli.preview import print_json, print_preview

    if json_output:
        print_json(reports, seconds)
        return
    if any(report.preview is not None for report in reports):
        print_preview(reports)
    else:
        console.print(run_table(reports, seconds))
        print_matching(reports)
    report_messages(reports)


@app.command()
def run(
    config: ConfigOption,
    port: Annotated[
        int,
        typer.Option(
            "--port",
            "--webhooks",
            metavar="PORT",
            help="Serve the control API (/api, /openapi.json), webhooks (/webhooks/{system}) "
            "and /metrics on this port; 0 to serve nothing.",
        ),
    ] = 8642,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """Keep flows running on their triggers (poll interval, cron, webhook) until stopped."""
    from isthmus.engine.scheduler import Scheduler

    engine = _engine(config)
    scheduler = Scheduler(
        engine,
        on_report=lambda r: console.print(
            f"{time.strftime('%H:%M:%S')} [bold]{r.flow}[/] {r.status}: {r.summary()}"
        ),
    )
    hooked = [flow.name for flow in engine.ordered() if flow.config.trigger.webhook]
    if hooked and not port:
        console.print(
            f"[yellow]note[/] flow(s) {', '.join(hooked)} have a webhook trigger, but no "
            "receiver runs; give --port PORT."
        )
    console.print(f"Running {len(scheduler.entries)} scheduled flow(s); Ctrl-C stops.")
    try:
        if not port:
            asyncio.run(scheduler.serve())
        else:
            from isthmus.api.serve import serve_with_webhooks, webhook_server

            console.print(
                f"Control plane on http://{host}:{port}: API /api (docs /docs), "
                "webhooks /webhooks/{system}, metrics /metrics"
            )
            asyncio.run(serve_with_webhooks(scheduler, webhook_server(scheduler, host, port)))
    except KeyboardInterrupt:
        console.print("Stopped.")


@app.command()
def status(config: ConfigOption) -> None:
    """Show each flow's last run, links, dead letters and review items."""
    from isthmus.cli.views import status_table

    engine = _engine(config)
    try:
        console.print(status_table(engine))
    finally:
        asyncio.run(engine.close())


@app.command()
def demo(
    once: Annotated[bool, typer.Option(help="Exit after the story.")] = False,
    directory: Annotated[
        Path | None,
        typer.Option("--dir", help="Where to put the demo databases (default: a new temp dir)."),
    ] = None,
) -> None:
    """Tell the whole story on two local databases: no set-up needed."""
    from isthmus.demo.story import run_demo

    raise typer.Exit(asyncio.run(run_demo(console, directory, once=once)))


def _register_subcommands() -> None:
    from isthmus.cli.records import dead_letters_app, review_app

    app.add_typer(dead_letters_app, name="dead-letters")
    app.add_typer(review_app, name="review")


_register_subcommands()

if __name__ == "__main__":  # pragma: no cover
    app()
