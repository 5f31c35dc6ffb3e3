"""The master key that encrypts secrets (and personal fields) at rest in the state store.

The key is never stored in the store nor in the config: it comes from the environment
(``ISTHMUS_SECRET_KEY``) or a file named by ``ISTHMUS_SECRET_KEY_FILE``, so a copy of
the database alone decrypts nothing. Encryption is Fernet (AES-128-CBC with an
HMAC-SHA256 tag, from ``cryptography``): authenticated, so a tampered value is refused,
not decrypted into garbage. Every ciphertext carries the id of its key (a short hash),
so a wrong key is named as such instead of failing as "corrupt data".
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from isthmus.errors import ConfigError

KEY_ENV = "ISTHMUS_SECRET_KEY"
KEY_FILE_ENV = "ISTHMUS_SECRET_KEY_FILE"
PREFIX = "enc:v1:"


class KeyMismatchError(ConfigError):
    """A value was encrypted with another key than the one given."""


def new_key() -> str:
    """A fresh random key, in the text form ``ISTHMUS_SECRET_KEY`` takes."""
    return Fernet.generate_key().decode()


def key_id(key: str) -> str:
    """A short public fingerprint of a key (12 hex digits of its SHA-256)."""
    return hashlib.sha256(key.strip().encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Cipher:
    """Encrypts and decrypts text with one key; ``id`` names the key in ciphertexts."""

    key: str = field(repr=False)  # a repr in a log or traceback must not show it

    @property
    def id(self) -> str:
        return key_id(self.key)

    def _fernet(self) -> Fernet:
        try:
            return Fernet(self.key.strip().encode())
        except ValueError:
            raise ConfigError(
                "the secret key is not a valid key (32 url-safe base64-encoded bytes); "
                "make one with `isthmus secrets new-key`"
            ) from None

    def encrypt(self, plain: str) -> str:
        token = self._fernet().encrypt(plain.encode()).decode()
        return f"{PREFIX}{self.id}:{token}"

    def decrypt(self, sealed: str, what: str = "a value") -> str:
        """The plain text of ``sealed``.

        Raises:
            KeyMismatchError: ``sealed`` was encrypted with another key.
            ConfigError: ``sealed`` is not a ciphertext of this format, or was altered.
        """
        if not sealed.startswith(PREFIX):
            raise ConfigError(f"{what} is not encrypted by Isthmus (no {PREFIX} prefix)")
        sealed_id, _, token = sealed[len(PREFIX) :].partition(":")
        if sealed_id != self.id:
            raise KeyMismatchError(
                f"{what} was encrypted with key {sealed_id}, but the key given is "
                f"{self.id}; set {KEY_ENV} (or {KEY_FILE_ENV}) to the key in use, or "
                "finish a rotation with `isthmus secrets rotate`"
            )
        try:
            return self._fernet().decrypt(token.encode()).decode()
        except InvalidToken:
            raise ConfigError(
                f"{what} fails its integrity check: it was altered in the store; set it "
                "again with `isthmus secrets set`"
            ) from None


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def key_from_file(path: Path) -> str:
    try:
        key = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(f"cannot read the secret key file {path}: {error.strerror}") from None
    if not key:
        raise ConfigError(f"the secret key file {path} is empty")
    return key


def load_cipher(required: bool = True) -> Cipher | None:
    """The cipher of the key in the environment (``None`` when none is set and not
    ``required``).

    Raises:
        ConfigError: no key is set and one is required, or the key file is unreadable.
    """
    key = os.environ.get(KEY_ENV, "").strip()
    if not key and os.environ.get(KEY_FILE_ENV):
        key = key_from_file(Path(os.environ[KEY_FILE_ENV]))
    if not key:
        if not required:
            return None
        raise ConfigError(
            f"no secret key: set {KEY_ENV} to a key, or {KEY_FILE_ENV} to a file holding "
            "one (make one with `isthmus secrets new-key`); Isthmus needs it to read the "
            "secrets and encrypted fields of the state store"
        )
    cipher = Cipher(key)
    cipher._fernet()  # refuse a malformed key now, not at the first secret
    return cipher
