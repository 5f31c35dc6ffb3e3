"""Run one flow: read changes page by page, plan, write, record; or sync given ids.

The order inside a page is the write protocol of docs/architecture.md:
1. canonicalise the page, resolving parents first where a reference is unlinked;
2. gather links, bases and partner records (batched reads);
3. plan every record (pure), check the safety valves;
4. commit pending writes (idempotency keys) for the creates, then send the writes;
5. commit links, bases, audit, dead letters, review items and the cursor together.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from isthmus.connectors.base import Cursor, NativeRecord
from isthmus.engine.execute import WriteStats, build_task, send
from isthmus.engine.filters import passes
from isthmus.engine.flows import FlowBinding
from isthmus.engine.gather import canonicalise, dedup_latest, gather
from isthmus.engine.matching import MatchSession
from isthmus.engine.observed import Gathered, Observed
from isthmus.engine.plan import RecordPlan, plan_record
from isthmus.engine.record import (
    PageContext,
    PlanOutcome,
    first_error,
    record_duplicate,
    record_observed_failure,
    record_outcome,
    set_cursor,
)
from isthmus.engine.report import MatchPreview, RunReport, pretend_page, preview_page
from isthmus.engine.resolver import StoreResolver
from isthmus.engine.retry import RetryPolicy
from isthmus.engine.safety import SafetyValve
from isthmus.engine.sides import SideBinding
from isthmus.engine.writeback import write_back_rejections
from isthmus.errors import LookupUnresolved
from isthmus.mapping import MappingError
from isthmus.match.review import held_letter, suggestion_details, suggestion_item
from isthmus.security.tombstones import forgotten
from isthmus.store.base import Store, UnitOfWork
from isthmus.store.types import PendingWrite, Xref

ParentSync = Callable[[LookupUnresolved, str, str], Awaitable[bool]]
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class RunOptions:
    full: bool = False
    force: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    actor: str = "engine"
    # Read, match and plan, but write nothing anywhere: the report's preview says what
    # the run would have done.
    dry_run: bool = False


class FlowRunner:
    """Executes plans for one flow within one run."""

    def __init__(
        self,
        flow: FlowBinding,
        store: Store,
        report: RunReport,
        options: RunOptions,
        parent_sync: ParentSync,
        progress: Progress | None = None,
    ) -> None:
        self.flow = flow
        self.store = store
        self.report = report
        self.options = options
        self.parent_sync = parent_sync
        self.progress = progress
        self.ctx = PageContext(flow.name, flow.entity, report.run_id, options.actor)
        self.stats = WriteStats()
        partner_links = store.count_xrefs(flow.entity, flow.target.system)
        self.safety = SafetyValve(flow.name, flow.policy.safety, partner_links, options.force)
        fuzzy = flow.config.match.fuzzy
        self.matching = MatchSession(
            flow.name,
            flow.config.match.keys,
            fuzzy.rules() if fuzzy else None,
            fuzzy.candidates if fuzzy else "auto",
            filter=flow.config.filter,
        )
        if options.dry_run:
            report.preview = MatchPreview()
        for path in fuzzy.fields if fuzzy else ():
            unmapped = [
                name for name, side in flow.sides.items() if path not in side.readable_paths()
            ]
            if unmapped:
                report.messages.append(
                    f"match.fuzzy field {path!r} is not mapped for {', '.join(unmapped)}, so it "
                    "never counts; map it, or remove it from match.fuzzy.fields"
                )

    async def run(self) -> None:
        if not self.options.dry_run:
            await self.recover_pending()
            await self.retry_waiting()
        for origin, partner in self.flow.directions():
            cursor = (
                None
                if self.options.full
                else self.store.cursor(self.flow.name, origin.system, origin.object_name)
            )
            first = True
            async for page in origin.connector.read_changes(
                origin.object_name, cursor, page_size=self.flow.config.page_size
            ):
                if first and cursor is None and not page.records:
                    self.safety.check_empty_side(
                        origin.system, self.store.count_xrefs(self.flow.entity, origin.system)
                    )
                first = False
                await self.process(page.records, origin, partner, page.cursor)
            # The partner's blocking index served this direction; free it before the next.
            self.matching.indexes.pop(partner.system, None)

    async def sync_ids(self, system: str, ids: Sequence[str]) -> None:
        """Sync named records from ``system`` now, reading their current state."""
        origin = self.flow.sides[system]
        partner = self.flow.partner_of(system)
        found = await origin.connector.read_by_ids(origin.object_name, list(ids))
        records = [
            found.get(native_id) or NativeRecord(native_id, {}, deleted=True) for native_id in ids
        ]
        await self.process(records, origin, partner, None)

    async def retry_waiting(self) -> None:
        """Records set aside for a transient failure or an unlinked parent go again."""
        letters = list(self.store.dead_letters(flow=self.flow.name, status="waiting", limit=10_000))
        by_system: dict[str, list[str]] = {}
        for letter in letters:
            by_system.setdefault(letter.system, []).append(letter.native_id)
        for system, ids in by_system.items():
            if system in self.flow.sides:
                await self.sync_ids(system, ids)

    async def recover_pending(self, only: tuple[str, Collection[str]] | None = None) -> None:
        """Finish creates interrupted by a crash: link what exists, re-sync the rest.

        ``only`` (system, ids) limits it to the creates made for those source records,
        which the caller is about to sync itself (so they are not re-synced here): a
        worker holding their locks knows any pending create of theirs was left by a
        worker that died."""
        scope = (only[0], list(only[1])) if only is not None else None
        pending = self.store.pending_writes(self.flow.name, source=scope)
        by_system: dict[str, list[PendingWrite]] = {}
        for item in pending:
            by_system.setdefault(item.system, []).append(item)
        for system, items in by_system.items():
            side = self.flow.sides[system]
            key_field = side.description.external_key if side.description else None
            keys = {item.canonical_id: item for item in items}
            found = (
                await side.connector.lookup(side.object_name, key_field, sorted(keys))
                if key_field
                else {}
            )
            resync: dict[str, list[str]] = {}
            with self.store.unit_of_work() as uow:
                for cid, item in keys.items():
                    records = found.get(cid, [])
                    if records:
                        uow.add_xref(Xref(cid, item.entity, system, records[0].id))
                    else:
                        resync.setdefault(item.source_system, []).append(item.source_id)
                    uow.remove_pending_write(item.key)
            if only is not None:
                continue  # the caller syncs these records next
            for source_system, ids in resync.items():
                await self.sync_ids(source_system, ids)

    async def process(
        self,
        records: Sequence[NativeRecord],
        origin: SideBinding,
        partner: SideBinding,
        cursor: Cursor | None,
    ) -> None:
        records = dedup_latest(records)
        self.report.add("read", len(records))
        resolver = StoreResolver(self.store)
        observed = canonicalise(records, origin, resolver)
        # Erased people (``isthmus forget``) are never synced back: their records are
        # dropped here, before any link, base, audit or write is made for them.
        for native_id in forgotten(
            self.store, origin.system, ((k, o.view) for k, o in observed.items())
        ):
            del observed[native_id]
            self.report.add("forgotten")
        await self._resolve_waiting(observed, origin, partner, resolver)
        gathered = await gather(observed, origin, partner, self.store, resolver, self.matching)
        self.report.add("kept_apart", len(gathered.kept_apart))
        plans = self._plan(gathered)
        self.safety.admit([plan for plan, _ in plans])
        if self.report.preview is not None:
            self._preview(plans, gathered, origin, partner)
        else:
            await self.execute_and_record(plans, origin, partner, gathered, resolver, cursor=cursor)
        if self.progress is not None:
            self.progress(self.flow.name, len(records))

    async def execute_and_record(
        self,
        plans: list[tuple[RecordPlan, Observed]],
        origin: SideBinding,
        partner: SideBinding,
        gathered: Gathered,
        resolver: StoreResolver,
        *,
        cursor: Cursor | None = None,
        after: Callable[[UnitOfWork], None] | None = None,
    ) -> None:
        """Send the plans' writes, then commit everything the page did in one unit of work."""
        outcomes = await self._execute(plans, origin, partner, gathered, resolver)
        await write_back_rejections(
            outcomes,
            self.flow.config.on_rejection.write_back,
            origin,
            self.flow.config.source.system,
            self.report,
            lambda: self._refused(origin.system),
        )
        with self.store.unit_of_work() as uow:
            for item in gathered.observed.values():
                if item.error is not None or item.waiting_on is not None:
                    record_observed_failure(uow, self.ctx, item, origin.system, self.report)
            for native_id, candidates in gathered.duplicates.items():
                record_duplicate(
                    uow, self.ctx, origin.system, native_id, candidates, partner.system, self.report
                )
                self.matching.hold(
                    {
                        "origin_system": origin.system,
                        "origin_id": native_id,
                        "partner_system": partner.system,
                        "candidates": candidates,
                    }
                )
            self._record_suggestions(uow, gathered, origin, partner)
            self._record_held(uow, gathered, origin)
            self.report.add("echo", len(gathered.unchanged))
            for native_id in gathered.unchanged:
                # Back to the content both sides last agreed on (a bad value fixed back to
                # what it was): nothing is left to do, so a dead letter for it is resolved.
                uow.close_dead_letter_at_commit(
                    self.flow.name, origin.system, native_id, "resolved"
                )
            for outcome in outcomes:
                record_outcome(uow, self.ctx, outcome, self.report)
                if first_error(outcome) is None:
                    self._settle_reviews(uow, outcome, gathered.matched_by.get(outcome.origin_id))
            set_cursor(uow, self.ctx, origin.system, origin.object_name, cursor)
            if after is not None:
                after(uow)

    def _refused(self, system: str) -> set[str]:
        """Records of ``system`` this flow holds dead letters for (rejection write-back)."""
        return {
            letter.native_id
            for status in ("open", "waiting")
            for letter in self.store.dead_letters(
                flow=self.flow.name,
                status=status,
                limit=100_000,
            )
            if letter.system == system
        }

    def _record_suggestions(
        self, uow: UnitOfWork, gathered: Gathered, origin: SideBinding, partner: SideBinding
    ) -> None:
        """Fuzzy matches too uncertain to link wait for a person; nothing is created."""
        paths = self.matching.rules.paths if self.matching.rules else ()
        resolver = StoreResolver(self.store)
        for native_id, decision in gathered.suggested.items():
            view = gathered.observed[native_id].view or {}
            candidates: dict[str, dict[str, Any]] = {}
            for candidate in decision.candidates:
                record = gathered.natives.get((partner.system, candidate.id))
                try:
                    found = partner.view(record.fields, resolver) if record else {}
                except (MappingError, LookupUnresolved):
                    found = {}
                candidates[candidate.id] = {path: found.get(path) for path in paths}
            details = suggestion_details(
                (origin.system, native_id),
                partner.system,
                decision,
                {path: view.get(path) for path in paths},
                candidates,
            )
            item_id = uow.put_review_item(suggestion_item(self.ctx.flow, self.ctx.entity, details))
            self.matching.hold(details, item_id)
            self.report.add("review")

    def _settle_reviews(self, uow: UnitOfWork, outcome: PlanOutcome, method: str | None) -> None:
        """A record linked or created by a sync closes its open duplicate review (an
        exact key may settle what fuzzy scores could not), and frees its held partner."""
        if method and outcome.plan.link_partner:
            self.report.add(f"linked_{method}")
        if outcome.partner_id is None or not (
            outcome.plan.link_partner or outcome.plan.action == "create"
        ):
            return
        pair = {
            outcome.origin_system: outcome.origin_id,
            outcome.partner_system: outcome.partner_id,
        }
        for system, native_id in pair.items():
            # Either record may be the one under review: the other direction links it too.
            item_id = self.matching.settle(system, native_id)
            if item_id is not None:
                moot = {"moot": f"linked by a sync: {pair}"}
                uow.resolve_review_item(item_id, "dismissed", moot, self.ctx.actor)
        if outcome.partner_id in self.matching.in_review(self.store, outcome.partner_system):
            uow.set_dead_letter_status(
                self.ctx.flow, outcome.partner_system, outcome.partner_id, "resolved"
            )

    def _record_held(self, uow: UnitOfWork, gathered: Gathered, origin: SideBinding) -> None:
        """Records of an open duplicate review wait, and are retried every run, so a
        record is synced once the review is resolved (and not lost if it never changes)."""
        for native_id in gathered.held:
            uow.put_dead_letter(
                held_letter(self.ctx.flow, self.ctx.entity, origin.system, native_id)
            )
        self.report.add("held", len(gathered.held))

    def _preview(
        self,
        plans: list[tuple[RecordPlan, Observed]],
        gathered: Gathered,
        origin: SideBinding,
        partner: SideBinding,
    ) -> None:
        assert self.report.preview is not None
        preview_page(self.report.preview, plans, gathered)
        pretend_page(self.matching, plans, gathered, (origin.system, partner.system))

    def _plan(self, gathered: Gathered) -> list[tuple[RecordPlan, Observed]]:
        plans: list[tuple[RecordPlan, Observed]] = []
        for item in gathered.inputs:
            observed = gathered.observed[item.origin.native_id or ""]
            if observed.error is not None:
                continue
            if (
                item.origin.fields is not None
                and not item.linked
                and not passes(item.origin.fields, self.flow.config.filter)
            ):
                self.report.add("filtered")
                continue
            if item.origin.native_id in gathered.duplicates:
                continue
            plans.append((plan_record(item, self.flow.policy), observed))
        return plans

    async def _execute(
        self,
        plans: list[tuple[RecordPlan, Observed]],
        origin: SideBinding,
        partner: SideBinding,
        gathered: Gathered,
        resolver: StoreResolver,
    ) -> list[PlanOutcome]:
        outcomes: list[PlanOutcome] = []
        for plan, observed in plans:
            partner_input = gathered.partner_of(plan.key)
            outcome = PlanOutcome(
                plan,
                origin.system,
                observed.record.id,
                partner.system,
                partner_input.native_id if partner_input else None,
            )
            for index, write in enumerate(plan.writes):
                side = self.flow.sides[write.system]
                current = gathered.natives.get((write.system, write.native_id or ""))
                outcome.tasks.append(
                    build_task(
                        f"{plan.key}#{index}",
                        plan.key,
                        write,
                        side,
                        plan.canonical_id,
                        current.fields if current else None,
                        resolver,
                    )
                )
            outcomes.append(outcome)
        await self._resolve_task_parents(outcomes, gathered, resolver)
        self._commit_pending(outcomes, origin)
        await send(
            [t for o in outcomes for t in o.tasks], self.flow.sides, self.options.retry, self.stats
        )
        for outcome in outcomes:
            self._fill_holds(outcome, gathered, resolver)
        return outcomes

    def _commit_pending(self, outcomes: list[PlanOutcome], origin: SideBinding) -> None:
        """Write-ahead: record every create we are about to send, with its key, first."""
        creates = [
            (o, t)
            for o in outcomes
            for t in o.tasks
            if t.write.kind == "create" and t.op is not None
        ]
        if not creates:
            return
        with self.store.unit_of_work() as uow:
            # The origin's side of each new link, in one statement for the page.
            uow.add_xrefs(
                [
                    Xref(cid, self.flow.entity, origin.system, outcome.origin_id)
                    for outcome, _ in creates
                    if (cid := outcome.plan.canonical_id) is not None
                ]
            )
            for outcome, task in creates:
                cid = outcome.plan.canonical_id
                assert cid is not None
                side = self.flow.sides[task.write.system]
                uow.add_pending_write(
                    PendingWrite(
                        key=f"{cid}@{task.write.system}",
                        flow=self.flow.name,
                        entity=self.flow.entity,
                        canonical_id=cid,
                        system=task.write.system,
                        object_name=side.object_name,
                        source_system=origin.system,
                        source_id=outcome.origin_id,
                    )
                )

    def _fill_holds(
        self, outcome: PlanOutcome, gathered: Gathered, resolver: StoreResolver
    ) -> None:
        origin_item = gathered.observed.get(outcome.origin_id)
        if origin_item is not None and origin_item.view is not None:
            outcome.holds[outcome.origin_system] = origin_item.view
        partner_input = gathered.partner_of(outcome.plan.key)
        if partner_input is not None and partner_input.fields is not None:
            outcome.holds[outcome.partner_system] = partner_input.fields
        for task in outcome.tasks:
            ok = task.done or (task.result is not None and task.result.ok)
            if ok and task.write.kind != "delete":
                try:
                    outcome.holds[task.write.system] = self.flow.sides[task.write.system].project(
                        task.write.fields, resolver
                    )
                except (MappingError, LookupUnresolved):
                    # A hash we cannot compute only costs one more read next time.
                    outcome.holds.pop(task.write.system, None)

    async def _resolve_waiting(
        self,
        observed: dict[str, Observed],
        origin: SideBinding,
        partner: SideBinding,
        resolver: StoreResolver,
    ) -> None:
        waiting = [item for item in observed.values() if item.waiting_on is not None]
        if not waiting or self.options.dry_run:
            # A dry run syncs no parent: such records are reported as waiting.
            return
        synced = False
        for item in waiting:
            assert item.waiting_on is not None
            synced |= await self.parent_sync(item.waiting_on, origin.system, partner.system)
        if synced:
            resolver.forget()
            retried = canonicalise([item.record for item in waiting], origin, resolver)
            observed.update(retried)

    async def _resolve_task_parents(
        self, outcomes: list[PlanOutcome], gathered: Gathered, resolver: StoreResolver
    ) -> None:
        for outcome in outcomes:
            for index, task in enumerate(outcome.tasks):
                if task.waiting_on is None:
                    continue
                if await self.parent_sync(
                    task.waiting_on, outcome.origin_system, outcome.partner_system
                ):
                    resolver.forget()
                    side = self.flow.sides[task.write.system]
                    current = gathered.natives.get((task.write.system, task.write.native_id or ""))
                    outcome.tasks[index] = build_task(
                        task.ref,
                        task.plan_key,
                        task.write,
                        side,
                        outcome.plan.canonical_id,
                        current.fields if current else None,
                        resolver,
                    )
