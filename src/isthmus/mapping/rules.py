"""The registry of rule builders: one explicit dict from transform name to rule class.

Invariant: its keys equal ``transforms.TRANSFORMS`` (checked by a test), so every name
the loader accepts compiles, and nothing is looked up by string magic beyond this dict.
"""

from __future__ import annotations

from isthmus.mapping.base import Rule
from isthmus.mapping.composite import AddressBlockRule, AddressStructuredRule
from isthmus.mapping.money import MoneyRule
from isthmus.mapping.scalar import ConstantRule, PlainRule
from isthmus.mapping.spec import FieldRule, MappingSpec

RULE_BUILDERS: dict[str, type[Rule]] = {
    "decimal": PlainRule,
    "date": PlainRule,
    "datetime": PlainRule,
    "currency": PlainRule,
    "money": MoneyRule,
    "address_block": AddressBlockRule,
    "address_structured": AddressStructuredRule,
}


def build_rule(spec: FieldRule, mapping: MappingSpec) -> Rule:
    """Compile one checked field rule."""
    if spec.has_constant:
        return ConstantRule(spec, mapping)
    if spec.transform is None:
        return PlainRule(spec, mapping)
    return RULE_BUILDERS[spec.transform.name](spec, mapping)
