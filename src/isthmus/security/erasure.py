"""GDPR erasure: find one person's records, optionally delete or anonymise them in the
systems, erase their data from the state store, leave tombstones, audit the erasure.

Order matters, each step for a reason:
1. find: canonical ids and linked native records, from the id, email or canonical id;
2. act in the systems (optional), while the links still say where the records are;
3. tombstones before the erasure, so a sync running meanwhile already skips the person;
4. erase the store (one transaction), then audit counts only, never an identifier.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from isthmus.connectors.base import WriteOp
from isthmus.engine.engine import Engine
from isthmus.engine.sides import SideBinding
from isthmus.errors import IsthmusError
from isthmus.security.retention import SECURITY_FLOW
from isthmus.security.tombstones import TombstoneKind, digest, email_digest, native_digest
from isthmus.store.types import AuditEvent, ErasureCounts, ErasureTarget

SystemAction = Literal["none", "delete", "anonymise"]
ERASED = "erased"


@dataclass(frozen=True)
class Person:
    """How the request names the person: one of these is given."""

    system: str | None = None
    native_id: str | None = None
    email: str | None = None
    canonical_id: str | None = None


@dataclass
class ErasureReport:
    erasure_id: str
    target: ErasureTarget
    store: ErasureCounts = field(default_factory=dict)
    tombstones: int = 0
    # (system, native id, what was done or why it failed)
    systems: list[tuple[str, str, str]] = field(default_factory=list)


Natives = dict[tuple[str, str], str | None]  # (system, native id) -> entity, if linked


def find(engine: Engine, person: Person) -> tuple[ErasureTarget, Natives]:
    """Every canonical id and linked native record of ``person`` in the store."""
    store = engine.store
    entities = sorted({flow.entity for flow in engine.flows.values()})
    canonical: set[str] = set()
    natives: Natives = {}
    if person.canonical_id:
        canonical.add(person.canonical_id)
    if person.system and person.native_id:
        natives[(person.system, person.native_id)] = None
        for entity in entities:
            found = store.xrefs_by_native(entity, person.system, [person.native_id])
            canonical.update(x.canonical_id for x in found.values())
    if person.email:
        canonical.update(store.canonical_ids_mentioning(person.email))
    for entity in entities:
        for systems in store.xrefs_by_canonical(entity, sorted(canonical)).values():
            natives.update({(x.system, x.native_id): entity for x in systems.values()})
    values = (person.email,) if person.email else ()
    return ErasureTarget(tuple(sorted(canonical)), tuple(sorted(natives)), values), natives


def tombstone_digests(person: Person, target: ErasureTarget) -> list[tuple[str, TombstoneKind]]:
    digests: list[tuple[str, TombstoneKind]] = [
        (native_digest(system, native_id), "native") for system, native_id in target.natives
    ]
    digests += [(digest("canonical", cid), "canonical") for cid in target.canonical_ids]
    if person.email:
        digests.append((email_digest(person.email), "email"))
    return digests


async def erase(
    engine: Engine, person: Person, action: SystemAction = "none", actor: str = "cli"
) -> ErasureReport:
    """Erase ``person`` everywhere Isthmus keeps data (and in the systems if asked)."""
    target, natives = find(engine, person)
    report = ErasureReport(uuid.uuid4().hex[:12], target)
    if action != "none":
        report.systems = await _act_in_systems(engine, natives, action)
    report.tombstones = engine.store.add_tombstones(tombstone_digests(person, target))
    report.store = engine.store.erase(target)
    engine.store.compact()
    counts = ", ".join(f"{table} {n}" for table, n in report.store.items())
    acted = sum(1 for *_, outcome in report.systems if outcome in ("deleted", "anonymised"))
    with engine.store.unit_of_work() as uow:
        # Counts and the request's id only: the audit trail must not re-create what was
        # just erased.
        uow.add_audit(
            [
                AuditEvent(
                    SECURITY_FLOW,
                    "-",
                    "erase",
                    actor=actor,
                    decision=f"erasure {report.erasure_id}; in systems: {action}",
                    message=f"erased from the store: {counts}; {report.tombstones} tombstone(s);"
                    f" {acted} record(s) {action}d in the systems",
                )
            ]
        )
    return report


async def _act_in_systems(
    engine: Engine, natives: Natives, action: SystemAction
) -> list[tuple[str, str, str]]:
    outcomes: list[tuple[str, str, str]] = []
    for (system, native_id), entity in sorted(natives.items()):
        side = _side(engine, system, entity)
        if side is None:
            outcomes.append((system, native_id, "skipped: no flow of this record's entity"))
            continue
        fields = _anonymous(side, native_id)
        if action == "anonymise" and not fields:
            outcomes.append(
                (system, native_id, "skipped: no field of its mapping is marked sensitive")
            )
            continue
        op = (
            WriteOp(native_id, "delete", id=native_id)
            if action == "delete"
            else WriteOp(native_id, "update", fields, id=native_id)
        )
        try:
            (result,) = await side.connector.write(side.object_name, [op])
        except IsthmusError as error:
            outcomes.append((system, native_id, f"failed: {error}"))
            continue
        if result.error is not None:
            outcomes.append((system, native_id, f"failed: {result.error.describe()}"))
        else:
            outcomes.append((system, native_id, "deleted" if action == "delete" else "anonymised"))
    return outcomes


def _side(engine: Engine, system: str, entity: str | None) -> SideBinding | None:
    for flow in engine.ordered():
        if system in flow.sides and (entity is None or flow.entity == entity):
            return flow.sides[system]
    return None


def _anonymous(side: SideBinding, native_id: str) -> dict[str, object]:
    """Placeholder values for the native fields of rules marked sensitive."""
    marker = digest("native", native_id)[:8]
    return {
        name: f"{ERASED}-{marker}@example.invalid" if "mail" in name.lower() else ERASED
        for name in _sensitive_natives(side)
    }


def _sensitive_natives(side: SideBinding) -> Iterable[str]:
    for rule in side.mapper.spec.fields:
        if rule.sensitive and rule.native:
            yield rule.native
        if rule.sensitive:
            for part in (rule.parts or {}).values():
                if part.field:
                    yield part.field
