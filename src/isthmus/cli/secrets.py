"""``isthmus secrets``: the encrypted vault of the state store.

Values are read from standard input (or a hidden prompt), never from the command line,
so they do not land in shell history; ``list`` shows names and key ids, never values.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from isthmus.cli.output import console, fail
from isthmus.engine.config import load_config
from isthmus.errors import IsthmusError
from isthmus.security.keys import KEY_ENV, KEY_FILE_ENV, Cipher, key_from_file, load_cipher, new_key
from isthmus.security.vault import SecretVault
from isthmus.store import Store, open_store

secrets_app = typer.Typer(
    help="Secrets kept encrypted in the state store; configs name them ${secret:NAME}.",
    no_args_is_help=True,
)
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The Isthmus config file.")]


def _vault(config: Path) -> tuple[Store, SecretVault]:
    try:
        # The store alone, without filling ${secret:...}: they may be what is set now.
        loaded = load_config(config, secrets=False)
        cipher = load_cipher()
        assert cipher is not None
        store = open_store(loaded.store_url())
    except IsthmusError as error:
        fail(str(error), f"Set {KEY_ENV} or {KEY_FILE_ENV}, and check the config file.")
        raise typer.Exit(2) from None
    return store, SecretVault(store, cipher)


def _read_value(name: str) -> str:
    if sys.stdin.isatty():
        return str(typer.prompt(f"Value of {name}", hide_input=True))
    return sys.stdin.read().rstrip("\r\n")


@secrets_app.command("set")
def set_secret(
    config: ConfigOption,
    name: Annotated[str, typer.Argument(help="The secret's name, e.g. SF_CLIENT_SECRET.")],
) -> None:
    """Store a secret (read from stdin or a hidden prompt), encrypted."""
    store, vault = _vault(config)
    try:
        vault.set(name, _read_value(name))
    except IsthmusError as error:
        fail(str(error))
        raise typer.Exit(1) from None
    finally:
        store.close()
    console.print(f"Secret [bold]{name}[/] stored encrypted; refer to it as ${{secret:{name}}}.")


@secrets_app.command("list")
def list_secrets(config: ConfigOption) -> None:
    """Names of the stored secrets, their key id and last change (never their values)."""
    store, vault = _vault(config)
    try:
        infos = vault.list()
    finally:
        store.close()
    table = Table("name", "key id", "updated")
    for info in infos:
        table.add_row(info.name, info.key_id, info.updated_at)
    console.print(table)
    console.print(f"current key id: {vault.cipher.id}")


@secrets_app.command("delete")
def delete_secret(
    config: ConfigOption, name: Annotated[str, typer.Argument(help="The secret's name.")]
) -> None:
    """Remove a secret from the vault."""
    store, vault = _vault(config)
    try:
        found = vault.delete(name)
    finally:
        store.close()
    if not found:
        fail(f"no secret named {name!r}", "See the names with `isthmus secrets list -c FILE`.")
        raise typer.Exit(1)
    console.print(f"Secret [bold]{name}[/] deleted.")


@secrets_app.command("new-key")
def make_key(
    file: Annotated[Path, typer.Argument(help="Where to write the key (mode 600).")],
) -> None:
    """Write a new random key to a file (it is never printed)."""
    if file.exists():
        fail(f"{file} exists", "Choose a new path; a key file is never overwritten.")
        raise typer.Exit(2)
    _write_key(file, new_key())
    console.print(f"Key written to {file} (id {Cipher(key_from_file(file)).id}).")
    console.print(f"Use it: export {KEY_FILE_ENV}={file.resolve()}")


@secrets_app.command("rotate")
def rotate(
    config: ConfigOption,
    new_key_file: Annotated[
        Path,
        typer.Option(help="The new key's file; made (mode 600) when it does not exist."),
    ],
) -> None:
    """Re-encrypt every secret with a new key; then point the key setting at it."""
    store, vault = _vault(config)
    try:
        if not new_key_file.exists():
            _write_key(new_key_file, new_key())
        new = Cipher(key_from_file(new_key_file))
        if new.id == vault.cipher.id:
            fail("the new key is the key in use", "Give a new key file (or a new path).")
            raise typer.Exit(2)
        count = vault.rotate(new)
    except IsthmusError as error:
        fail(str(error), "Nothing was changed: the secrets stay under the current key.")
        raise typer.Exit(1) from None
    finally:
        store.close()
    console.print(
        f"{count} secret(s) re-encrypted from key {vault.cipher.id} to key {new.id}. "
        f"Now set {KEY_FILE_ENV}={new_key_file.resolve()} (and unset {KEY_ENV}) for every "
        "Isthmus process, then destroy the old key."
    )


def _write_key(path: Path, key: str) -> None:
    # Created with mode 600 from the start: the key is never readable by others.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
