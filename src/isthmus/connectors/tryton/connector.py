"""``TrytonConnector``: a Tryton server (trytond 8.x) as a system, over JSON-RPC.

Objects are Tryton model names (``party.party``, ``sale.sale``) or aliases declared in
the options with a model and a domain (``credit_notes: {model: account.invoice, domain:
...}``). Native ids are Tryton ids as text.

Reads: the change feed is a keyset on ``(last_modified_at, id)``: Tryton's own
``coalesce(write_date, create_date)``, searchable and sortable. Tryton stamps a record
with its transaction's start time, so a long transaction can commit a stamp older than
one already read: each incremental read starts ``overlap_seconds`` before the cursor and
the engine's content hashes make the re-read records free. Tryton keeps no tombstones
readable by id, so deletes are found by reconciliation (``delete_feed`` is off).

Writes: a batch goes as one ``create`` (or ``write``) call; when Tryton refuses it, the
whole transaction is rolled back, so each record is sent again alone to find the one at
fault. A ``state`` in the values moves the record through its workflow buttons (a sale
to ``confirmed`` is quoted, then confirmed); when a button of a new record is refused,
the record is deleted again so a replay starts clean.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from isthmus.connectors.base import (
    Capabilities,
    ChangePage,
    Cursor,
    FieldDescription,
    FieldType,
    NativeRecord,
    ObjectDescription,
    WebhookEvent,
    WriteOp,
    WriteResult,
)
from isthmus.connectors.tryton.client import TrytonClient
from isthmus.connectors.tryton.errors import TrytonFault, record_error
from isthmus.connectors.tryton.profiles import PROFILES, Profile, Shapes, flatten_dotted
from isthmus.errors import ConfigError, RecordError

_TYPES: Mapping[str, FieldType] = {
    "char": "string",
    "text": "text",
    "integer": "integer",
    "biginteger": "integer",
    "float": "decimal",
    "numeric": "decimal",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
    "timestamp": "datetime",
    "selection": "picklist",
    "multiselection": "json",
    "many2one": "reference",
    "one2one": "reference",
    "reference": "string",
    "one2many": "json",
    "many2many": "json",
    "dict": "json",
}
_SIMPLE = frozenset(_TYPES) - {"one2many", "many2many", "dict", "multiselection"}
_ALL = {"active_test": False}  # read inactive records too: deactivating is not deleting
_ID_CHUNK = 500


@dataclass(frozen=True)
class ObjectOptions:
    """One object's options: its model, a domain, an external key, create defaults."""

    model: str
    domain: tuple[Any, ...] = ()
    external_key: str | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    fields: tuple[str, ...] = ()  # extra fields to read besides the profile's
    context: Mapping[str, Any] = field(default_factory=dict)  # e.g. stock locations
    # Read everything on every run: for values no stamp follows (stock quantities).
    always_full: bool = False


@dataclass
class _Object:
    options: ObjectOptions
    description: ObjectDescription
    read_fields: list[str]
    profile: Profile | None
    defaults: dict[str, Any] = field(default_factory=dict)


