"""Dead letters: list with filters, show, replay one, many, or all open ones of a flow."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from isthmus.api.auth import Principal, require
from isthmus.api.context import ApiContext, context
from isthmus.api.errors import ERROR_RESPONSES, ApiError, not_found
from isthmus.api.logs import log
from isthmus.api.masking import mask_fields
from isthmus.api.models import DeadLetterOut, PathId, ReplayIn, ReplayOut, ReportOut
from isthmus.errors import IsthmusError
from isthmus.store import DeadLetter

router = APIRouter(tags=["dead letters"], responses=ERROR_RESPONSES)
Ctx = Annotated[ApiContext, Depends(context)]
Status = Literal["open", "waiting", "resolved", "discarded"]


def letter_out(letter: DeadLetter, ctx: ApiContext, who: Principal) -> DeadLetterOut:
    answer = DeadLetterOut(**{k: getattr(letter, k) for k in DeadLetterOut.model_fields})
    if not who.at_least("operator"):
        names = ctx.sensitive.native.get(letter.flow, frozenset())
        answer.payload = mask_fields(letter.payload, names)
    return answer


@router.get("/dead-letters", response_model=list[DeadLetterOut])
def list_letters(
    ctx: Ctx,
    who: Annotated[Principal, Depends(require("viewer"))],
    flow: str | None = None,
    status: Status | None = "open",
    system: str | None = None,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[DeadLetterOut]:
    letters = ctx.engine.store.dead_letters(flow=flow, status=status, limit=5000)
    chosen = [
        letter
        for letter in letters
        if (system is None or letter.system == system) and (kind is None or letter.kind == kind)
    ]
    return [letter_out(letter, ctx, who) for letter in chosen[:limit]]


@router.get("/dead-letters/{letter_id}", response_model=DeadLetterOut)
def show_letter(
    letter_id: PathId, ctx: Ctx, who: Annotated[Principal, Depends(require("viewer"))]
) -> DeadLetterOut:
    letter = ctx.engine.store.dead_letter(letter_id)
    if letter is None:
        raise not_found(f"no dead letter with id {letter_id}", "List them: GET /dead-letters.")
    return letter_out(letter, ctx, who)


async def replay_ids(ctx: ApiContext, ids: list[int], who: Principal) -> ReplayOut:
    """Replay these letters as ``who`` (the API routes and the dashboard share it)."""
    # Checked under the lock, so of two requests replaying one letter the second is a
    # 409 once the first has resolved it.
    async with ctx.writing:
        return await _replay_checked(ctx, ids, who)


async def _replay_checked(ctx: ApiContext, ids: list[int], who: Principal) -> ReplayOut:
    for letter_id in ids:
        letter = ctx.engine.store.dead_letter(letter_id)
        if letter is None:
            raise not_found(f"no dead letter with id {letter_id}", "List them: GET /dead-letters.")
        if letter.status not in ("open", "waiting"):
            raise ApiError(
                409,
                f"dead letter {letter_id} is already {letter.status}",
                "Nothing to replay; GET /dead-letters lists the open ones.",
            )
    log.info("dead_letters_replay", letter_ids=ids, actor=who.actor)
    try:
        reports = await ctx.engine.replay(ids, actor=who.actor)
    except IsthmusError as error:
        raise ApiError(422, str(error), "Check the letters and the flow's config.") from None
    for report in reports:
        ctx.metrics.observe(report)
    return ReplayOut(replayed=ids, reports=[ReportOut.of(report) for report in reports])


@router.post("/dead-letters/{letter_id}/replay", response_model=ReplayOut)
async def replay_letter(
    letter_id: PathId, ctx: Ctx, who: Annotated[Principal, Depends(require("operator"))]
) -> ReplayOut:
    return await replay_ids(ctx, [letter_id], who)


@router.post("/dead-letters/replay", response_model=ReplayOut)
async def replay_letters(
    body: ReplayIn, ctx: Ctx, who: Annotated[Principal, Depends(require("operator"))]
) -> ReplayOut:
    if (not body.ids) == (body.flow is None):
        raise ApiError(
            422,
            "give either ids or flow",
            'Send {"ids": [1, 2]} to replay those, or {"flow": NAME} for all its open ones.',
        )
    ids = list(dict.fromkeys(body.ids))
    if body.flow is not None:
        if body.flow not in ctx.engine.flows:
            raise not_found(f"no flow named {body.flow!r}", "GET /flows lists them.")
        letters = ctx.engine.store.dead_letters(flow=body.flow, status="open", limit=5000)
        ids = [letter.id for letter in letters if letter.id is not None]
    return await replay_ids(ctx, ids, who)
