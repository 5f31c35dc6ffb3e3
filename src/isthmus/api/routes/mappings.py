"""Mapping preview (operator): what a changed mapping would change, before it is applied.

A dry run by construction: records are read and mapped twice, nothing is written to
either system or to the store.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from isthmus.api.auth import Principal, require
from isthmus.api.context import ApiContext, context
from isthmus.api.errors import ERROR_RESPONSES, ApiError
from isthmus.api.mapping_preview import PreviewInputError, preview_mapping
from isthmus.errors import IsthmusError

router = APIRouter(tags=["mappings"], responses=ERROR_RESPONSES)


class MappingPreviewIn(BaseModel):
    mapping: str = Field(
        min_length=1, max_length=200_000, description="The changed mapping, as YAML text."
    )
    flow: str | None = Field(default=None, max_length=200, description="Only this flow.")
    limit: int = Field(default=50, ge=1, le=1000, description="Records read per side.")


class FieldChangeOut(BaseModel):
    path: str
    before: Any = None
    after: Any = None


class RecordChangeOut(BaseModel):
    flow: str
    system: str
    native_id: str
    changes: list[FieldChangeOut]
    error: str | None = None


class MappingPreviewOut(BaseModel):
    mapping: str
    flows: list[str]
    read: int
    changed: int
    records: list[RecordChangeOut] = Field(description="Only records that would change.")


@router.post("/mappings/preview", response_model=MappingPreviewOut)
async def preview(
    body: MappingPreviewIn,
    ctx: Annotated[ApiContext, Depends(context)],
    _: Annotated[Principal, Depends(require("operator"))],
) -> MappingPreviewOut:
    try:
        found = await preview_mapping(ctx.engine, body.mapping, body.flow, body.limit)
    except PreviewInputError as error:
        raise ApiError(
            422, str(error), "Paste a whole mapping file whose `name` a flow uses."
        ) from None
    except IsthmusError as error:
        raise ApiError(
            422, f"the records could not be read: {error}", "Check the system, then retry."
        ) from None
    return MappingPreviewOut(
        mapping=found.mapping,
        flows=found.flows,
        read=found.read,
        changed=found.changed,
        records=[
            RecordChangeOut(
                flow=r.flow,
                system=r.system,
                native_id=r.native_id,
                changes=[
                    FieldChangeOut(path=c.path, before=c.before, after=c.after) for c in r.changes
                ],
                error=r.error,
            )
            for r in found.records
            if r.changes or r.error
        ],
    )
