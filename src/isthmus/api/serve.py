"""``isthmus run --webhooks PORT``: the scheduler and the webhook receiver in one process.

Both share one event loop and one work queue: a verified webhook queues a fetch and
wakes the scheduler, which processes it between scheduled runs (one worker, so two
runs never write the same record at once in embedded mode).
"""

from __future__ import annotations

import asyncio

import uvicorn

from isthmus.api.app import create_app
from isthmus.engine.scheduler import Scheduler


def webhook_server(scheduler: Scheduler, host: str, port: int) -> uvicorn.Server:
    """The control plane on ``host:port``: API, webhooks and metrics, fed to ``scheduler``."""
    app = create_app(scheduler.engine, scheduler.queue, on_queued=scheduler.wake)
    return uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))


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
