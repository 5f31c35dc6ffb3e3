"""What every route reaches through ``request.app.state.context``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import Request

from isthmus.api.masking import Sensitive
from isthmus.engine.engine import Engine
from isthmus.engine.reconcile import ReconcileReport

if TYPE_CHECKING:
    from isthmus.api.metrics import Metrics
    from isthmus.engine.scheduler import Scheduler


@dataclass
class ApiContext:
    engine: Engine
    scheduler: Scheduler | None
    metrics: Metrics
    sensitive: Sensitive
    # The newest reconciliation per flow, as found (drift details are not stored).
    reconciled: dict[str, ReconcileReport] = field(default_factory=dict)
    # Writes asked for through the API (run, replay, resolve, reconcile) run one at a
    # time, so two requests never apply the same record at once; work of the scheduler
    # goes through its own single worker (a run now is queued there when it runs).
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)


def context(request: Request) -> ApiContext:
    found: ApiContext = request.app.state.context
    return found
