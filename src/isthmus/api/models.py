"""Response and request bodies of the control-plane API (pydantic v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, Field

from isthmus.engine.report import RunReport
from isthmus.store import Role

# Row ids fit a signed 64-bit column (SQLite INTEGER, PostgreSQL BIGINT); a larger one
# is bad input (422), not a database overflow (500).
MAX_ID = 2**63 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]


class RunOut(BaseModel):
    id: str
    flow: str
    trigger: str
    status: str
    counts: dict[str, int]
    message: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ReportOut(BaseModel):
    """How one run ended, as the engine reported it."""

    flow: str
    run_id: str
    status: str
    counts: dict[str, int]
    messages: list[str]

    @classmethod
    def of(cls, report: RunReport) -> ReportOut:
        return cls(
            flow=report.flow,
            run_id=report.run_id,
            status=report.status,
            counts=dict(report.counts),
            messages=list(report.messages),
        )


class SystemOut(BaseModel):
    name: str
    connector: str
    healthy: bool
    problem: str | None = None
    budget: dict[str, float] | None = None


class FlowOut(BaseModel):
    name: str
    entity: str
    source: str
    target: str
    direction: str
    paused: bool
    dead_letters: int
    waiting: int
    review: int
    links: int
    last_run: RunOut | None = None


class FlowRunOut(BaseModel):
    """``queued``: handed to the running scheduler; else ``report`` of the run made now."""

    queued: bool
    report: ReportOut | None = None


class XrefOut(BaseModel):
    system: str
    native_id: str


class AuditOut(BaseModel):
    id: int | None
    at: datetime | None
    flow: str
    entity: str
    action: str
    actor: str
    canonical_id: str | None = None
    system: str | None = None
    native_id: str | None = None
    field: str | None = None
    old_value: Any = None
    new_value: Any = None
    base_value: Any = None
    other_value: Any = None
    decision: str | None = None
    run_id: str | None = None
    message: str | None = None


class RecordOut(BaseModel):
    entity: str
    canonical_id: str
    links: list[XrefOut]
    base: dict[str, Any] | None
    history: list[AuditOut]


class DeadLetterOut(BaseModel):
    id: int
    flow: str
    entity: str
    system: str
    native_id: str
    kind: str
    message: str
    status: str
    attempts: int
    canonical_id: str | None = None
    field: str | None = None
    vendor_code: str | None = None
    vendor_message: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    first_at: datetime | None = None
    last_at: datetime | None = None


class ReplayIn(BaseModel):
    """Replay these letters, or every open letter of ``flow``."""

    ids: list[RowId] = Field(default_factory=list, max_length=1000)
    flow: str | None = None


class ReplayOut(BaseModel):
    replayed: list[int]
    reports: list[ReportOut]


class ReviewOut(BaseModel):
    id: int
    flow: str
    entity: str
    kind: str
    subject_key: str
    status: str
    details: dict[str, Any]
    canonical_id: str | None = None
    resolution: dict[str, Any] | None = None
    resolved_by: str | None = None
    created_at: datetime | None = None
    resolved_at: datetime | None = None


class SideRow(BaseModel):
    path: str
    values: dict[str, Any]
    base: Any = None
    differs: bool


class SideBySideOut(BaseModel):
    item: ReviewOut
    systems: list[str]
    native_ids: dict[str, str]
    rows: list[SideRow]
    problems: dict[str, str]


class ResolveIn(BaseModel):
    """A conflict takes ``take`` (a system) or ``value``; a duplicate ``link`` or ``create``."""

    take: str | None = Field(default=None, max_length=80)
    value: Any = None
    link: str | None = Field(default=None, max_length=255)
    create: bool = False


class ReconcileOut(BaseModel):
    flow: str
    compared: int
    in_agreement: int
    clean: bool
    counts: dict[str, int]
    records: dict[str, int]
    drifts: list[dict[str, Any]]


class UserIn(BaseModel):
    name: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.@-]+$")
    role: Role


class UserOut(BaseModel):
    name: str
    role: Role
    created_at: datetime | None = None


class TokenOut(BaseModel):
    id: str
    user: str
    created_at: datetime | None = None
    revoked: bool
    token: str | None = Field(default=None, description="Shown once, when created.")


class FlowStateOut(BaseModel):
    flow: str
    paused: bool
    state: Literal["paused", "enabled"]


# Store ids are 64-bit integers: a larger one names nothing, and is refused as bad input
# (422) instead of reaching the database.
RecordId = Annotated[int, Path(ge=1, le=2**63 - 1)]
