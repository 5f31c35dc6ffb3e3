"""Semantic checks of a mapping: what the JSON Schema cannot see.

The schema knows the shape of a rule; these checks know the model and the transforms:
the canonical path exists on the entity, the transform is known and fits the path, its
parts and options are right, value maps can be reversed, lookups name known entities,
and no two rules fight over one field.

Invariant: each check raises ``ConfigError`` at the offending rule's line (or key's
line) with a message saying what to write instead; a spec that passes can be compiled
into a ``Mapper`` without further errors.
"""

from __future__ import annotations

import dataclasses
import difflib

import jsonschema

from isthmus.errors import ConfigError
from isthmus.mapping.paths import known_paths, path_info
from isthmus.mapping.spec import Direction, FieldRule, MappingSpec
from isthmus.mapping.transforms import TRANSFORMS
from isthmus.mapping.transforms.dates import check_format, zone
from isthmus.mapping.transforms.values import ValueMap
from isthmus.model.entities import ENTITY_TYPES


class _Checker:
    def __init__(self, spec: MappingSpec) -> None:
        self.spec = spec

    def fail(self, message: str, rule: FieldRule | None = None, key: str | None = None) -> None:
        raise ConfigError(message, where=self.spec.where(rule, key))

    def run(self) -> MappingSpec:
        if self.spec.entity not in ENTITY_TYPES:
            known = ", ".join(sorted(ENTITY_TYPES))
            self.fail(f"unknown entity {self.spec.entity!r}; write one of: {known}", key="entity")
        if self.spec.timezone is not None:
            self.timezone(self.spec.timezone, None, "timezone")
        rules = tuple(self.rule(rule) for rule in self.spec.fields)
        self.conflicts(rules)
        return dataclasses.replace(self.spec, fields=rules)

    def rule(self, rule: FieldRule) -> FieldRule:
        if rule.has_constant:
            return self.constant(rule)
        if rule.canonical is None or (rule.native is None and rule.parts is None):
            missing = "native:" if rule.canonical else "canonical:"
            self.fail(f"rule {rule.label()!r} needs {missing} (or constant: instead)", rule)
        self.path(rule)
        if rule.transform is not None:
            self.transform(rule)
        elif rule.parts is not None:
            self.fail(
                f"native: lists parts for {rule.canonical!r} but no transform: says how to "
                "combine them; add transform: address_block, address_structured or money",
                rule,
                "native",
            )
        else:
            self.plain(rule)
        self.extras(rule)
        return rule

    def constant(self, rule: FieldRule) -> FieldRule:
        sides = [side for side in (rule.canonical, rule.native) if side is not None]
        if len(sides) != 1 or rule.parts is not None:
            self.fail(
                "a constant fills one side: write canonical: PATH (a value every record "
                "reads as) or native: FIELD (a value every write sends), not both",
                rule,
            )
        if rule.transform or rule.value_map or rule.lookup:
            self.fail("a constant rule takes no transform:, value_map: or lookup:", rule)
        implied: Direction = "to_canonical" if rule.canonical is not None else "to_native"
        if "direction" in rule.key_lines and rule.direction != implied:
            self.fail(f"a constant on this side only works {implied}; drop direction:", rule)
        if rule.canonical is not None:
            self.path(rule)
        return dataclasses.replace(rule, direction=implied)

    def path(self, rule: FieldRule) -> None:
        assert rule.canonical is not None
        if path_info(self.spec.entity, rule.canonical) is None:
            known = known_paths(self.spec.entity)
            close = difflib.get_close_matches(rule.canonical, known, n=3)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            self.fail(
                f"{self.spec.entity} has no field {rule.canonical!r}; {hint}"
                f"known: {', '.join(known)}",
                rule,
                "canonical",
            )

    def transform(self, rule: FieldRule) -> None:
        assert rule.transform is not None
        assert rule.canonical is not None
        name = rule.transform.name
        info = TRANSFORMS.get(name)
        if info is None:
            self.fail(
                f"unknown transform {name!r}; write one of: {', '.join(sorted(TRANSFORMS))}",
                rule,
                "transform",
            )
            return
        target = path_info(self.spec.entity, rule.canonical)
        assert target is not None
        model_name = target.model.__name__ if target.model else None
        if target.kind != info.canonical_kind or info.model != model_name:
            fitting = [
                other
                for other, candidate in TRANSFORMS.items()
                if candidate.canonical_kind == target.kind and candidate.model == model_name
            ]
            instead = f"use transform: {' or '.join(fitting)}" if fitting else "drop transform:"
            self.fail(
                f"transform {name} makes {info.model or info.canonical_kind} values but "
                f"{rule.canonical!r} holds {model_name or target.kind}; {instead}",
                rule,
                "transform",
            )
        self.options(rule)
        if info.kind == "composite":
            self.parts(rule)
        elif rule.parts is not None:
            self.fail(f"transform {name} reads one field: write native: FIELD", rule, "native")

    def options(self, rule: FieldRule) -> None:
        assert rule.transform is not None
        info = TRANSFORMS[rule.transform.name]
        options = dict(rule.transform.options)
        validator = jsonschema.Draft202012Validator(info.options_schema)
        error = jsonschema.exceptions.best_match(validator.iter_errors(options))
        if error is not None:
            allowed = ", ".join(sorted(info.options_schema["properties"])) or "none"
            self.fail(
                f"transform {rule.transform.name}: {error.message} (options: {allowed})",
                rule,
                "transform",
            )
        if "timezone" in options:
            self.timezone(options["timezone"], rule, "transform")
        if "format" in options:
            try:
                check_format(options["format"])
            except ValueError as problem:
                self.fail(str(problem), rule, "transform")

    def parts(self, rule: FieldRule) -> None:
        assert rule.transform is not None
        info = TRANSFORMS[rule.transform.name]
        if rule.parts is None:
            self.fail(
                f"transform {rule.transform.name} reads several fields: write native: "
                f"{{{', '.join(f'{p}: FIELD' for p in info.required_parts)}, ...}}",
                rule,
                "native",
            )
            return
        allowed = (*info.required_parts, *info.optional_parts)
        for part_name, part in rule.parts.items():
            if part_name not in allowed:
                self.fail(
                    f"transform {rule.transform.name} has no part {part_name!r}; "
                    f"parts: {', '.join(allowed)}",
                    rule,
                    "native",
                )
            if part.is_constant and part_name != "currency":
                self.fail(f"only currency: may be a constant, not {part_name}:", rule, "native")
        missing = [name for name in info.required_parts if name not in rule.parts]
        if missing:
            self.fail(
                f"transform {rule.transform.name} needs native parts: {', '.join(missing)}",
                rule,
                "native",
            )

    def plain(self, rule: FieldRule) -> None:
        assert rule.canonical is not None
        info = path_info(self.spec.entity, rule.canonical)
        assert info is not None
        if info.kind == "model":
            assert info.model is not None
            fields = ", ".join(f"{rule.canonical}.{name}" for name in info.model.model_fields)
            self.fail(
                f"{rule.canonical!r} is a {info.model.__name__}, not one value; map its parts "
                f"({fields}) or use a transform (address_block, address_structured, money)",
                rule,
                "canonical",
            )

    def extras(self, rule: FieldRule) -> None:
        is_plain = rule.transform is None and rule.parts is None
        if rule.value_map is not None:
            if not is_plain or rule.lookup:
                self.fail("value_map: works on a plain field rule only", rule, "value_map")
            try:
                ValueMap.build(
                    dict(rule.value_map.forward),
                    dict(rule.value_map.reverse) if rule.value_map.reverse else None,
                )
            except ValueError as problem:
                self.fail(str(problem), rule, "value_map")
        if rule.lookup is not None:
            if rule.lookup not in ENTITY_TYPES:
                known = ", ".join(sorted(ENTITY_TYPES))
                self.fail(f"lookup: {rule.lookup!r} is no entity; write one of: {known}", rule)
            if not is_plain:
                self.fail("lookup: works on a plain field rule only", rule, "lookup")
        if (rule.truncate or rule.max_length or rule.trim) and not is_plain:
            self.fail("truncate:, max_length: and trim: work on plain text rules", rule)
        if rule.max_length is not None and not rule.truncate:
            self.fail("max_length: only limits a cut; add truncate: true", rule, "max_length")

    def timezone(self, name: str, rule: FieldRule | None, key: str) -> None:
        try:
            zone(name)
        except ValueError as problem:
            self.fail(str(problem), rule, key)

    def conflicts(self, rules: tuple[FieldRule, ...]) -> None:
        from isthmus.mapping.rules import build_rule

        readers: dict[str, FieldRule] = {}
        writers: dict[str, tuple[FieldRule, bool]] = {}
        for rule in rules:
            built = build_rule(rule, self.spec)
            if rule.reads():
                for path in built.canonical_paths():
                    if path in readers:
                        self.fail(
                            f"{path!r} is already read by the rule at line "
                            f"{readers[path].line}; set direction: to_native on one of them",
                            rule,
                        )
                    readers[path] = rule
            if rule.writes():
                self.writers(rule, built.native_fields(), built.shared_fields(), writers)

    def writers(
        self,
        rule: FieldRule,
        names: tuple[str, ...],
        shared: frozenset[str],
        writers: dict[str, tuple[FieldRule, bool]],
    ) -> None:
        # A money rule's currency field is the record currency (Salesforce
        # CurrencyIsoCode): several rules may write it; the mapper checks they agree.
        for name in names:
            previous = writers.get(name)
            if previous is not None and not (previous[1] or name in shared):
                self.fail(
                    f"native field {name!r} is already written by the rule at line "
                    f"{previous[0].line}; set direction: to_canonical on one of them",
                    rule,
                )
            writers[name] = (rule, name in shared or (previous is not None and previous[1]))


def check_mapping(spec: MappingSpec) -> MappingSpec:
    """Check a spec's meaning; return it with constant rules' directions made explicit."""
    return _Checker(spec).run()
