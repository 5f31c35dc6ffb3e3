"""The engine: builds flows from a config and runs them, in dependency order.

It is the only place that decides (DESIGN.md). It owns the store and the connectors of
one installation, starts and finishes runs, resolves a child's unlinked parent by
syncing the parent through its own flow first, and replays dead letters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from isthmus.connectors.base import Connector
from isthmus.connectors.registry import create_connector
from isthmus.engine.circuit import CircuitBreaker, GuardedConnector
from isthmus.engine.config import FlowConfig, LoadedConfig
from isthmus.engine.flows import FlowBinding
from isthmus.engine.inspect import SideBySide, review_sides
from isthmus.engine.pacing import RateLimiter
from isthmus.engine.policy import DeleteRule, FlowPolicy, SafetyLimits
from isthmus.engine.reconcile import ReconcileReport, reconcile_flow
from isthmus.engine.report import RunReport
from isthmus.engine.retry import RetryPolicy, call_with_retry
from isthmus.engine.runner import FlowRunner, Progress, RunOptions
from isthmus.engine.sides import SideBinding
from isthmus.errors import (
    ConfigError,
    IsthmusError,
    LookupUnresolved,
    SafetyValveError,
    TransientError,
)
from isthmus.mapping import Mapper, load_mappings
from isthmus.model.entities import entity_type
from isthmus.store import Store, open_store

# Parents before children: a flow for a later entity may reference an earlier one.
ENTITY_ORDER = [
    "customer",
    "contact",
    "product",
    "price",
    "opportunity",
    "quote",
    "sales_order",
    "invoice",
    "credit_memo",
    "payment",
    "inventory",
]


class Engine:
    """One Isthmus installation: store, systems, mappings and flows."""

    def __init__(
        self,
        loaded: LoadedConfig,
        store: Store,
        connectors: dict[str, Connector],
        mappers: dict[str, Mapper],
    ) -> None:
        self.loaded = loaded
        self.store = store
        self.connectors = connectors
        # One breaker per system, shared by every flow that uses it: the engine's calls
        # go through ``guarded``; ``connectors`` stay the plain ones.
        self.breakers = {name: CircuitBreaker(name) for name in connectors}
        self.guarded = {
            name: GuardedConnector(connector, self.breakers[name], limiter=_limiter(loaded, name))
            for name, connector in connectors.items()
        }
        self.mappers = mappers
        self.flows: dict[str, FlowBinding] = {}
        self._described = False
        self._in_progress: set[tuple[str, str, str]] = set()
        # Flows paused at run time (control-plane API): scheduled and webhook runs of
        # them are skipped; a run asked for by a person still runs.
        self.paused: set[str] = set()
        for index, flow in enumerate(loaded.config.flows):
            self.flows[flow.name] = self._bind(flow, index)
        # A pause is kept in the store, so it survives a restart (flows since removed
        # from the config are ignored).
        self.paused = store.paused_flows() & set(self.flows)

    @classmethod
    def from_config(cls, loaded: LoadedConfig, store: Store | None = None) -> Engine:
        mapping_paths = [loaded.resolve_path(path) for path in loaded.config.mappings]
        mappers = {name: Mapper(spec) for name, spec in load_mappings(mapping_paths).items()}
        connectors = {
            name: create_connector(system.connector, name, system.options)
            for name, system in loaded.config.systems.items()
        }
        engine = cls(loaded, store or open_store(loaded.store_url()), connectors, mappers)
        if loaded.config.encrypt_sensitive_fields:
            from isthmus.security.fields import protect_store

            protect_store(engine)  # narrow hook: sensitive fields encrypted at rest
        return engine

    def _bind(self, flow: FlowConfig, index: int) -> FlowBinding:
        try:
            model = entity_type(flow.entity)
        except KeyError as error:
            where = self.loaded.where("flows", index, "entity")
            raise ConfigError(str(error.args[0]), where=where) from None
        sides: dict[str, SideBinding] = {}
        for role in ("source", "target"):
            side = getattr(flow, role)
            mapper = self.mappers.get(side.mapping)
            if mapper is None:
                known = ", ".join(sorted(self.mappers)) or "none loaded"
                raise ConfigError(
                    f"flow {flow.name!r}: mapping {side.mapping!r} is not loaded "
                    f"(loaded: {known}); add its file under mappings:",
                    where=self.loaded.where("flows", index, role, "mapping"),
                )
            if mapper.entity != flow.entity:
                raise ConfigError(
                    f"flow {flow.name!r}: mapping {side.mapping!r} maps {mapper.entity!r}, "
                    f"but the flow syncs {flow.entity!r}",
                    where=self.loaded.where("flows", index, role, "mapping"),
                )
            sides[side.system] = SideBinding(
                side.system, self.guarded[side.system], side.object, mapper, model
            )
        policy = FlowPolicy(
            flow=flow.name,
            entity=flow.entity,
            source=flow.source.system,
            target=flow.target.system,
            direction=flow.direction,
            ownership=dict(flow.ownership),
            conflict_default=flow.conflict.default,
            conflict_fields=dict(flow.conflict.fields),
            clock_skew=flow.conflict.clock_skew,
            on_delete=DeleteRule(flow.on_delete.action, dict(flow.on_delete.set)),
            on_partner_missing=flow.on_partner_missing,
            safety=SafetyLimits(
                flow.safety.max_delete_ratio, flow.safety.max_overwrite_ratio, flow.safety.min_links
            ),
            writable={name: side.writable_paths() for name, side in sides.items()},
        )
        return FlowBinding(flow, policy, sides)

    async def describe(self) -> None:
        """Ask each side for its object description (lengths, required, external key)."""
        if self._described:
            return
        for flow in self.flows.values():
            for side in flow.sides.values():
                if side.description is None:
                    # A blip while describing must not fail the whole sync: retried
                    # like any other call (an error that stays is raised).
                    side.description = await call_with_retry(
                        lambda side=side: side.connector.describe(side.object_name),  # type: ignore[misc]
                        RetryPolicy(),
                    )
        self._described = True

    def ordered(self, names: Sequence[str] | None = None) -> list[FlowBinding]:
        """Flows in dependency order: ``depends_on`` first, then entity order, then file order."""
        chosen = (
            [self.flows[name] for name in names]
            if names
            else [flow for flow in self.flows.values() if flow.config.enabled]
        )
        rank = {entity: index for index, entity in enumerate(ENTITY_ORDER)}
        ordered = sorted(chosen, key=lambda f: rank.get(f.entity, len(rank)))
        result: list[FlowBinding] = []
        placed: set[str] = set()

        def place(flow: FlowBinding, trail: tuple[str, ...]) -> None:
            if flow.name in placed:
                return
            if flow.name in trail:
                raise ConfigError(f"flows depend on each other in a cycle: {' -> '.join(trail)}")
            for dependency in flow.config.depends_on:
                if dependency in {f.name for f in chosen}:
                    place(self.flows[dependency], (*trail, flow.name))
            placed.add(flow.name)
            result.append(flow)

        for flow in ordered:
            place(flow, ())
        return result

    async def sync(
        self,
        names: Sequence[str] | None = None,
        *,
        options: RunOptions | None = None,
        progress: Progress | None = None,
        trigger: str = "manual",
    ) -> list[RunReport]:
        """Run the given flows (all enabled ones by default) once, in dependency order."""
        await self.describe()
        options = options or RunOptions()
        reports = []
        for flow in self.ordered(names):
            reports.append(await self.run_flow(flow, options, progress, trigger))
        return reports

    async def _run(
        self,
        flow: FlowBinding,
        trigger: str,
        options: RunOptions,
        work: Callable[[FlowRunner], Awaitable[None]],
        *,
        progress: Progress | None = None,
        message: str | None = None,
    ) -> RunReport:
        """One run's life: start it, let ``work`` drive a runner, record how it ended.

        A run that raises is recorded as failed before the error travels on, so no run is
        left showing "running" after its process moved on.
        """
        await self.describe()
        run = self.store.start_run(flow.name, trigger)
        report = RunReport(flow.name, run.id)
        runner = FlowRunner(flow, self.store, report, options, self._parent_sync, progress)
        try:
            await work(runner)
        except BaseException as error:
            report.add("retries", runner.stats.retries)
            self.store.finish_run(run.id, "failed", dict(report.counts), repr(error))
            raise
        # Counted for every kind of run (sync, replay, review), however it ended.
        report.add("retries", runner.stats.retries)
        if report.status == "running":
            report.status = "partial" if report.counts["dead_letters"] else "succeeded"
        self.store.finish_run(
            run.id,
            report.status,  # type: ignore[arg-type]
            dict(report.counts),
            message or "; ".join(report.messages) or None,
        )
        return report

    async def run_flow(
        self,
        flow: FlowBinding,
        options: RunOptions,
        progress: Progress | None = None,
        trigger: str = "manual",
    ) -> RunReport:
        """Run one flow over its changes; a stopped or failed run is reported, not raised."""
        if flow.name in self.paused and trigger in ("schedule", "webhook"):
            report = RunReport(flow.name, "", status="skipped")
            report.messages.append(f"flow {flow.name} is paused; enable it to run")
            return report

        async def work(runner: FlowRunner) -> None:
            try:
                await runner.run()
            except SafetyValveError as error:
                runner.report.status = "stopped"
                runner.report.messages.append(str(error))
            except TransientError as error:
                # A system is down (circuit open) or asked to wait (budget spent): the
                # flow pauses; the page it was on was not recorded, so nothing is lost.
                wait = error.retry_after or 60.0
                runner.report.status = "paused"
                runner.report.resume_at = datetime.now(UTC) + timedelta(seconds=wait)
                runner.report.messages.append(
                    f"paused until {runner.report.resume_at:%Y-%m-%d %H:%M:%S} UTC: {error}"
                )
            except IsthmusError as error:
                runner.report.status = "failed"
                runner.report.messages.append(str(error))

        return await self._run(flow, trigger, options, work, progress=progress)

    async def sync_ids(
        self,
        flow_name: str,
        system: str,
        ids: Sequence[str],
        options: RunOptions | None = None,
        trigger: str = "replay",
    ) -> RunReport:
        """Sync named records of one system through a flow now (replay, webhooks)."""

        async def work(runner: FlowRunner) -> None:
            # A create for these records whose answer was lost (a crash, a killed worker)
            # is found by its key first, so re-syncing them never creates them twice.
            await runner.recover_pending(only=(system, ids))
            await runner.sync_ids(system, ids)

        return await self._run(self.flows[flow_name], trigger, options or RunOptions(), work)

    async def replay(self, letter_ids: Sequence[int], actor: str = "cli") -> list[RunReport]:
        """Replay dead letters: re-read each record's current state and sync it again."""
        groups: dict[tuple[str, str], list[str]] = {}
        for letter_id in letter_ids:
            letter = self.store.dead_letter(letter_id)
            if letter is None:
                raise IsthmusError(f"no dead letter with id {letter_id}")
            groups.setdefault((letter.flow, letter.system), []).append(letter.native_id)
        reports = []
        for (flow, system), ids in groups.items():
            reports.append(await self.sync_ids(flow, system, ids, RunOptions(actor=actor)))
        return reports

    async def resolve_review(
        self, item_id: int, *, take: str | None = None, value: Any = None, actor: str = "cli"
    ) -> RunReport:
        """Resolve a conflict: take one system's value or a value a person entered."""
        from isthmus.engine.resolution import apply_resolution

        await self.describe()
        item = self.store.review_item(item_id)
        if item is None or item.status != "open":
            raise IsthmusError(
                f"no open review item with id {item_id}; `isthmus review list` shows the open ones"
            )

        async def work(runner: FlowRunner) -> None:
            await apply_resolution(runner, item, take, value, actor)

        return await self._run(
            self.flows[item.flow],
            "review",
            RunOptions(actor=actor),
            work,
            message=f"review item {item_id} resolved by {actor}",
        )

    async def reconcile(self, names: Sequence[str] | None = None) -> list[ReconcileReport]:
        """Compare both systems of each flow record by record; writes nothing."""
        await self.describe()
        reports = []
        for flow in self.ordered(names):
            # Recorded as a run, so `isthmus status` and the run history show when both
            # systems were last compared and what was found.
            run = self.store.start_run(flow.name, "reconcile")
            try:
                found = await reconcile_flow(flow, self.store)
            except BaseException as error:
                self.store.finish_run(run.id, "failed", {}, repr(error))
                raise
            counts = {kind: n for kind, n in found.counts().items() if n}
            counts["compared"] = found.compared
            summary = ", ".join(f"{n} {kind}" for kind, n in found.counts().items() if n)
            self.store.finish_run(
                run.id,
                "succeeded" if found.clean else "partial",
                counts,
                f"reconciliation: {summary or 'both systems agree'}",
            )
            reports.append(found)
        return reports

    async def repair(self, found: ReconcileReport, actor: str = "cli") -> RunReport:
        """Send the records behind each drift through the normal pipeline."""
        flow = self.flows[found.flow]
        targets: dict[str, list[str]] = {}
        for drift in found.drifts:
            for system, native_id in drift.repair:
                ids = targets.setdefault(system, [])
                if native_id not in ids:
                    ids.append(native_id)
        # Forget what we last saw of them, so an unchanged-looking record is compared
        # with its partner again instead of being skipped as "nothing changed".
        with self.store.unit_of_work() as uow:
            for system, ids in targets.items():
                for native_id in ids:
                    uow.touch_xref(flow.entity, system, native_id, None)
        repairing = replace(flow, policy=replace(flow.policy, repair=True))

        async def work(runner: FlowRunner) -> None:
            for side in (flow.source, flow.target):
                if side.system in targets:
                    await runner.sync_ids(side.system, targets[side.system])

        counts = ", ".join(f"{n} {kind}" for kind, n in found.counts().items() if n)
        return await self._run(
            repairing,
            "reconcile",
            RunOptions(actor=actor),
            work,
            message=f"reconciliation repair of {counts or 'nothing'}",
        )

    async def review_sides(self, item_id: int) -> SideBySide:
        """A review item's records as they are now, side by side with the base."""
        await self.describe()
        item = self.store.review_item(item_id)
        if item is None:
            raise IsthmusError(
                f"no review item with id {item_id}; `isthmus review list` shows the open ones"
            )
        return await review_sides(self.flows[item.flow], self.store, item)

    async def _parent_sync(self, missing: LookupUnresolved, origin: str, partner: str) -> bool:
        """Sync the parent a record refers to through the parent's own flow, if one exists."""
        parent = next(
            (
                flow
                for flow in self.flows.values()
                if flow.entity == missing.entity and {origin, partner} == set(flow.sides)
            ),
            None,
        )
        if parent is None:
            return False
        system, native_id = missing.system, missing.native_id
        sides = self.store.xrefs_by_canonical(missing.entity, [native_id]).get(native_id)
        if sides:
            # The reference was a canonical id without a link in ``system``: the parent
            # exists elsewhere; sync it from a side where it is linked.
            source = next((xref for name, xref in sides.items() if name != system), None)
            if source is None:
                return False
            system, native_id = source.system, source.native_id
        key = (parent.name, system, native_id)
        if key in self._in_progress or system not in parent.sides:
            return False
        self._in_progress.add(key)
        try:
            report = RunReport(parent.name, f"parent-of-{missing.field}")
            runner = FlowRunner(parent, self.store, report, RunOptions(), self._parent_sync)
            await runner.sync_ids(system, [native_id])
            return bool(
                report.counts["created"]
                or report.counts["linked"]
                or report.counts["updated"]
                or report.counts["unchanged"]
            )
        finally:
            self._in_progress.discard(key)

    async def close(self) -> None:
        async with AsyncExitStack() as stack:
            for connector in self.connectors.values():
                stack.push_async_callback(connector.close)
        self.store.close()

    def status(self) -> dict[str, Any]:
        """Per flow: last run, open dead letters, open review items, links."""
        result: dict[str, Any] = {}
        for flow in self.flows.values():
            runs = self.store.runs(flow.name, limit=1)
            result[flow.name] = {
                "last_run": runs[0] if runs else None,
                "dead_letters": len(self.store.dead_letters(flow=flow.name, status="open")),
                "waiting": len(self.store.dead_letters(flow=flow.name, status="waiting")),
                "review": len(self.store.review_items(flow=flow.name)),
                "links": self.store.count_xrefs(flow.entity, flow.target.system),
            }
        return result


def _limiter(loaded: LoadedConfig, system: str) -> RateLimiter:
    spec = loaded.config.systems[system].rate_limit if system in loaded.config.systems else None
    if spec is None:
        return RateLimiter()
    return RateLimiter(
        per_second=spec.per_second, burst=spec.burst, daily=spec.daily, system=system
    )
