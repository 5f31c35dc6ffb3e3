"""Encryption at rest of the fields a mapping marks ``sensitive: true``.

With ``encrypt_sensitive_fields: true`` in the config, the store encrypts the values of
those canonical paths in bases and in audit events before writing them and decrypts
them when read, so the engine plans with plain values (three-way comparison unchanged)
while the database file holds only ciphertexts. The key is the secrets key
(``ISTHMUS_SECRET_KEY``); ``isthmus secrets rotate`` re-encrypts these values too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from isthmus.security.keys import Cipher, is_sealed, load_cipher

if TYPE_CHECKING:
    from isthmus.engine.engine import Engine

AUDIT_VALUES = ("old_value", "new_value", "base_value", "other_value")


@dataclass(frozen=True)
class FieldProtector:
    """Seals and opens values of protected canonical paths, per entity."""

    cipher: Cipher
    paths: Mapping[str, frozenset[str]]

    def protects(self, entity: str, path: str | None) -> bool:
        if not path:
            return False
        return any(path == p or path.startswith(p + ".") for p in self.paths.get(entity, ()))

    def _seal(self, value: Any) -> Any:
        if value is None or is_sealed(value):
            return value
        return self.cipher.encrypt(json.dumps(value, sort_keys=True))

    def _open(self, value: Any, what: str) -> Any:
        if not is_sealed(value):
            return value
        return json.loads(self.cipher.decrypt(value, what))

    def seal_fields(self, entity: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        return {
            path: self._seal(value) if self.protects(entity, path) else value
            for path, value in fields.items()
        }

    def open_fields(self, entity: str, fields: Mapping[str, Any]) -> dict[str, Any]:
        return {path: self._open(value, f"{entity}.{path}") for path, value in fields.items()}

    def seal_audit(self, row: dict[str, Any]) -> None:
        """Encrypt an audit row's values in place: all of them when its field is
        protected, the protected paths inside a whole record (a create) otherwise."""
        entity = row["entity"]
        whole = self.protects(entity, row["field"])
        for name in AUDIT_VALUES:
            value = row[name]
            if whole:
                row[name] = self._seal(value)
            elif isinstance(value, Mapping):
                row[name] = self.seal_fields(entity, value)

    def open_audit(self, row: Mapping[str, Any]) -> dict[str, Any]:
        opened = dict(row)
        for name in AUDIT_VALUES:
            value = opened[name]
            if isinstance(value, Mapping):
                opened[name] = self.open_fields(row["entity"], value)
            else:
                opened[name] = self._open(value, f"audit value of {row['field']}")
        return opened

    def reseal(self, value: Any, new: FieldProtector) -> Any:
        """``value`` sealed under ``new``'s key (a rotation), inside a whole record too;
        plain values stay plain."""
        if isinstance(value, Mapping):
            return {path: self.reseal(item, new) for path, item in value.items()}
        return new._seal(self._open(value, "a protected value")) if is_sealed(value) else value


def protect_store(engine: Engine) -> None:
    """Have the engine's store encrypt the sensitive paths of every flow's mappings.

    Raises:
        ConfigError: no secret key is set.
    """
    cipher = load_cipher()
    assert cipher is not None  # required
    paths: dict[str, set[str]] = {}
    for flow in engine.flows.values():
        for side in flow.sides.values():
            paths.setdefault(flow.entity, set()).update(side.mapper.spec.sensitive_paths())
    protector = FieldProtector(cipher, {entity: frozenset(p) for entity, p in paths.items()})
    # Only the SQL store exists; it reads the attribute on every base and audit access.
    engine.store.protector = protector  # type: ignore[attr-defined]