class TrytonConnector:
    def __init__(
        self,
        name: str,
        client: TrytonClient,
        *,
        objects: Mapping[str, ObjectOptions] | None = None,
        overlap: timedelta = timedelta(seconds=5),
        batch_size: int = 100,
    ) -> None:
        self.name = name
        self.client = client
        self.objects = dict(objects or {})
        self.overlap = overlap
        # Upserts are a look-up by the object's external key, then a create or an update
        # (Tryton has no upsert call); only objects with an external_key offer them.
        self.capabilities = Capabilities(
            batch_size=batch_size,
            webhooks=False,
            delete_feed=False,
            lookup=True,
            upsert_by_external_id=True,
        )
        self.shapes = Shapes(client)
        self._described: dict[str, _Object] = {}

    # -- describe ----------------------------------------------------------------------

    def _options(self, object_name: str) -> ObjectOptions:
        return self.objects.get(object_name) or ObjectOptions(model=object_name)

    async def _object(self, object_name: str) -> _Object:
        if object_name in self._described:
            return self._described[object_name]
        options = self._options(object_name)
        profile = PROFILES.get(options.model)
        raw: dict[str, Any] = await self.client.model(options.model, "fields_get", None)
        # Required fields Tryton fills itself (company, currency) are not required of us.
        candidates = [n for n, spec in raw.items() if spec.get("required")]
        defaulted = set(
            await self.client.model(options.model, "default_get", candidates) if candidates else {}
        )
        fields: dict[str, FieldDescription] = {}
        for name, spec in raw.items():
            kind = _TYPES.get(str(spec.get("type")))
            if kind is None:
                continue  # binary and the like: not synced
            selection = spec.get("selection")
            required = (
                bool(spec.get("required")) and not spec.get("readonly") and name not in defaulted
            )
            if profile and name in profile.filled:
                required = False
            fields[name] = FieldDescription(
                name,
                "id" if name == "id" else kind,
                length=spec.get("size") or None,
                required=required and name not in options.defaults,
                picklist=tuple(str(v[0]) for v in selection if v[0] is not None)
                if isinstance(selection, list)
                else None,
                read_only=bool(spec.get("readonly")),
                references=spec.get("relation"),
            )
        if profile:
            for name, virtual in profile.virtual.items():
                fields[name] = virtual
            if profile.template_fields:
                template = await self.client.model("product.template", "fields_get", None)
                for name in profile.template_fields:
                    spec = template.get(name, {})
                    kind = _TYPES.get(str(spec.get("type")), "string")
                    fields[name] = FieldDescription(
                        name, kind, required=False, references=spec.get("relation")
                    )
            if profile.workflow:
                state = fields.get("state")
                fields["state"] = FieldDescription(
                    "state", "picklist", picklist=state.picklist if state else None
                )
        key = options.external_key
        if key and key not in fields:
            raise ConfigError(
                f"system {self.name!r}: objects.{object_name}.external_key names {key!r}, "
                f"which {options.model} does not have; pick a char field (reference, code)"
            )
        if profile:
            read = [n for n in profile.read_fields if n.split(".")[0] in fields]
        else:
            read = [n for n, spec in raw.items() if spec.get("type") in _SIMPLE]
        read += [n for n in options.fields if n not in read]
        if key and key not in read:
            read.append(key)
        for stamp in ("last_modified_at", "write_date", "create_date"):
            if stamp not in read:
                read.append(stamp)
        description = ObjectDescription(object_name, "id", fields, external_key=key)
        defaults = await self._defaults(object_name, options, fields)
        self._described[object_name] = _Object(options, description, read, profile, defaults)
        return self._described[object_name]

    async def _defaults(
        self, object_name: str, options: ObjectOptions, fields: Mapping[str, FieldDescription]
    ) -> dict[str, Any]:
        """Create defaults, with ``{search: DOMAIN}`` values turned into the record's id, so
        a config names a unit or a category by name, not by an id of one database."""
        resolved: dict[str, Any] = {}
        for name, value in options.defaults.items():
            spec = fields.get(name)
            if isinstance(value, Mapping) and "search" in value:
                model = (spec.references if spec else None) or value.get("model")
                found = await self.client.model(
                    str(model), "search", [_clause(c) for c in value["search"]], 0, 1
                )
                if not found:
                    raise ConfigError(
                        f"system {self.name!r}: objects.{object_name}.defaults.{name}: no "
                        f"{model} matches {value['search']!r}; create it in Tryton or change "
                        "the search"
                    )
                # A many2many (a party's categories) is added to, not set.
                value = [["add", [int(found[0])]]] if spec and spec.type == "json" else found[0]
            elif spec and spec.type == "reference" and str(value).isdigit():
                value = int(value)  # ids from ${ENV} arrive as text
            resolved[name] = value
        return resolved

    async def describe(self, object_name: str) -> ObjectDescription:
        return (await self._object(object_name)).description

    # -- reads -------------------------------------------------------------------------

    async def _search_read(
        self, obj: _Object, domain: list[Any], *, limit: int | None = None
    ) -> list[NativeRecord]:
        rows = await self.client.model(
            obj.options.model,
            "search_read",
            [*obj.options.domain, *domain],
            0,
            limit,
            [("last_modified_at", "ASC"), ("id", "ASC")],
            obj.read_fields,
            context={**_ALL, **obj.options.context},
        )
        flat = [flatten_dotted(row) for row in rows]
        await self.shapes.expand(obj.options.model, flat)
        # References read as text, like the engine's native ids: a party 5 read back must
        # equal the "5" a look-up wrote, or every update would send it again.
        references = [n for n, f in obj.description.fields.items() if f.type == "reference"]
        for row in flat:
            for name in references:
                if isinstance(row.get(name), int):
                    row[name] = str(row[name])
            for line in row.get("lines") or ():
                if isinstance(line, dict) and isinstance(line.get("product"), int):
                    line["product"] = str(line["product"])
        return [_native(row) for row in flat]

    async def read_changes(
        self, object_name: str, cursor: Cursor | None, *, page_size: int = 1000
    ) -> AsyncIterator[ChangePage]:
        obj = await self._object(object_name)
        after: tuple[datetime, int] | None = None
        domain: list[Any] = []
        if obj.options.always_full:
            cursor = None
        if cursor:
            since = datetime.fromisoformat(cursor["ts"])
            after = (since, int(cursor["id"]))
            domain = (
                [("last_modified_at", ">=", since - self.overlap)]
                if self.overlap
                else [_after(since, after[1])]
            )
        last: Cursor = dict(cursor or {})
        sent = False
        while True:
            raw = await self._search_read(obj, domain, limit=page_size)
            records = raw
            if after is not None and not self.overlap:
                records = [r for r in raw if _position(r) > after]
            if raw:
                tail = raw[-1]
                # Every record has a stamp (coalesce of write and create dates).
                assert tail.modified_at is not None
                last = {"ts": tail.modified_at.isoformat(), "id": tail.id}
                domain = [_after(tail.modified_at, int(tail.id))]
            if records or not sent:
                yield ChangePage(records, dict(last), full=cursor is None)
                sent = True
            if len(raw) < page_size:
                return

    async def read_by_ids(self, object_name: str, ids: Sequence[str]) -> dict[str, NativeRecord]:
        obj = await self._object(object_name)
        numbers = sorted({int(i) for i in ids if str(i).isdigit()})
        found: dict[str, NativeRecord] = {}
        for start in range(0, len(numbers), _ID_CHUNK):
            chunk = numbers[start : start + _ID_CHUNK]
            for record in await self._search_read(obj, [("id", "in", chunk)]):
                found[record.id] = record
        return {i: found[i] for i in ids if i in found}

    async def lookup(
        self, object_name: str, field_name: str, values: Sequence[str]
    ) -> dict[str, list[NativeRecord]]:
        obj = await self._object(object_name)
        description = obj.description.field(field_name)
        wanted: list[Any] = list(values)
        if description and description.type in ("reference", "integer", "id"):
            wanted = [int(v) for v in values if str(v).lstrip("-").isdigit()]
        grouped: dict[str, list[NativeRecord]] = {}
        for start in range(0, len(wanted), _ID_CHUNK):
            chunk = wanted[start : start + _ID_CHUNK]
            for record in await self._search_read(obj, [(field_name, "in", chunk)]):
                grouped.setdefault(str(record.fields.get(field_name)), []).append(record)
        return grouped

    # -- writes ------------------------------------------------------------------------

    async def write(self, object_name: str, ops: Sequence[WriteOp]) -> list[WriteResult]:
        obj = await self._object(object_name)
        results: dict[str, WriteResult] = {}
        creates = [op for op in ops if op.kind == "create"]
        updates = [op for op in ops if op.kind == "update"]
        deletes = [op for op in ops if op.kind == "delete"]
        upserts = [op for op in ops if op.kind == "upsert"]
        if upserts:
            more_creates, more_updates = await self._route_upserts(obj, upserts, results)
            creates += more_creates
            updates += more_updates
        if creates:
            results.update(await self._create(obj, creates))
        if updates:
            results.update(await self._update(obj, updates))
        if deletes:
            results.update(await self._delete(obj, deletes))
        return [results[op.ref] for op in ops]

    async def _route_upserts(
        self, obj: _Object, ops: Sequence[WriteOp], results: dict[str, WriteResult]
    ) -> tuple[list[WriteOp], list[WriteOp]]:
        key = obj.options.external_key
        if not key:
            error = RecordError(
                "validation",
                f"{obj.description.name} has no external key field to upsert by; set "
                f"objects.{obj.description.name}.external_key in the system's options",
            )
            results.update({op.ref: WriteResult(op.ref, "failed", error=error) for op in ops})
            return [], []
        found = await self.lookup(obj.description.name, key, [op.external_key or "" for op in ops])
        creates, updates = [], []
        for op in ops:
            existing = found.get(op.external_key or "")
            if existing:
                updates.append(WriteOp(op.ref, "update", op.fields, id=existing[0].id))
            else:
                creates.append(WriteOp(op.ref, "create", op.fields, external_key=op.external_key))
        return creates, updates

    def _check(self, obj: _Object, op: WriteOp) -> RecordError | None:
        """What Tryton would refuse, found before sending so the error names the field."""
        for name, value in op.fields.items():
            spec = obj.description.field(name)
            if spec is None:
                return RecordError(
                    "validation",
                    f"{obj.options.model} has no field {name!r}; check the mapping's "
                    "native name (docs/connectors/tryton.md lists the virtual fields)",
                    field=name,
                )
            allowed = spec.picklist if name != "state" else None
            if allowed is not None and value not in (None, "") and str(value) not in allowed:
                return RecordError(
                    "validation",
                    f"{value!r} is not a value of {obj.options.model}.{name}; allowed: "
                    f"{', '.join(allowed)} (add a value_map to the mapping)",
                    field=name,
                )
            if spec.length and isinstance(value, str) and len(value) > spec.length:
                return RecordError(
                    "validation",
                    f"{obj.options.model}.{name} holds at most {spec.length} characters, "
                    f"got {len(value)} (shorten it or set truncate: true on the rule)",
                    field=name,
                )
        return None

    async def _prepare(
        self, obj: _Object, op: WriteOp, record_id: int | None
    ) -> tuple[dict[str, Any], dict[str, Any], str | None, RecordError | None]:
        """(own values, template values, target state, error) for one op."""
        error = self._check(obj, op)
        if error:
            return {}, {}, None, error
        values = {name: _typed(obj.description.field(name), v) for name, v in op.fields.items()}
        values.pop("id", None)
        state: str | None = None
        if obj.profile and obj.profile.workflow and "state" in values:
            state = values.pop("state") or None
        if record_id is None:
            values = {**obj.defaults, **values}
            if op.external_key and obj.options.external_key:
                values[obj.options.external_key] = op.external_key
        own, template, error = await self.shapes.split(obj.options.model, values, record_id)
        return own, template, state, error

    async def _create(self, obj: _Object, ops: Sequence[WriteOp]) -> dict[str, WriteResult]:
        results: dict[str, WriteResult] = {}
        ready: list[tuple[WriteOp, dict[str, Any], str | None]] = []
        for op in ops:
            own, template, state, error = await self._prepare(obj, op, None)
            if error:
                results[op.ref] = WriteResult(op.ref, "failed", error=error)
                continue
            if obj.profile and obj.profile.template_fields:
                # A product is created through its template, which creates the variant.
                own = {**template, "products": [["create", [own]]]}
            ready.append((op, own, state))
        model = obj.options.model
        target = "product.template" if obj.profile and obj.profile.template_fields else model
        ids: list[int | TrytonFault] = []
        try:
            ids = list(await self.client.model(target, "create", [v for _, v, _ in ready]))
        except TrytonFault:
            # The batch was rolled back as a whole: send each alone to find the bad one.
            for _, values, _ in ready:
                try:
                    ids.append((await self.client.model(target, "create", [values]))[0])
                except TrytonFault as fault:
                    ids.append(fault)
        if target != model:
            ids = await self._variants(ids)
        for (op, _, state), created in zip(ready, ids, strict=True):
            if isinstance(created, TrytonFault):
                error = record_error(created, model)
                results[op.ref] = WriteResult(op.ref, "failed", error=error)
                continue
            refused = await self._move(obj, created, state)
            if refused is not None:
                # Leave nothing half-made behind: a replay creates the record again.
                if not await self._discard(obj, created):
                    refused = replace(
                        refused,
                        message=f"{refused.message}; Tryton keeps {model} {created} as it "
                        "is (it could not be deleted): delete it there before the replay",
                    )
                results[op.ref] = WriteResult(op.ref, "failed", error=refused)
                continue
            results[op.ref] = WriteResult(op.ref, "created", str(created))
        return results

    async def _variants(self, ids: list[int | TrytonFault]) -> list[int | TrytonFault]:
        templates = [i for i in ids if isinstance(i, int)]
        rows = await self.client.model("product.template", "read", templates, ["products"])
        variant = {row["id"]: row["products"][0] for row in rows}
        return [variant[i] if isinstance(i, int) else i for i in ids]

    async def _discard(self, obj: _Object, record_id: int) -> bool:
        """Delete a record whose workflow was refused; a quoted sale is cancelled first
        (Tryton deletes only drafts and cancelled ones). False when Tryton keeps it."""
        model = obj.options.model
        workflow = obj.profile.workflow if obj.profile else None
        for step in ("delete", "cancel"):
            try:
                if step == "cancel":
                    if workflow is None or workflow.cancel is None:
                        return False
                    await self.client.model(model, workflow.cancel, [record_id])
                await self.client.model(model, "delete", [record_id])
                return True
            except TrytonFault:
                continue
        return False

    async def _move(self, obj: _Object, record_id: int, target: str | None) -> RecordError | None:
        """Press the workflow buttons that take the record to ``target``."""
        workflow = obj.profile.workflow if obj.profile else None
        if workflow is None or target is None:
            return None
        model = obj.options.model
        for _ in range(len(workflow.states) + 1):
            (row,) = await self.client.model(model, "read", [record_id], ["state"])
            current = str(row["state"])
            if target == workflow.cancelled:
                button = workflow.cancel if current != workflow.cancelled else None
            elif current not in workflow.states or target not in workflow.states:
                if target not in workflow.states:
                    return RecordError(
                        "validation",
                        f"{model} has no state {target!r}; states: "
                        f"{', '.join(workflow.states)}, {workflow.cancelled}",
                        field="state",
                    )
                button = None
            elif workflow.states.index(current) < workflow.states.index(target):
                button = workflow.buttons.get(current)
            else:
                button = None  # there already, or past it: Tryton never moves back
            if button is None:
                return None
            try:
                await self.client.model(model, button, [record_id])
            except TrytonFault as fault:
                return record_error(fault, model)
        return None

    async def _existing(self, model: str, ids: Sequence[int]) -> set[int]:
        found = await self.client.model(model, "search", [("id", "in", list(ids))], context=_ALL)
        return {int(i) for i in found}

    async def _update(self, obj: _Object, ops: Sequence[WriteOp]) -> dict[str, WriteResult]:
        model = obj.options.model
        results: dict[str, WriteResult] = {}
        ids = [int(op.id) for op in ops if op.id and op.id.isdigit()]
        existing = await self._existing(model, ids) if ids else set()
        ready: list[tuple[WriteOp, int, dict[str, Any], dict[str, Any], str | None]] = []
        for op in ops:
            if not (op.id and op.id.isdigit() and int(op.id) in existing):
                results[op.ref] = WriteResult(
                    op.ref,
                    "failed",
                    op.id,
                    error=RecordError(
                        "not_found",
                        f"{model} {op.id} does not exist in Tryton (deleted meanwhile?); "
                        "the next reconciliation unlinks it",
                    ),
                )
                continue
            record_id = int(op.id)
            own, template, state, error = await self._prepare(obj, op, record_id)
            if error:
                results[op.ref] = WriteResult(op.ref, "failed", op.id, error=error)
                continue
            ready.append((op, record_id, own, template, state))
        faults = await self._write_all(model, [(i, own, op) for op, i, own, _, _ in ready])
        templates = [(i, template, op) for op, i, _, template, _ in ready if template]
        if templates:
            parents = await self.client.model(
                model, "read", [i for i, _, _ in templates], ["template"]
            )
            parent = {row["id"]: row["template"] for row in parents}
            faults |= await self._write_all(
                "product.template", [(parent[i], t, op) for i, t, op in templates]
            )
        for op, record_id, _, _, state in ready:
            if op.ref in faults:
                error = record_error(faults[op.ref], model)
                results[op.ref] = WriteResult(op.ref, "failed", op.id, error=error)
                continue
            refused = await self._move(obj, record_id, state)
            if refused is not None:
                results[op.ref] = WriteResult(op.ref, "failed", op.id, error=refused)
                continue
            results[op.ref] = WriteResult(op.ref, "updated", op.id)
        return results

    async def _write_all(
        self, model: str, items: Sequence[tuple[int, dict[str, Any], WriteOp]]
    ) -> dict[str, TrytonFault]:
        """Write each record's values in one call; on a refusal, one by one. Faults by ref."""
        items = [item for item in items if item[1]]
        if not items:
            return {}
        args: list[Any] = []
        for record_id, values, _ in items:
            args += [[record_id], values]
        context = _timestamps(model, [op for _, _, op in items])
        try:
            await self.client.model(model, "write", *args, context=context)
            return {}
        except TrytonFault:
            pass
        faults: dict[str, TrytonFault] = {}
        for record_id, values, op in items:
            try:
                await self.client.model(
                    model, "write", [record_id], values, context=_timestamps(model, [op])
                )
            except TrytonFault as fault:
                faults[op.ref] = fault
        return faults

    async def _delete(self, obj: _Object, ops: Sequence[WriteOp]) -> dict[str, WriteResult]:
        model = obj.options.model
        ids = [int(op.id) for op in ops if op.id and op.id.isdigit()]
        existing = await self._existing(model, ids) if ids else set()
        results: dict[str, WriteResult] = {}
        doomed = [op for op in ops if op.id and op.id.isdigit() and int(op.id) in existing]
        for op in ops:
            if op not in doomed:  # already gone: deleting is done
                results[op.ref] = WriteResult(op.ref, "deleted", op.id)
        try:
            await self.client.model(model, "delete", [int(op.id or 0) for op in doomed])
            results.update({op.ref: WriteResult(op.ref, "deleted", op.id) for op in doomed})
        except TrytonFault:
            for op in doomed:
                try:
                    await self.client.model(model, "delete", [int(op.id or 0)])
                    results[op.ref] = WriteResult(op.ref, "deleted", op.id)
                except TrytonFault as fault:
                    error = record_error(fault, model)
                    results[op.ref] = WriteResult(op.ref, "failed", op.id, error=error)
        return results

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        raise ValueError(
            f"{self.name}: Tryton sends no webhooks; changes are read by polling "
            "(trigger: {poll: ...} on the flow)"
        )

    async def close(self) -> None:
        await self.client.close()


