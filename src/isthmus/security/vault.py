"""The secrets vault: named secrets kept encrypted in the state store.

Only this module encrypts and decrypts secrets; the store sees ciphertexts. A rotation
decrypts every secret with the current key and re-encrypts it with the new one, then
swaps them all in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from isthmus.errors import ConfigError
from isthmus.security.fields import FieldProtector
from isthmus.security.keys import Cipher
from isthmus.security.redact import register
from isthmus.store.base import Store
from isthmus.store.types import StoredSecret

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,119}$")


@dataclass(frozen=True)
class SecretInfo:
    """What ``isthmus secrets list`` shows: never the value."""

    name: str
    key_id: str
    updated_at: str


class SecretVault:
    def __init__(self, store: Store, cipher: Cipher) -> None:
        self.store = store
        self.cipher = cipher

    def set(self, name: str, value: str) -> None:
        if not NAME.match(name):
            raise ConfigError(
                f"{name!r} is not a secret name; use letters, digits, _ . - "
                "(starting with a letter), e.g. SF_CLIENT_SECRET"
            )
        if not value:
            raise ConfigError(f"secret {name}: the value is empty; give the secret's value")
        ciphertext = self.cipher.encrypt(value)
        self.store.put_secret(StoredSecret(name, ciphertext, self.cipher.id))

    def get(self, name: str) -> str:
        """The plain value of a secret (registered for redaction).

        Raises:
            ConfigError: no such secret, or it cannot be decrypted with this key.
        """
        stored = self.store.secret(name)
        if stored is None:
            known = ", ".join(s.name for s in self.store.stored_secrets()) or "none"
            raise ConfigError(
                f"secret {name!r} is not in the vault (stored: {known}); add it with "
                f"`isthmus secrets set -c CONFIG {name}`"
            )
        value = self.cipher.decrypt(stored.ciphertext, f"secret {name!r}")
        register(value)
        return value

    def list(self) -> list[SecretInfo]:
        return [
            SecretInfo(
                s.name,
                s.key_id,
                s.updated_at.strftime("%Y-%m-%d %H:%M:%S UTC") if s.updated_at else "",
            )
            for s in self.store.stored_secrets()
        ]

    def delete(self, name: str) -> bool:
        return self.store.delete_secret(name)

    def rotate(self, new: Cipher) -> int:
        """Re-encrypt every secret, and every encrypted field value, with ``new``;
        returns how many secrets.

        Raises:
            ConfigError: a secret cannot be decrypted with the current key (nothing is
                changed then).
        """
        previous = self.store.stored_secrets()
        renewed = [
            StoredSecret(s.name, new.encrypt(self.cipher.decrypt(s.ciphertext, s.name)), new.id)
            for s in previous
        ]
        old, fresh = FieldProtector(self.cipher, {}), FieldProtector(new, {})
        try:
            return self.store.replace_secrets(
                renewed, previous, reseal=lambda value: old.reseal(value, fresh)
            )
        except ValueError as error:
            raise ConfigError(
                f"a secret changed during the rotation ({error}); run the rotation again"
            ) from None
