"""Mapping preview: what a changed mapping would change, per record and field, before
it is applied. Nothing is written: records are read from the system the mapping
speaks for and mapped twice (the mapping in use, then the new text), and the canonical
views are compared. A field that changes here is written to the other system by the
next run of the flow.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from isthmus.engine.engine import Engine
from isthmus.engine.flows import FlowBinding
from isthmus.engine.resolver import StoreResolver
from isthmus.engine.sides import SideBinding
from isthmus.errors import IsthmusError
from isthmus.mapping import Mapper
from isthmus.mapping.loader import parse_mapping
from isthmus.mapping.spec import MappingSpec
from isthmus.model.flat import Flat


class PreviewInputError(IsthmusError):
    """The pasted mapping cannot be previewed (unparsable, or no flow uses it)."""


@dataclass
class FieldChange:
    path: str
    before: Any
    after: Any


@dataclass
class RecordChange:
    flow: str
    system: str
    native_id: str
    changes: list[FieldChange] = field(default_factory=list)
    error: str | None = None


@dataclass
class MappingPreview:
    mapping: str
    flows: list[str]
    read: int = 0
    records: list[RecordChange] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return sum(1 for record in self.records if record.changes or record.error)


def parse(text: str) -> MappingSpec:
    try:
        return parse_mapping(text, "<pasted mapping>")
    except IsthmusError as error:
        raise PreviewInputError(str(error)) from None
    except Exception as error:  # YAML or schema errors of pasted text are the user's input
        raise PreviewInputError(f"the mapping cannot be read: {error}") from None


def _sides(engine: Engine, spec: MappingSpec, flow: str | None) -> list[tuple[FlowBinding, str]]:
    found = []
    for binding in engine.flows.values():
        if flow is not None and binding.name != flow:
            continue
        for system, side in binding.sides.items():
            if side.mapper.name == spec.name:
                found.append((binding, system))
    if not found:
        where = f"flow {flow!r}" if flow else "any flow"
        raise PreviewInputError(
            f"mapping {spec.name!r} is not used by {where}; "
            "give the `name` of a mapping in use (its flows name it on a side)"
        )
    return found


def _view(side: SideBinding, fields: Any, resolver: StoreResolver) -> tuple[Flat | None, str]:
    try:
        return side.view(fields, resolver), ""
    except IsthmusError as error:
        return None, str(error)


async def preview_mapping(
    engine: Engine, text: str, flow: str | None = None, limit: int = 50
) -> MappingPreview:
    """Compare the mapping in use with ``text`` over up to ``limit`` records per side.

    Raises:
        PreviewInputError: the text is not a valid mapping, or no flow uses its name.
    """
    spec = parse(text)
    if flow is not None and flow not in engine.flows:
        raise PreviewInputError(f"no flow named {flow!r}; flows: {', '.join(engine.flows)}")
    await engine.describe()
    preview = MappingPreview(spec.name, [])
    resolver = StoreResolver(engine.store)
    for binding, system in _sides(engine, spec, flow):
        preview.flows.append(binding.name)
        side = binding.sides[system]
        changed = dataclasses.replace(side, mapper=Mapper(spec))
        read = 0
        async for page in engine.connectors[system].read_changes(
            side.object_name, None, page_size=limit
        ):
            for record in page.records:
                if record.deleted or read >= limit:
                    continue
                read += 1
                preview.records.append(
                    _compare(
                        binding.name, system, record.id, side, changed, record.fields, resolver
                    )
                )
            if read >= limit:
                break
        preview.read += read
    return preview


def _compare(
    flow: str,
    system: str,
    native_id: str,
    side: SideBinding,
    changed: SideBinding,
    fields: Any,
    resolver: StoreResolver,
) -> RecordChange:
    before, _ = _view(side, fields, resolver)
    after, problem = _view(changed, fields, resolver)
    result = RecordChange(flow, system, native_id)
    if after is None:
        result.error = problem
        return result
    before = before or {}
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            result.changes.append(FieldChange(path, before.get(path), after.get(path)))
    return result
