"""Deterministic fault injection for the in-memory connector.

A ``FaultPlan`` decides, call by call and record by record, whether something goes
wrong, the way real systems go wrong: a call that fails before doing anything
(transient), a call that is refused for pace (rate limited), a write that lands but
whose answer is lost (ambiguous: the hardest case for "no duplicates"), one record of a
batch that fails transiently, and business rejections chosen by a rule. Every decision
comes from one seeded generator, so a failing test replays exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from isthmus.errors import AmbiguousWriteError, RateLimitedError, RecordError, TransientError

CallFault = Literal["transient", "rate_limited"]

# A rule that looks at (object name, native fields) and returns a business reason to
# refuse the write, or None to accept it: the "credit hold" of an ERP.
BusinessRule = Callable[[str, dict[str, Any]], str | None]


@dataclass
class FaultPlan:
    """How often each kind of fault happens. Rates are probabilities in [0, 1]."""

    seed: int = 0
    transient_rate: float = 0.0  # whole call fails before doing anything
    rate_limit_rate: float = 0.0  # whole call refused with a retry-after
    ambiguous_rate: float = 0.0  # a write batch lands, then the answer is lost
    record_failure_rate: float = 0.0  # one record of a batch fails transiently
    retry_after: float = 0.0
    business_rules: list[BusinessRule] = field(default_factory=list)
    # Faults are counted so tests can prove they really happened.
    injected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("transient_rate", "rate_limit_rate", "ambiguous_rate", "record_failure_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"FaultPlan.{name} must be between 0 and 1, got {rate}")
        self._random = random.Random(self.seed)

    @classmethod
    def uniform(cls, rate: float, *, seed: int = 0) -> FaultPlan:
        """Every kind of fault at the same rate (the "5% faults" of the done-when lists)."""
        return cls(
            seed=seed,
            transient_rate=rate,
            rate_limit_rate=rate,
            ambiguous_rate=rate,
            record_failure_rate=rate,
        )

    def _count(self, kind: str) -> None:
        self.injected[kind] = self.injected.get(kind, 0) + 1

    def before_call(self, what: str) -> None:
        """Raise the call-level fault this call draws, if any."""
        draw = self._random.random()
        if draw < self.transient_rate:
            self._count("transient")
            raise TransientError(f"injected fault: {what} failed (connection reset)")
        if draw < self.transient_rate + self.rate_limit_rate:
            self._count("rate_limited")
            raise RateLimitedError(
                f"injected fault: {what} refused, too many requests",
                retry_after=self.retry_after,
            )

    def loses_answer(self) -> bool:
        """Whether this write batch lands but its answer is lost."""
        if self._random.random() < self.ambiguous_rate:
            self._count("ambiguous")
            return True
        return False

    def record_failure(self, object_name: str, fields: dict[str, Any]) -> RecordError | None:
        """The error one record of a batch draws, if any (checked before it is applied)."""
        for rule in self.business_rules:
            reason = rule(object_name, fields)
            if reason is not None:
                self._count("business")
                return RecordError("business", reason, vendor_message=reason)
        if self._random.random() < self.record_failure_rate:
            self._count("record")
            return RecordError("transient", "injected fault: record locked by another user")
        return None

    def lost_answer_error(self, what: str) -> AmbiguousWriteError:
        return AmbiguousWriteError(f"injected fault: {what} sent, but the answer was lost")
