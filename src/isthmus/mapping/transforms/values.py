"""Value maps: picklist values of one system <-> canonical values, both ways.

Invariant: a value map is a bijection on the values it lists, or it carries an explicit
``reverse`` map for the canonical -> native direction; an unlisted value is never passed
through or dropped, it raises ``MappingError`` naming the value and the allowed ones,
because a silently dropped picklist value is how records vanish between systems.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from isthmus.mapping.errors import MappingError, shorten

Scalar = str | int | bool | None


def _key(value: Any) -> Any:
    # YAML mapping keys arrive as strings ("1", "True"); match a native 1 or True
    # against them too, but keep bool and int apart from each other.
    return (type(value).__name__, value) if isinstance(value, bool) else value


@dataclass(frozen=True)
class ValueMap:
    """A checked, two-way value map (build it with ``ValueMap.build``)."""

    to_canonical_map: tuple[tuple[Any, Any], ...]
    to_native_map: tuple[tuple[Any, Any], ...]

    @classmethod
    def build(
        cls, forward: Mapping[Any, Any], reverse: Mapping[Any, Any] | None = None
    ) -> ValueMap:
        """A value map from native -> canonical pairs; ``reverse`` when not one to one.

        Raises:
            ValueError: the forward map is not reversible and no ``reverse`` was given,
                or ``reverse`` misses a canonical value the forward map produces.
        """
        if reverse is None:
            reverse = reverse_of(forward)
        missing = [value for value in forward.values() if not _contains(reverse, value)]
        if missing:
            raise ValueError(
                f"reverse: has no native value for {', '.join(map(repr, missing))}; "
                "add them so every canonical value can be written back"
            )
        return cls(tuple(forward.items()), tuple(reverse.items()))

    def to_canonical(self, value: Any) -> Any:
        return _translate(self.to_canonical_map, value, "native")

    def to_native(self, value: Any) -> Any:
        return _translate(self.to_native_map, value, "canonical")

    def native_values(self) -> list[Any]:
        return [native for native, _ in self.to_canonical_map]


def reverse_of(forward: Mapping[Any, Any]) -> dict[Any, Any]:
    """The inverse of a one-to-one map; ValueError naming the clashing values otherwise."""
    reverse: dict[Any, Any] = {}
    for native, canonical in forward.items():
        if _contains(reverse, canonical):
            raise ValueError(
                f"native values {_lookup(reverse, canonical)!r} and {native!r} both map to "
                f"{canonical!r}, so the way back is ambiguous; add reverse: "
                f"{{{canonical}: <the native value to write>}}"
            )
        reverse[canonical] = native
    return reverse


def _contains(table: Mapping[Any, Any], value: Any) -> bool:
    return any(_key(key) == _key(value) for key in table)


def _lookup(table: Mapping[Any, Any], value: Any) -> Any:
    return next(item for key, item in table.items() if _key(key) == _key(value))


def _translate(pairs: tuple[tuple[Any, Any], ...], value: Any, side: str) -> Any:
    # Listed values first: a map may give "" or None a meaning (" " -> false in some ERPs).
    for key, target in pairs:
        if _key(key) == _key(value):
            return target
    if value is None or value == "":
        return None
    if isinstance(value, int | bool):
        for key, target in pairs:
            if isinstance(key, str) and key == str(value):
                return target
    allowed = ", ".join(repr(key) for key, _ in pairs)
    raise MappingError(
        f"{side} value {shorten(value)} is not in the value map (allowed: {allowed}); "
        f"add it to value_map{'' if side == 'native' else ' or reverse'} in the mapping",
        value=value,
    )
