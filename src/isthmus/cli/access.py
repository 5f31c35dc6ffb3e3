"""``isthmus users`` and ``isthmus tokens``: who may use the control-plane API.

Acts on the state store of the config given with ``-c``; the API of a running
``isthmus run`` sees the change at once (tokens are checked on every request).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from isthmus.api.auth import issue_token
from isthmus.api.errors import ApiError
from isthmus.cli.output import console, fail
from isthmus.engine.config import load_config
from isthmus.errors import IsthmusError
from isthmus.store import ROLES, Role, Store, User, open_store

users_app = typer.Typer(
    help="Users of the control-plane API and their roles.", no_args_is_help=True
)
tokens_app = typer.Typer(help="API tokens (shown once, stored hashed).", no_args_is_help=True)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The Isthmus config file.")]


def _store(config: Path) -> Store:
    # The store alone: managing users needs no system to answer.
    try:
        loaded = load_config(config)
        return open_store(loaded.store_url())
    except IsthmusError as error:
        fail(str(error), "Fix the file and run `isthmus validate -c FILE` again.")
        raise typer.Exit(2) from None


@users_app.command("add")
def add_user(
    config: ConfigOption,
    name: Annotated[str, typer.Argument(help="The user's name (shown in the audit log).")],
    role: Annotated[str, typer.Option(help="viewer, operator or admin.")] = "viewer",
) -> None:
    """Add a user, or change the role of an existing one."""
    if role not in ROLES:
        fail(f"unknown role {role!r}", f"Use one of: {', '.join(ROLES)}.")
        raise typer.Exit(2)
    store = _store(config)
    try:
        chosen: Role = role  # checked against ROLES above
        store.add_user(User(name, chosen))
    finally:
        store.close()
    console.print(
        f"User [bold]{name}[/] is a {role}. Create a token: `isthmus tokens create {name}`."
    )


@users_app.command("list")
def list_users(config: ConfigOption) -> None:
    """List users and their roles."""
    store = _store(config)
    try:
        for user in store.users():
            console.print(f"{user.name}\t{user.role}")
    finally:
        store.close()


@tokens_app.command("create")
def create_token(
    config: ConfigOption,
    name: Annotated[str, typer.Argument(help="The user the token acts as.")],
) -> None:
    """Create an API token; it is printed once and stored only as a hash."""
    store = _store(config)
    try:
        token, text = issue_token(store, name)
    except ApiError as error:
        fail(error.error, error.what_to_do)
        raise typer.Exit(1) from None
    finally:
        store.close()
    console.print(f"Token {token.id} for {name} (keep it now, it is not shown again):")
    # Plain print: rich would wrap or style the token and break copying it.
    print(text)


@tokens_app.command("revoke")
def revoke_token(
    config: ConfigOption,
    token_id: Annotated[str, typer.Argument(help="The token's id (not its text).")],
) -> None:
    """Revoke a token: requests with it are refused from now on."""
    store = _store(config)
    try:
        revoked = store.revoke_token(token_id)
    finally:
        store.close()
    if not revoked:
        fail(
            f"no unrevoked token with id {token_id!r}", "`isthmus tokens list -c FILE` shows them."
        )
        raise typer.Exit(1)
    console.print(f"Token {token_id} revoked.")


@tokens_app.command("list")
def list_tokens(config: ConfigOption) -> None:
    """List tokens: id, user, created, revoked."""
    store = _store(config)
    try:
        for token in store.tokens():
            state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "active"
            console.print(
                f"{token.id}\t{token.user_name}\t{token.created_at:%Y-%m-%d %H:%M}\t{state}"
            )
    finally:
        store.close()
