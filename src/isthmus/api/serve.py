"""``isthmus run --port PORT``: the scheduler and the control plane in one process.

The API, the webhook receivers and ``/metrics`` are served by one uvicorn server, next
to the scheduler, on one event loop and one work queue: a verified webhook or a "run
now" queues work and wakes the scheduler, which processes it between scheduled runs
(one worker, so two runs never write the same record at once in embedded mode).
``webhook_server`` (webhooks only) stays for embedding and older callers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from isthmus.api.app import create_app
from isthmus.api.metrics import Metrics
from isthmus.api.webhooks import webhook_app
from isthmus.engine.report import RunReport
from isthmus.engine.scheduler import Scheduler
from isthmus.engine.webhooks import WebhookIntake


def webhook_server(scheduler: Scheduler, host: str, port: int) -> uvicorn.Server:
    intake = WebhookIntake(scheduler.engine, scheduler.queue)
    app = webhook_app(intake, on_queued=scheduler.wake)
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))


@dataclass(frozen=True)
class Listen:
    """Where the control plane listens; TLS when both certificate and key are given."""

    host: str = "127.0.0.1"
    port: int = 8642
    tls_cert: Path | None = None
    tls_key: Path | None = None


def control_plane_server(scheduler: Scheduler, listen: Listen) -> uvicorn.Server:
    """API, webhooks and metrics for ``scheduler``'s engine; scheduled runs are counted
    in the metrics too (the scheduler's report hook is chained, not replaced)."""
    metrics = Metrics(scheduler.engine, scheduler)
    earlier = scheduler.on_report

    def on_report(report: RunReport) -> None:
        metrics.observe(report)
        if earlier is not None:
            earlier(report)

    scheduler.on_report = on_report
    alerts = scheduler.engine.loaded.config.alerts
    if alerts is not None:
        from isthmus.alerts.monitor import AlertMonitor

        scheduler.after_run.append(AlertMonitor(scheduler.engine, alerts).after_run)
    app = create_app(scheduler.engine, scheduler, metrics=metrics)
    config = uvicorn.Config(
        app,
        host=listen.host,
        port=listen.port,
        log_level="warning",
        ssl_certfile=str(listen.tls_cert) if listen.tls_cert else None,
        ssl_keyfile=str(listen.tls_key) if listen.tls_key else None,
    )
    return uvicorn.Server(config)


async def serve_with_webhooks(scheduler: Scheduler, server: uvicorn.Server) -> None:
    """Run both until the scheduler stops (Ctrl-C, SIGTERM) or the server exits."""
    receiver = asyncio.create_task(server.serve())
    try:
        work = asyncio.create_task(scheduler.serve())
        done, _ = await asyncio.wait({receiver, work}, return_when=asyncio.FIRST_COMPLETED)
        if receiver in done:
            scheduler.stop()  # e.g. the port was taken: do not keep running blind
        server.should_exit = True
        await asyncio.gather(receiver, work, return_exceptions=True)
        for task in done:
            task.result()  # re-raise what ended the service, if it was an error
    finally:
        server.should_exit = True