def _timestamps(model: str, ops: Sequence[WriteOp]) -> dict[str, Any] | None:
    """Optimistic locking: Tryton refuses the write if the record changed since then."""
    stamps = {f"{model},{op.id}": op.if_match for op in ops if op.if_match}
    return {"_timestamp": stamps} if stamps else None


def _after(stamp: datetime, record_id: int) -> list[Any]:
    """Strictly after ``(stamp, id)`` in the change feed's order."""
    return [
        "OR",
        ("last_modified_at", ">", stamp),
        [("last_modified_at", "=", stamp), ("id", ">", record_id)],
    ]


def _typed(spec: FieldDescription | None, value: Any) -> Any:
    """Native ids from the engine's look-ups are text; Tryton's references are numbers."""
    if spec is not None and spec.type == "reference" and isinstance(value, str):
        return int(value) if value.isdigit() else value
    return value


def _clause(clause: Any) -> Any:
    return list(clause) if isinstance(clause, list | tuple) else clause


def _native(row: dict[str, Any]) -> NativeRecord:
    stamp = row.get("last_modified_at") or row.get("write_date") or row.get("create_date")
    return NativeRecord(
        str(row["id"]), row, stamp if isinstance(stamp, datetime) else None, deleted=False
    )


def _position(record: NativeRecord) -> tuple[datetime, int]:
    assert record.modified_at is not None
    return (record.modified_at, int(record.id))
