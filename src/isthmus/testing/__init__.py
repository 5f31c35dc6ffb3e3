"""Test support that ships with Isthmus: an in-memory connector with injectable faults,
and the conformance suite every connector must pass (see docs/testing.md)."""

from isthmus.testing.faults import FaultPlan
from isthmus.testing.memory import MemoryConnector, describe_object

__all__ = ["FaultPlan", "MemoryConnector", "describe_object"]
