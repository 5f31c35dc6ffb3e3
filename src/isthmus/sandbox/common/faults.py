"""Fault plans for sandboxes: which requests fail, and how, drawn from a seeded generator.

A :class:`FaultConfig` says how often each kind of fault happens; a :class:`FaultInjector`
holds the current config and the random generator and answers "what happens to this
request?" and "does this item of a batch fail?". The same seed and the same sequence of
requests give the same faults, so a failing test run can be replayed exactly.

The injector knows nothing of any vendor: the error body of an injected 5xx is produced
by a callable the vendor sandbox supplies (:data:`ErrorBodyFactory`).
"""

from __future__ import annotations

import dataclasses
import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["none", "error", "timeout", "drop", "slow"]

#: Builds the body of an injected error answer: (HTTP status) -> (body bytes, content type).
ErrorBodyFactory = Callable[[int], tuple[bytes, str]]

_ALLOWED_ERROR_STATUSES = frozenset({429, 500, 502, 503, 504})


class FaultConfigError(ValueError):
    """A fault configuration value is out of range or unknown."""


@dataclass(frozen=True)
class FaultConfig:
    """How often each fault happens; every rate is a probability in [0, 1].

    The rates are tried in the order error, timeout, drop, slow against one draw, so
    their sum must not exceed 1.
    """

    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 503)
    timeout_rate: float = 0.0
    timeout_seconds: float = 30.0
    drop_rate: float = 0.0
    slow_rate: float = 0.0
    slow_seconds: float = 1.0
    #: Chance that one item inside a batch (collection, bulk job) fails on its own.
    partial_failure_rate: float = 0.0
    retry_after_seconds: int = 1
    seed: int | None = None
    #: Requests whose path starts with one of these never get a fault (admin, health).
    exempt_path_prefixes: tuple[str, ...] = ("/__sandbox",)

    def __post_init__(self) -> None:
        rates = {
            "error_rate": self.error_rate,
            "timeout_rate": self.timeout_rate,
            "drop_rate": self.drop_rate,
            "slow_rate": self.slow_rate,
            "partial_failure_rate": self.partial_failure_rate,
        }
        for name, rate in rates.items():
            if not 0.0 <= rate <= 1.0:
                raise FaultConfigError(f"{name} must be between 0 and 1, got {rate}")
        request_rates = self.error_rate + self.timeout_rate + self.drop_rate + self.slow_rate
        if request_rates > 1.0 + 1e-9:
            raise FaultConfigError(
                f"error, timeout, drop and slow rates add up to {request_rates:.3f}; "
                "lower them so their sum is at most 1"
            )
        if not self.error_statuses:
            raise FaultConfigError("error_statuses must name at least one status, e.g. [503]")
        unknown = set(self.error_statuses) - _ALLOWED_ERROR_STATUSES
        if unknown:
            raise FaultConfigError(
                f"error_statuses {sorted(unknown)} are not injectable; "
                f"use some of {sorted(_ALLOWED_ERROR_STATUSES)}"
            )
        if self.timeout_seconds < 0 or self.slow_seconds < 0:
            raise FaultConfigError("timeout_seconds and slow_seconds must not be negative")

    def updated(self, changes: Mapping[str, Any]) -> FaultConfig:
        """Return a copy with ``changes`` applied (as sent to the admin endpoint).

        Raises:
            FaultConfigError: a key is unknown or a value is out of range.
        """
        known = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise FaultConfigError(
                f"unknown fault settings {sorted(unknown)}; known ones are {sorted(known)}"
            )
        normalised = dict(changes)
        try:
            for name in ("error_statuses", "exempt_path_prefixes"):
                if name in normalised:
                    normalised[name] = tuple(normalised[name])
            return dataclasses.replace(self, **normalised)
        except TypeError as exc:  # a value of the wrong type, e.g. a string rate
            raise FaultConfigError(f"bad fault setting: {exc}") from exc

    def as_json(self) -> dict[str, Any]:
        """The config as plain JSON values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in vars(self).items()}


@dataclass(frozen=True)
class FaultDecision:
    """What happens to one request."""

    kind: FaultKind
    status: int = 0
    delay_seconds: float = 0.0


def default_error_body(status: int) -> tuple[bytes, str]:
    """A neutral JSON error body, for sandboxes without a vendor-specific shape."""
    body = {"error": "injected_fault", "status": status, "message": "Injected by the sandbox."}
    return json.dumps(body).encode(), "application/json"


@dataclass
class FaultInjector:
    """The live fault config plus its random generator; safe to share between threads."""

    config: FaultConfig = field(default_factory=FaultConfig)
    error_body: ErrorBodyFactory = default_error_body

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._random = random.Random(self.config.seed)
        #: Faults injected so far, by kind (shown by ``GET /__sandbox/faults``), so a test
        #: can prove its faults were met.
        self.injected: Counter[str] = Counter()

    def configure(self, config: FaultConfig) -> None:
        """Replace the config.

        A config with a seed restarts the random sequence from that seed, so a run can be
        replayed from the moment its faults were set.
        """
        with self._lock:
            reseed = config.seed != self.config.seed or config.seed is not None
            self.config = config
            if reseed:
                self._random = random.Random(config.seed)

    def decide(self, path: str) -> FaultDecision:
        """Draw the fate of one request to ``path``."""
        config = self.config
        if any(path.startswith(prefix) for prefix in config.exempt_path_prefixes):
            return FaultDecision("none")
        with self._lock:
            draw = self._random.random()
            status = self._random.choice(config.error_statuses)
        decision = self._decision(draw, status, config)
        if decision.kind != "none":
            with self._lock:
                self.injected[decision.kind] += 1
        return decision

    @staticmethod
    def _decision(draw: float, status: int, config: FaultConfig) -> FaultDecision:
        threshold = config.error_rate
        if draw < threshold:
            return FaultDecision("error", status=status)
        threshold += config.timeout_rate
        if draw < threshold:
            return FaultDecision("timeout", delay_seconds=config.timeout_seconds)
        threshold += config.drop_rate
        if draw < threshold:
            return FaultDecision("drop")
        threshold += config.slow_rate
        if draw < threshold:
            return FaultDecision("slow", delay_seconds=config.slow_seconds)
        return FaultDecision("none")

    def item_fails(self) -> bool:
        """Whether one item inside a batch should fail (partial failure injection)."""
        rate = self.config.partial_failure_rate
        if rate <= 0.0:
            return False
        with self._lock:
            return self._random.random() < rate
