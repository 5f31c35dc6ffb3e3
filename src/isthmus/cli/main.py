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
from rich.markup import escape

from isthmus.cli.output import console, fail, print_matching, report_messages, run_table
from isthmus.cli.reconcile import reconcile
from isthmus.cli.sandbox import sandbox_app
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
    from isthmus.security.references import plaintext_secrets

    for warning in plaintext_secrets(engine.loaded.document):
        console.print(f"[yellow]warning:[/] {escape(warning)}")
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
            help="Serve the control plane here: API (/openapi.json), vendor webhooks "
            "(POST /webhooks/{system}) and /metrics.",
        ),
    ] = 8642,
    webhooks: Annotated[
        int | None,
        typer.Option("--webhooks", metavar="PORT", help="Old name of --port (kept to work)."),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 exposes it to the network.")
    ] = "127.0.0.1",
    tls_cert: Annotated[
        Path | None, typer.Option(help="TLS certificate (PEM); serve HTTPS with --tls-key.")
    ] = None,
    tls_key: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    no_workers: Annotated[
        bool,
        typer.Option(
            "--no-workers",
            help="Distributed mode: schedule, take webhooks and serve the API, but leave "
            "all syncing to `isthmus worker` processes.",
        ),
    ] = False,
) -> None:
    """Keep flows running on their triggers (poll, cron, webhook) and serve the control
    plane, until stopped."""
    from isthmus.api.logs import configure_logging
    from isthmus.api.serve import Listen, control_plane_server, serve_with_webhooks
    from isthmus.engine.scheduler import Scheduler

    if (tls_cert is None) != (tls_key is None):
        fail("--tls-cert and --tls-key go together", "Give both, or neither for plain HTTP.")
        raise typer.Exit(2)
    engine = _engine(config)
    distributed = engine.loaded.config.queue.distributed
    if no_workers and not distributed:
        fail(
            "--no-workers needs distributed mode: with the embedded queue nobody else works",
            "Set queue: {backend: rabbitmq, url: ...} and a PostgreSQL store (docs/deployment.md).",
        )
        raise typer.Exit(2)
    configure_logging()
    scheduler = Scheduler(
        engine,
        on_report=lambda r: console.print(
            f"{time.strftime('%H:%M:%S')} [bold]{r.flow}[/] {r.status}: {r.summary()}"
        ),
    )
    listen = Listen(host, webhooks if webhooks is not None else port, tls_cert, tls_key)
    scheme = "https" if tls_cert else "http"
    console.print(f"Running {len(scheduler.entries)} scheduled flow(s); Ctrl-C stops.")
    console.print(
        f"Control plane on {scheme}://{host}:{listen.port}: dashboard /dashboard, API "
        "/openapi.json, webhooks /webhooks/{system}, metrics /metrics (create a token: "
        "`isthmus tokens create`)"
    )
    try:
        if distributed:
            from isthmus.distributed.service import serve_scheduler

            console.print(
                f"Distributed: queue {engine.loaded.config.queue.name!r}; this process polls "
                "while it holds the scheduler lock"
                + ("; no local worker." if no_workers else ", and works too.")
            )
            asyncio.run(
                serve_scheduler(
                    scheduler,
                    lambda s: serve_with_webhooks(s, control_plane_server(s, listen)),
                    local_worker=not no_workers,
                    on_report=scheduler.on_report,
                )
            )
        else:
            asyncio.run(serve_with_webhooks(scheduler, control_plane_server(scheduler, listen)))
    except IsthmusError as error:
        fail(str(error))
        raise typer.Exit(1) from None
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
    port: Annotated[
        int | None,
        typer.Option(help="After the story, serve the dashboard and API on 127.0.0.1:PORT."),
    ] = None,
) -> None:
    """Tell the whole story on two local databases: no set-up needed."""
    from isthmus.demo.story import run_demo

    raise typer.Exit(asyncio.run(run_demo(console, directory, once=once, port=port)))


def _register_subcommands() -> None:
    from isthmus.cli.records import dead_letters_app, review_app

    app.add_typer(dead_letters_app, name="dead-letters")
    app.add_typer(review_app, name="review")
    from isthmus.cli.access import tokens_app, users_app

    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
    from isthmus.cli.secrets import secrets_app

    app.add_typer(secrets_app, name="secrets")
    from isthmus.cli.oauth import oauth_app

    app.add_typer(oauth_app, name="oauth")
    from isthmus.cli.forget import forget
    from isthmus.cli.purge import purge

    app.command()(purge)
    app.command()(forget)
    from isthmus.cli.worker import worker

    app.command()(worker)


_register_subcommands()

if __name__ == "__main__":  # pragma: no cover
    app()
