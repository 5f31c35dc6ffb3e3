"""Review queue: list, show side by side, resolve (take/value, or link/create)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from isthmus.api.auth import Principal, require
from isthmus.api.context import ApiContext, context
from isthmus.api.errors import ERROR_RESPONSES, ApiError, not_found
from isthmus.api.logs import log
from isthmus.api.masking import MASK, is_sensitive, mask_nested
from isthmus.api.models import PathId, ReportOut, ResolveIn, ReviewOut, SideBySideOut, SideRow
from isthmus.engine.resolution import DuplicateChoice
from isthmus.errors import IsthmusError
from isthmus.store import ReviewItem

router = APIRouter(tags=["review"], responses=ERROR_RESPONSES)
Ctx = Annotated[ApiContext, Depends(context)]


def review_out(item: ReviewItem, ctx: ApiContext, who: Principal) -> ReviewOut:
    answer = ReviewOut(**{k: getattr(item, k) for k in ReviewOut.model_fields})
    if not who.at_least("operator"):
        paths = ctx.sensitive.paths(item.entity)
        answer.details = mask_nested(item.details, paths)
        answer.resolution = mask_nested(item.resolution, paths)
    return answer


def _item(ctx: ApiContext, item_id: int) -> ReviewItem:
    item = ctx.engine.store.review_item(item_id)
    if item is None:
        raise not_found(f"no review item with id {item_id}", "List them: GET /review.")
    return item


@router.get("/review", response_model=list[ReviewOut])
def list_review(
    ctx: Ctx,
    who: Annotated[Principal, Depends(require("viewer"))],
    flow: str | None = None,
    status: Literal["open", "resolved", "dismissed"] | None = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ReviewOut]:
    items = ctx.engine.store.review_items(flow=flow, status=status, limit=limit)
    return [review_out(item, ctx, who) for item in items]


@router.get("/review/{item_id}", response_model=SideBySideOut)
async def show_review(
    item_id: PathId, ctx: Ctx, who: Annotated[Principal, Depends(require("viewer"))]
) -> SideBySideOut:
    _item(ctx, item_id)
    sides = await ctx.engine.review_sides(item_id)
    paths = ctx.sensitive.paths(sides.item.entity)
    hide = not who.at_least("operator")
    rows = []
    for path, values, base, differs in sides.rows():
        masked = hide and is_sensitive(path, paths)
        rows.append(
            SideRow(
                path=path,
                values={
                    s: MASK if masked else v for s, v in zip(sides.systems, values, strict=True)
                },
                base=MASK if masked else base,
                differs=differs,
            )
        )
    return SideBySideOut(
        item=review_out(sides.item, ctx, who),
        systems=sides.systems,
        native_ids=sides.native_ids,
        rows=rows,
        problems=sides.problems,
    )


@router.post("/review/{item_id}/resolve", response_model=ReportOut)
async def resolve_review(
    item_id: PathId,
    body: ResolveIn,
    ctx: Ctx,
    who: Annotated[Principal, Depends(require("operator"))],
) -> ReportOut:
    item = _item(ctx, item_id)
    if item.status != "open":
        raise ApiError(
            409,
            f"review item {item_id} is already {item.status} (by {item.resolved_by})",
            "Nothing to do; GET /review lists the open ones.",
        )
    value = body.value
    if body.link is not None or body.create:
        value = DuplicateChoice(link=body.link, create=body.create)
    elif body.take is None and "value" not in body.model_fields_set:
        raise ApiError(
            422,
            "say how to resolve it",
            'Conflicts: {"take": SYSTEM} or {"value": V}; duplicates: {"link": ID} or '
            '{"create": true}.',
        )
    # Ids only: the chosen value may be a sensitive field's.
    log.info(
        "review_resolve",
        item_id=item_id,
        flow=item.flow,
        canonical_id=item.canonical_id,
        take=body.take,
        actor=who.actor,
    )
    try:
        async with ctx.writing:
            # Checked again under the lock: a request resolving the same item just
            # before this one makes this one a 409, not a second resolution.
            if _item(ctx, item_id).status != "open":
                raise ApiError(409, f"review item {item_id} was just resolved", "Nothing to do.")
            report = await ctx.engine.resolve_review(
                item_id, take=body.take, value=value, actor=who.actor
            )
    except (IsthmusError, ValueError, TypeError) as error:
        # A value the field cannot hold is bad input, not a server error.
        raise ApiError(422, str(error), "Resolve it as the message says.") from None
    ctx.metrics.observe(report)
    return ReportOut.of(report)
