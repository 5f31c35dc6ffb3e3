"""A flow bound to live parts: its policy, its two sides, its filters and match keys."""

from __future__ import annotations

from dataclasses import dataclass

from isthmus.engine.config import FlowConfig
from isthmus.engine.policy import FlowPolicy
from isthmus.engine.sides import SideBinding


@dataclass
class FlowBinding:
    config: FlowConfig
    policy: FlowPolicy
    sides: dict[str, SideBinding]

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def entity(self) -> str:
        return self.config.entity

    @property
    def source(self) -> SideBinding:
        return self.sides[self.config.source.system]

    @property
    def target(self) -> SideBinding:
        return self.sides[self.config.target.system]

    def partner_of(self, system: str) -> SideBinding:
        return self.target if system == self.source.system else self.source

    def directions(self) -> list[tuple[SideBinding, SideBinding]]:
        """(origin, partner) pairs to read changes from, source first."""
        pairs = [(self.source, self.target)]
        if self.config.direction == "both":
            pairs.append((self.target, self.source))
        return pairs
