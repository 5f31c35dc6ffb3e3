"""Systems: health (the connector describes the objects its flows use) and API budget."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from isthmus.api.auth import Principal, require
from isthmus.api.context import ApiContext, context
from isthmus.api.errors import ERROR_RESPONSES
from isthmus.api.models import SystemOut
from isthmus.api.systems_budget import budget_of

router = APIRouter(tags=["systems"], responses=ERROR_RESPONSES)


@router.get("/systems", response_model=list[SystemOut])
async def list_systems(
    ctx: Annotated[ApiContext, Depends(context)],
    _: Annotated[Principal, Depends(require("viewer"))],
) -> list[SystemOut]:
    engine = ctx.engine
    objects: dict[str, set[str]] = {}
    for flow in engine.flows.values():
        for side in flow.sides.values():
            objects.setdefault(side.system, set()).add(side.object_name)
    found = []
    for name, system in engine.loaded.config.systems.items():
        connector = engine.connectors[name]
        problem = None
        try:
            for object_name in sorted(objects.get(name, ())):
                await connector.describe(object_name)
        except Exception as error:  # health reports any failure, it never raises
            problem = f"{type(error).__name__}: {error}"
        found.append(
            SystemOut(
                name=name,
                connector=system.connector,
                healthy=problem is None,
                problem=problem,
                budget=budget_of(connector),
            )
        )
    return found
