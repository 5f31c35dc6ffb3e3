"""``isthmus sandbox business-central``: run the Business Central sandbox in the foreground."""

from __future__ import annotations

from pathlib import Path

import typer

from isthmus.sandbox.business_central.app import create_app, with_faults
from isthmus.sandbox.business_central.config import SandboxConfig
from isthmus.sandbox.common import FaultConfig, generate_self_signed, serve


def business_central(
    port: int = typer.Option(8085, help="Port to listen on."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    tenant: str = typer.Option(
        SandboxConfig.tenant, help="Tenant id in URLs and the token endpoint."
    ),
    environment: str = typer.Option(SandboxConfig.environment, help="Environment name in URLs."),
    client_id: str = typer.Option(SandboxConfig.client_id, help="OAuth2 client id accepted."),
    client_secret: str = typer.Option(
        SandboxConfig.client_secret, help="OAuth2 client secret accepted."
    ),
    seed: int = typer.Option(SandboxConfig.seed, help="Seed of the generated data."),
    customers: int = typer.Option(SandboxConfig.customers, help="Customers to generate."),
    items: int = typer.Option(SandboxConfig.items, help="Items to generate."),
    page_size: int = typer.Option(
        SandboxConfig.page_size, help="Rows per page before @odata.nextLink."
    ),
    rate_limit: int = typer.Option(
        SandboxConfig.rate_limit, help="Requests per client per window."
    ),
    webhook_delay: float = typer.Option(
        SandboxConfig.webhook_delay_seconds, help="Seconds before notifications go out."
    ),
    tls: bool = typer.Option(
        False, "--tls", help="Serve HTTPS with a fresh self-signed certificate."
    ),
    db: Path | None = typer.Option(None, "--db", help="SQLite file to keep data across restarts."),
    simulate: bool = typer.Option(
        False, "--simulate", help="Ship, invoice, credit and collect over time."
    ),
    simulate_interval: float = typer.Option(
        SandboxConfig.simulate_interval_seconds, help="Seconds between simulated activities."
    ),
    error_rate: float = typer.Option(0.0, help="Share of requests answered with an injected 5xx."),
) -> None:
    """Start a local Business Central API v2.0 sandbox (OData v4, OAuth2, webhooks)."""
    config = SandboxConfig(
        tenant=tenant,
        environment=environment,
        client_id=client_id,
        client_secret=client_secret,
        seed=seed,
        customers=customers,
        items=items,
        page_size=page_size,
        rate_limit=rate_limit,
        webhook_delay_seconds=webhook_delay,
        db_path=db,
        simulate=simulate,
        simulate_interval_seconds=simulate_interval,
    )
    app = create_app(config)
    scheme = "https" if tls else "http"
    typer.echo(
        f"Business Central sandbox on {scheme}://{host}:{port}/v2.0/{tenant}/{environment}/api/v2.0/"
        f" (token: POST {scheme}://{host}:{port}/{tenant}/oauth2/v2.0/token, company "
        f"{app.state.company_id})"
    )
    serve(
        with_faults(app, FaultConfig(error_rate=error_rate)),
        host,
        port,
        generate_self_signed() if tls else None,
    )
