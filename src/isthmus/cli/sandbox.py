"""``isthmus sandbox <vendor>``: start a local, protocol-faithful simulator of a vendor API."""

from __future__ import annotations

import typer

from isthmus.sandbox.business_central.cli import business_central
from isthmus.sandbox.salesforce.cli import salesforce

sandbox_app = typer.Typer(
    name="sandbox",
    help="Start a local simulator of a vendor API (for tests, demos and dry runs).",
    no_args_is_help=True,
)

# Each vendor's sandbox registers its command below (one line per vendor).
sandbox_app.command("salesforce")(salesforce)
sandbox_app.command("business-central")(business_central)
