"""Rejection write-back: tell the origin system that the other side refused a record.

A dead letter tells the integration team; the person who entered an order in the CRM
does not read dead letters. With ``on_rejection.write_back`` on a flow, a record whose
write the partner refused (a business or validation error by default) gets a status
value, and optionally the refusal's message, written onto the record it came from::

    on_rejection:
      write_back: {field: Sync_Status__c, value: Error, message_field: Sync_Message__c,
                   cleared_value: Synced}

With ``cleared_value``, a record refused before (an open dead letter of the flow) that
now goes through, after a replay or a fix at its source, gets that value instead.

The write goes through the origin's connector outside the page's unit of work, after
the page's writes: a failure to write back is reported in the run's messages and never
fails the page. The status field is not part of the mapping, so writing it changes no
canonical value and echoes nothing to the partner.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from isthmus.connectors.base import WriteOp
from isthmus.engine.config import WriteBackConfig
from isthmus.engine.record import PlanOutcome, first_error
from isthmus.engine.report import RunReport
from isthmus.engine.sides import SideBinding
from isthmus.errors import IsthmusError


def rejection_ops(
    outcomes: Sequence[PlanOutcome],
    spec: WriteBackConfig,
    refused_before: Collection[str] = (),
) -> list[WriteOp]:
    """One update of the origin record per refused outcome of the configured kinds, and,
    with ``cleared_value``, per record in ``refused_before`` that now went through."""
    ops = []
    for outcome in outcomes:
        error = first_error(outcome)
        fields: dict[str, object] = {}
        if error is not None and error.kind in spec.kinds:
            fields[spec.field] = spec.value
            if spec.message_field:
                said = error.vendor_message or error.message
                fields[spec.message_field] = said[: spec.max_length]
        elif error is None and spec.cleared_value and outcome.origin_id in refused_before:
            fields[spec.field] = spec.cleared_value
            if spec.message_field:
                fields[spec.message_field] = None
        if fields:
            ops.append(
                WriteOp(f"rejected:{outcome.origin_id}", "update", fields, id=outcome.origin_id)
            )
    return ops


async def write_back_rejections(
    outcomes: Sequence[PlanOutcome],
    spec: WriteBackConfig | None,
    origin: SideBinding,
    default_system: str,
    report: RunReport,
    refused_before: Callable[[], Collection[str]] = lambda: (),
) -> None:
    if spec is None or origin.system != (spec.system or default_system):
        return
    ops = rejection_ops(outcomes, spec, refused_before() if spec.cleared_value else ())
    if not ops:
        return
    try:
        results = await origin.connector.write(origin.object_name, ops)
    except IsthmusError as error:
        report.messages.append(
            f"on_rejection.write_back: could not mark {len(ops)} refused record(s) in "
            f"{origin.system} {origin.object_name}: {error}"
        )
        return
    for result in results:
        if result.error is not None:
            report.messages.append(
                f"on_rejection.write_back: {origin.system} {origin.object_name} "
                f"{result.ref.removeprefix('rejected:')}: {result.error.describe()}"
            )
