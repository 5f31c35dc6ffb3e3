"""``isthmus token new``: an API token, printed once, and the line for the config."""

from __future__ import annotations

from typing import Annotated, Literal

import typer

from isthmus.api.auth import new_token
from isthmus.cli.output import console

token_app = typer.Typer(name="token", help="API tokens for the control API.", no_args_is_help=True)


@token_app.command("new")
def new(
    name: Annotated[str, typer.Argument(help="Who or what uses the token (kept in the audit).")],
    role: Annotated[
        Literal["viewer", "operator", "admin"],
        typer.Option(help="viewer reads; operator also replays, resolves, reconciles, runs."),
    ] = "viewer",
) -> None:
    """Create a token. Only its hash goes in the config; the token is shown once."""
    token, hashed = new_token()
    console.print(f"Token for {name} ({role}), shown once; keep it in a secret store:")
    console.print(token, soft_wrap=True)
    console.print("\nAdd this under api.tokens in the config file:")
    console.print(f"  - {{name: {name}, role: {role}, sha256: {hashed}}}", soft_wrap=True)
