"""What a flow is allowed to do, as plain values the pure planner reads.

A ``FlowPolicy`` is built from a flow's config once; the planner never looks at YAML,
connectors or the store. Every rule a person can set in a flow file ends up here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

ConflictRule = Literal[
    "owner", "last_writer", "newest_non_empty", "additive", "review", "source", "target"
]
Direction = Literal["one_way", "both"]
DeleteAction = Literal["propagate", "deactivate", "decouple", "ignore"]
PartnerMissingAction = Literal["restore", "decouple", "review"]


@dataclass(frozen=True)
class DeleteRule:
    action: DeleteAction = "decouple"
    # For ``deactivate``: canonical values written to the partner (``{"active": False}``).
    set_fields: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class SafetyLimits:
    """A run stops and asks for ``--force`` beyond these (see ``engine.safety``)."""

    max_delete_ratio: float = 0.2
    max_overwrite_ratio: float = 0.5
    # Below this many links the ratios are not checked: tiny data sets swing widely.
    min_links: int = 20


@dataclass(frozen=True)
class FlowPolicy:
    flow: str
    entity: str
    source: str
    target: str
    direction: Direction = "one_way"
    # Canonical path (or a prefix such as ``billing_address``) -> owning system.
    ownership: Mapping[str, str] = field(default_factory=dict)
    conflict_default: ConflictRule = "review"
    conflict_fields: Mapping[str, ConflictRule] = field(default_factory=dict)
    clock_skew: timedelta = timedelta(seconds=2)
    on_delete: DeleteRule = DeleteRule()
    on_partner_missing: PartnerMissingAction = "review"
    safety: SafetyLimits = SafetyLimits()
    # Canonical paths each system's mapping can write (to_native), by system name.
    writable: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Set for reconciliation repairs only: a one-way flow then restores the source's
    # value where only the target moved, instead of leaving the target's change alone.
    repair: bool = False

    def other(self, system: str) -> str:
        return self.target if system == self.source else self.source

    def may_write(self, from_system: str, to_system: str) -> bool:
        """Whether changes may travel from ``from_system`` to ``to_system``."""
        if self.direction == "both":
            return True
        return from_system == self.source and to_system == self.target

    def owner_of(self, path: str) -> str | None:
        """The owning system of a path: the longest configured prefix that matches."""
        best: tuple[int, str] | None = None
        for prefix, system in self.ownership.items():
            if (path == prefix or path.startswith(prefix + ".")) and (
                best is None or len(prefix) > best[0]
            ):
                best = (len(prefix), system)
        if best is not None:
            return best[1]
        # A one-way flow's source owns every field it sends.
        return self.source if self.direction == "one_way" else None

    def rule_for(self, path: str) -> ConflictRule:
        best: tuple[int, ConflictRule] | None = None
        for prefix, rule in self.conflict_fields.items():
            if (path == prefix or path.startswith(prefix + ".")) and (
                best is None or len(prefix) > best[0]
            ):
                best = (len(prefix), rule)
        return best[1] if best is not None else self.conflict_default

    def can_write(self, system: str, path: str) -> bool:
        paths = self.writable.get(system)
        return paths is None or path in paths
