"""``isthmus sandbox salesforce``: start the Salesforce sandbox in the foreground.

Every flag has a default, so ``isthmus sandbox salesforce`` alone starts an org with a
small seeded data set on http://127.0.0.1:8765 that accepts the default credentials
printed at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from isthmus.sandbox.common import FaultConfig, FaultConfigError, generate_self_signed, serve
from isthmus.sandbox.salesforce import settings as defaults
from isthmus.sandbox.salesforce.app import create_sandbox
from isthmus.sandbox.salesforce.settings import (
    Credentials,
    LimitSettings,
    SandboxSettings,
    Volume,
)

DEFAULT_PORT = 8765


def salesforce(
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = DEFAULT_PORT,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    client_id: Annotated[
        str, typer.Option(help="Connected app consumer key.")
    ] = defaults.DEFAULT_CLIENT_ID,
    client_secret: Annotated[
        str, typer.Option(help="Connected app consumer secret.")
    ] = defaults.DEFAULT_CLIENT_SECRET,
    username: Annotated[str, typer.Option(help="The one user allowed to log in.")] = (
        defaults.DEFAULT_USERNAME
    ),
    password: Annotated[str, typer.Option(help="That user's password.")] = (
        defaults.DEFAULT_PASSWORD
    ),
    security_token: Annotated[
        str, typer.Option(help="Appended to the password at login, as in Salesforce.")
    ] = "",
    jwt_public_key: Annotated[
        Path | None,
        typer.Option(
            "--jwt-public-key",
            help="PEM public key of the connected app: enables the JWT bearer grant.",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the generated data.")] = 1,
    volume: Annotated[
        str,
        typer.Option(
            help="Seed size: empty, small (20 accounts), medium (500), large (10k), huge (100k)."
        ),
    ] = "small",
    accounts: Annotated[
        int | None, typer.Option(help="Seed exactly this many accounts (overrides --volume).")
    ] = None,
    tls: Annotated[
        bool, typer.Option(help="Serve HTTPS with a fresh self-signed certificate.")
    ] = False,
    db: Annotated[
        Path | None, typer.Option(help="SQLite file to keep the org in (default: memory only).")
    ] = None,
    public_url: Annotated[
        str | None, typer.Option(help="instance_url handed out at login (default: as called).")
    ] = None,
    daily_api_limit: Annotated[int, typer.Option(help="Daily API request budget.")] = 100_000,
    max_concurrent: Annotated[int, typer.Option(help="Requests allowed in flight at once.")] = 25,
    session_seconds: Annotated[int, typer.Option(help="Access token lifetime.")] = 7200,
    fault_rate: Annotated[float, typer.Option(help="Share of calls answered 500/503.")] = 0.0,
    fault_statuses: Annotated[str, typer.Option(help="Statuses for --fault-rate.")] = "500,503",
    timeout_rate: Annotated[
        float, typer.Option(help="Share of calls held --timeout-seconds.")
    ] = 0.0,
    timeout_seconds: Annotated[float, typer.Option(help="Delay of a timeout fault.")] = 30.0,
    drop_rate: Annotated[float, typer.Option(help="Share of calls whose connection drops.")] = 0.0,
    slow_rate: Annotated[float, typer.Option(help="Share of calls delayed --slow-seconds.")] = 0.0,
    slow_seconds: Annotated[float, typer.Option(help="Delay of a slow answer.")] = 1.0,
    partial_failure_rate: Annotated[
        float, typer.Option(help="Share of records failing inside collections and bulk jobs.")
    ] = 0.0,
    fault_seed: Annotated[int | None, typer.Option(help="Seed of the fault generator.")] = None,
    event_callback: Annotated[
        str | None, typer.Option(help="URL to POST change events to as they happen.")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Start a local Salesforce org speaking the REST, Bulk 2.0 and OAuth2 wire formats."""
    if volume not in ("empty", "small", "medium", "large", "huge"):
        raise typer.BadParameter("use empty, small, medium, large or huge", param_hint="--volume")
    try:
        faults = FaultConfig(
            error_rate=fault_rate,
            error_statuses=tuple(int(s) for s in fault_statuses.split(",") if s.strip()),
            timeout_rate=timeout_rate,
            timeout_seconds=timeout_seconds,
            drop_rate=drop_rate,
            slow_rate=slow_rate,
            slow_seconds=slow_seconds,
            partial_failure_rate=partial_failure_rate,
            seed=fault_seed,
        )
    except (FaultConfigError, ValueError) as error:
        raise typer.BadParameter(str(error), param_hint="fault options") from None
    volume_name: Volume = volume  # type: ignore[assignment]  # checked just above
    settings = SandboxSettings(
        credentials=Credentials(
            client_id,
            client_secret,
            username,
            password,
            security_token,
            jwt_public_key.read_text() if jwt_public_key else None,
        ),
        seed=seed,
        volume=volume_name,
        db_path=db,
        limits=LimitSettings(daily_api_limit, max_concurrent, session_seconds),
        faults=faults,
        public_url=public_url,
        event_callback_url=event_callback,
    )
    sandbox = create_sandbox(settings, accounts=accounts)
    tls_files = generate_self_signed((host, "localhost", "127.0.0.1")) if tls else None
    scheme = "https" if tls else "http"
    typer.echo(f"Salesforce sandbox on {scheme}://{host}:{port}")
    typer.echo(f"  token URL   {scheme}://{host}:{port}/services/oauth2/token")
    typer.echo(f"  client      {client_id} / {client_secret}")
    typer.echo(f"  user        {username} / {password}{security_token}")
    typer.echo(f"  accounts    {sandbox.state.store.count('Account')}")
    if tls_files is not None:
        typer.echo(f"  certificate {tls_files.cert_path} (trust it, e.g. verify=<path>)")
    serve(sandbox.asgi, host, port, tls_files, log_level=log_level)
