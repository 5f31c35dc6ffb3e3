"""``isthmus oauth``: a user's consent for a system that needs one (Salesforce's web-server
flow); the refresh token it yields goes straight into the encrypted vault."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Annotated, Any

import typer

from isthmus.cli.output import console, fail
from isthmus.connectors.salesforce.consent import authorize_url, exchange_code
from isthmus.engine.config import load_config
from isthmus.errors import ConfigError, IsthmusError
from isthmus.security.keys import load_cipher
from isthmus.security.references import SECRET_REF
from isthmus.security.tls import verify_setting
from isthmus.security.vault import SecretVault
from isthmus.store import open_store

oauth_app = typer.Typer(
    help="A user's consent (OAuth2 authorization code) for systems that need one.",
    no_args_is_help=True,
)
ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The Isthmus config file.")]
SystemOption = Annotated[str, typer.Option(help="The system (a salesforce connector).")]
RedirectOption = Annotated[
    str, typer.Option(help="The connected app's callback URL, exactly as registered.")
]


def _options(config: Path, system: str) -> tuple[str, dict[str, Any], SecretVault]:
    # Without filling ${secret:...}: the refresh token this command stores may be one.
    loaded = load_config(config, secrets=False)
    found = loaded.config.systems.get(system)
    if found is None or found.connector != "salesforce":
        raise ConfigError(f"{system!r} is not a salesforce system of {config}")
    cipher = load_cipher()
    assert cipher is not None
    vault = SecretVault(open_store(loaded.store_url()), cipher)
    options = {
        key: SECRET_REF.sub(lambda m: vault.get(m.group(1)), value)
        if isinstance(value, str) and key != "refresh_token"
        else value
        for key, value in found.options.items()
    }
    return system, options, vault


@oauth_app.command("url")
def url(config: ConfigOption, system: SystemOption, redirect_uri: RedirectOption) -> None:
    """Print the URL where the user approves the integration."""
    try:
        _, options, vault = _options(config, system)
    except IsthmusError as error:
        fail(str(error))
        raise typer.Exit(2) from None
    vault.store.close()
    state = secrets.token_urlsafe(12)
    console.print("Open this URL, log in as the integration user and approve:")
    print(authorize_url(str(options["login_url"]), str(options["client_id"]), redirect_uri, state))
    console.print(
        f"Then run `isthmus oauth exchange -c {config} --system {system} "
        f"--redirect-uri {redirect_uri} --code CODE` with the code from the redirect "
        f"(its state is {state})."
    )


@oauth_app.command("exchange")
def exchange(
    config: ConfigOption,
    system: SystemOption,
    redirect_uri: RedirectOption,
    code: Annotated[str, typer.Option(help="The code the redirect carried.")],
    secret_name: Annotated[
        str, typer.Option(help="Vault name for the refresh token.")
    ] = "SF_REFRESH_TOKEN",
) -> None:
    """Trade the code for a refresh token and store it encrypted in the vault."""
    try:
        name, options, vault = _options(config, system)
    except IsthmusError as error:
        fail(str(error))
        raise typer.Exit(2) from None
    try:
        refresh_token = asyncio.run(
            exchange_code(
                name,
                str(options["login_url"]),
                str(options["client_id"]),
                str(options.get("client_secret", "")),
                redirect_uri,
                code,
                verify_setting(name, options.get("ca_bundle")),
            )
        )
        vault.set(secret_name, refresh_token)
    except IsthmusError as error:
        fail(str(error))
        raise typer.Exit(1) from None
    finally:
        vault.store.close()
    console.print(
        f"Refresh token stored encrypted as {secret_name}. In the config of {system}, set "
        f"grant: refresh_token and refresh_token: ${{secret:{secret_name}}}."
    )
