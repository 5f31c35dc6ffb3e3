"""A change-event stream shaped like Salesforce Change Data Capture.

Each committed write becomes one event whose payload holds a ``ChangeEventHeader``
(``entityName, recordIds, changeType, changeOrigin, transactionKey, sequenceNumber,
commitTimestamp, commitNumber, commitUser, changedFields, nulledFields, diffFields``)
and the changed field values; ``event.replayId`` orders them. Events of one transaction
share a ``transactionKey`` and count ``sequenceNumber`` from 1.

Real CDC is delivered over CometD or the Pub/Sub API; the sandbox instead serves
``GET /__sandbox/events?replayId=N`` (events after N) and can POST each batch of new
events as ``{"events": [...]}`` to registered callback URLs (at least once: a failed
delivery is retried on the next tick).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from isthmus.sandbox.salesforce.transaction import ChangeNotice

_LOG = logging.getLogger(__name__)
MAX_KEPT_EVENTS = 100_000
_PUSH_INTERVAL_SECONDS = 0.1
_PUSH_TIMEOUT_SECONDS = 5.0
_PUSH_BATCH = 500


@dataclass
class _Callback:
    url: str
    delivered_up_to: int


@dataclass
class ChangeEventLog:
    """The last :data:`MAX_KEPT_EVENTS` change events, and who wants them pushed."""

    events: list[dict[str, Any]] = field(default_factory=list)
    callbacks: dict[str, _Callback] = field(default_factory=dict)
    last_replay_id: int = 0
    commit_number: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def record(self, notices: list[ChangeNotice]) -> None:
        """Store listener: turn one committed transaction into events."""
        with self._lock:
            self.commit_number += 1
            transaction_key = str(uuid.uuid4())
            for sequence, notice in enumerate(notices, start=1):
                self.last_replay_id += 1
                self.events.append(
                    _event(
                        notice, self.last_replay_id, transaction_key, sequence, self.commit_number
                    )
                )
            del self.events[:-MAX_KEPT_EVENTS]

    def after(self, replay_id: int, limit: int, entity: str | None = None) -> list[dict[str, Any]]:
        """Events with a replay id above ``replay_id`` (-1 or 0: from the oldest kept)."""
        with self._lock:
            found = [
                e
                for e in self.events
                if e["event"]["replayId"] > replay_id
                and (entity is None or e["payload"]["ChangeEventHeader"]["entityName"] == entity)
            ]
        return found[:limit]

    def register(self, url: str, from_replay_id: int | None = None) -> None:
        """Push events to ``url``; by default only events from now on."""
        start = self.last_replay_id if from_replay_id is None else from_replay_id
        with self._lock:
            self.callbacks[url] = _Callback(url, start)

    def unregister(self, url: str) -> bool:
        with self._lock:
            return self.callbacks.pop(url, None) is not None

    async def push_forever(self) -> None:
        """Deliver new events to every callback until cancelled."""
        async with httpx.AsyncClient(timeout=_PUSH_TIMEOUT_SECONDS) as client:
            while True:
                for callback in list(self.callbacks.values()):
                    await self._push(client, callback)
                await asyncio.sleep(_PUSH_INTERVAL_SECONDS)

    async def _push(self, client: httpx.AsyncClient, callback: _Callback) -> None:
        batch = self.after(callback.delivered_up_to, _PUSH_BATCH)
        if not batch:
            return
        try:
            answer = await client.post(callback.url, json={"events": batch})
            answer.raise_for_status()
        except httpx.HTTPError as exc:
            _LOG.warning("change event push to %s failed (will retry): %s", callback.url, exc)
            return
        callback.delivered_up_to = batch[-1]["event"]["replayId"]


def _event(
    notice: ChangeNotice, replay_id: int, transaction_key: str, sequence: int, commit: int
) -> dict[str, Any]:
    header = {
        "entityName": notice.object_name,
        "recordIds": [notice.record_id],
        "changeType": notice.change_type,
        "changeOrigin": "com/salesforce/api/rest/sandbox;client=isthmus-sandbox",
        "transactionKey": transaction_key,
        "sequenceNumber": sequence,
        "commitTimestamp": int(notice.committed_at.timestamp() * 1000),
        "commitNumber": commit,
        "commitUser": notice.user_id,
        "changedFields": list(notice.changed_fields) if notice.change_type == "UPDATE" else [],
        "nulledFields": list(notice.nulled_fields),
        "diffFields": [],
    }
    payload: dict[str, Any] = {"ChangeEventHeader": header}
    if notice.change_type == "CREATE":
        payload.update(
            {k: v for k, v in notice.values.items() if v is not None and k not in ("Id",)}
        )
    elif notice.change_type == "UPDATE":
        payload.update({k: notice.values.get(k) for k in notice.changed_fields})
    return {
        "schema": f"sandbox/{_event_name(notice.object_name)}",
        "channel": f"/data/{_event_name(notice.object_name)}",
        "payload": payload,
        "event": {"replayId": replay_id},
    }


def _event_name(object_name: str) -> str:
    if object_name.endswith("__c"):
        return object_name[:-3] + "__ChangeEvent"
    return object_name + "ChangeEvent"


async def run_pusher(log: ChangeEventLog) -> None:
    """Task body for the app's lifespan; swallows its own cancellation."""
    with contextlib.suppress(asyncio.CancelledError):
        await log.push_forever()
