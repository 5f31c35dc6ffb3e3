"""What a mapper needs to know about the run it maps for, beyond the record itself.

Invariant: a context holds no per-record state, so one context serves a whole page,
and mapping stays a pure function of (record, context).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from isthmus.connectors.base import ObjectDescription
from isthmus.mapping.transforms.lookups import LinkResolver, NoLinks


@dataclass(frozen=True)
class MappingContext:
    """The system a mapping maps for, its links, and its target description.

    Attributes:
        system: this mapping's system name, as links know it ("crm", "erp").
        resolver: answers native id <-> canonical id for lookups.
        description: the native object's description; truncation reads field lengths
            from it when a rule gives no ``max_length``.
        default_timezone: IANA zone for naive date-times when neither the rule nor the
            mapping names one.
    """

    system: str
    resolver: LinkResolver = field(default_factory=NoLinks)
    description: ObjectDescription | None = None
    default_timezone: str = "UTC"
