"""``${secret:NAME}`` references in a config, filled from the vault of its state store.

Environment references (``${VAR}``) are filled while the YAML is read
(``isthmus.yamlsource``); vault references need the state store, whose URL is in the
same file, so they are filled after a first validation. Every value of an option that
names a secret, however it got there, is registered for redaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from isthmus.errors import ConfigError
from isthmus.security.redact import is_secret_key, register

SECRET_REF = re.compile(r"\$\{secret:([A-Za-z_][A-Za-z0-9_.\-]*)\}")
Path = tuple[str | int, ...]


def _strings(data: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _strings(value, (*path, index))
    elif isinstance(data, str):
        yield path, data


def register_secret_options(data: Any) -> None:
    """Register every string under a key that names a secret (for redaction)."""
    for path, value in _strings(data):
        if any(isinstance(part, str) and is_secret_key(part) for part in path):
            register(value)


def has_references(data: Any) -> bool:
    return any(SECRET_REF.search(value) for _, value in _strings(data))


def fill_references(data: Any, store_url: str, where: Any) -> Any:
    """A copy of ``data`` with every ``${secret:NAME}`` replaced by the secret's value.

    Args:
        where: ``path -> "file:line"`` for error messages.

    Raises:
        ConfigError: no key is set, or a named secret is not in the vault (with the
            line that names it).
    """
    from isthmus.security.keys import load_cipher
    from isthmus.security.vault import SecretVault
    from isthmus.store import open_store

    references = [(path, value) for path, value in _strings(data) if SECRET_REF.search(value)]
    first_path = references[0][0]
    try:
        cipher = load_cipher()
    except ConfigError as error:
        raise ConfigError(str(error), where=where(first_path)) from None
    assert cipher is not None  # required=True
    store = open_store(store_url)
    try:
        vault = SecretVault(store, cipher)
        filled: dict[Path, str] = {}
        for path, value in references:

            def replace(match: re.Match[str], path: Path = path) -> str:
                try:
                    return vault.get(match.group(1))
                except ConfigError as error:
                    raise ConfigError(str(error), where=where(path)) from None

            filled[path] = SECRET_REF.sub(replace, value)
    finally:
        store.close()
    return _replace(data, (), filled)


def _replace(data: Any, path: Path, filled: dict[Path, str]) -> Any:
    if isinstance(data, dict):
        return {key: _replace(value, (*path, key), filled) for key, value in data.items()}
    if isinstance(data, list):
        return [_replace(value, (*path, index), filled) for index, value in enumerate(data)]
    return filled.get(path, data)


def plaintext_secrets(document: Any) -> list[str]:
    """Warnings for secret options written as literals in the file (not ``${...}``).

    Args:
        document: the config's ``YamlDocument`` (its data and the line of every key).
    """
    from pathlib import Path as FilePath

    try:
        lines = FilePath(document.source).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    warnings: list[str] = []
    for path, value in _strings(document.data):
        named = [part for part in path if isinstance(part, str) and is_secret_key(part)]
        if path[:1] != ("systems",) or not named or not value:
            continue
        where = document.where(path)
        line = int(where.rsplit(":", 1)[1])
        if line <= len(lines) and "${" not in lines[line - 1]:
            dotted = ".".join(str(part) for part in path)
            warnings.append(
                f"{where}: {dotted} is written in the file in plain text; store it with "
                "`isthmus secrets set` and write ${secret:NAME} (or ${ENV_VAR}) instead"
            )
    return warnings
