"""``$batch`` in the OData v4 JSON format: parse, enforce the size limit, dispatch.

Requests sharing an ``atomicityGroup`` form a change set: they succeed together or the
store is restored to its state before the group, and every member reports failure. The
caller supplies the per-request handler and the snapshot/restore pair, so this module
knows nothing about storage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

DEFAULT_MAX_OPERATIONS = 100

Snapshot = TypeVar("Snapshot")


class BatchError(ValueError):
    """The batch body is malformed or too large; the whole batch is refused."""


@dataclass(frozen=True)
class BatchRequest:
    id: str
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    atomicity_group: str | None = None


@dataclass(frozen=True)
class BatchResponse:
    id: str
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {"id": self.id, "status": self.status, "headers": self.headers}
        if self.body is not None:
            result["body"] = self.body
        return result


def parse_batch(body: Any, max_operations: int = DEFAULT_MAX_OPERATIONS) -> list[BatchRequest]:
    """Read ``{"requests": [...]}``; raises BatchError naming the problem."""
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        raise BatchError('$batch body must be a JSON object {"requests": [...]}')
    raw_requests: list[Any] = body["requests"]
    if len(raw_requests) > max_operations:
        raise BatchError(
            f"$batch holds {len(raw_requests)} operations; the limit is {max_operations}. "
            "Split the work into several batches."
        )
    requests: list[BatchRequest] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_requests):
        if not isinstance(raw, dict) or "method" not in raw or "url" not in raw:
            raise BatchError(f"$batch request #{index} needs at least 'method' and 'url'")
        request_id = str(raw.get("id", index + 1))
        if request_id in seen:
            raise BatchError(f"$batch request id {request_id!r} is used twice")
        seen.add(request_id)
        requests.append(
            BatchRequest(
                id=request_id,
                method=str(raw["method"]).upper(),
                url=str(raw["url"]),
                headers={str(k): str(v) for k, v in (raw.get("headers") or {}).items()},
                body=raw.get("body"),
                atomicity_group=raw.get("atomicityGroup"),
            )
        )
    return requests


def _groups(requests: list[BatchRequest]) -> list[list[BatchRequest]]:
    """Split into units of work: each atomicity group is one unit, each other request one."""
    units: list[list[BatchRequest]] = []
    by_group: dict[str, list[BatchRequest]] = {}
    for request in requests:
        if request.atomicity_group is None:
            units.append([request])
        elif request.atomicity_group in by_group:
            by_group[request.atomicity_group].append(request)
        else:
            by_group[request.atomicity_group] = [request]
            units.append(by_group[request.atomicity_group])
    return units


def run_batch(
    requests: list[BatchRequest],
    handle: Callable[[BatchRequest], BatchResponse],
    snapshot: Callable[[], Snapshot],
    restore: Callable[[Snapshot], None],
) -> list[BatchResponse]:
    """Dispatch every request in order; roll back a change set whose member failed."""
    responses: list[BatchResponse] = []
    for unit in _groups(requests):
        if len(unit) == 1 and unit[0].atomicity_group is None:
            responses.append(handle(unit[0]))
            continue
        saved = snapshot()
        unit_responses = []
        for request in unit:
            response = handle(request)
            unit_responses.append(response)
            if response.status >= 400:
                break
        failed = next((r for r in unit_responses if r.status >= 400), None)
        if failed is None:
            responses.extend(unit_responses)
            continue
        # A change set is all or nothing: undo what its earlier members wrote.
        restore(saved)
        for request in unit:
            if request.id == failed.id:
                responses.append(failed)
            else:
                responses.append(
                    BatchResponse(
                        request.id,
                        424,
                        {
                            "error": {
                                "code": "FailedDependency",
                                "message": (
                                    f"not applied: request {failed.id} of change set "
                                    f"{request.atomicity_group!r} failed"
                                ),
                            }
                        },
                    )
                )
    return responses
