"""``isthmus forget``: answer an erasure request (GDPR art. 17) for one person."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from isthmus.cli.output import console, fail
from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.errors import IsthmusError
from isthmus.security.erasure import ErasureReport, Person, SystemAction, erase

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The Isthmus config file.")]


def forget(
    config: ConfigOption,
    system: Annotated[str | None, typer.Option(help="The system of --id.")] = None,
    native_id: Annotated[str | None, typer.Option("--id", help="The record's id there.")] = None,
    email: Annotated[str | None, typer.Option(help="The person's email address.")] = None,
    canonical: Annotated[str | None, typer.Option(help="The person's canonical id.")] = None,
    delete_in_systems: Annotated[
        bool, typer.Option(help="Also delete the linked records in every system.")
    ] = False,
    anonymise_in_systems: Annotated[
        bool,
        typer.Option(help="Also overwrite the fields marked sensitive in every system."),
    ] = False,
) -> None:
    """Erase one person's data from the state store and keep a tombstone so they are
    never synced back; prints what was erased where."""
    if (system is None) != (native_id is None):
        fail("--system and --id go together", "Give both, e.g. --system crm --id 003xx.")
        raise typer.Exit(2)
    if not (native_id or email or canonical):
        fail("nobody named", "Give --system and --id, --email, or --canonical.")
        raise typer.Exit(2)
    if delete_in_systems and anonymise_in_systems:
        fail("choose one of --delete-in-systems and --anonymise-in-systems")
        raise typer.Exit(2)
    action: SystemAction = (
        "delete" if delete_in_systems else "anonymise" if anonymise_in_systems else "none"
    )
    person = Person(system, native_id, email, canonical)
    try:
        engine = Engine.from_config(load_config(config))
    except IsthmusError as error:
        fail(str(error), "Fix the file and run `isthmus validate -c FILE` again.")
        raise typer.Exit(2) from None

    async def go() -> ErasureReport:
        try:
            return await erase(engine, person, action)
        finally:
            await engine.close()

    try:
        report = asyncio.run(go())
    except IsthmusError as error:
        fail(str(error), "Nothing was erased from the store; fix the cause and run it again.")
        raise typer.Exit(1) from None
    _print(report)
    if any(outcome.startswith("failed") for *_, outcome in report.systems):
        raise typer.Exit(1)


def _print(report: ErasureReport) -> None:
    target = report.target
    console.print(
        f"Erasure [bold]{report.erasure_id}[/]: {len(target.canonical_ids)} canonical "
        f"record(s), {len(target.natives)} linked native record(s)."
    )
    table = Table("where", "erased")
    for name, count in report.store.items():
        table.add_row(f"store: {name.replace('_', ' ')}", str(count))
    table.add_row("tombstones added", str(report.tombstones))
    for system, native_id, outcome in report.systems:
        table.add_row(f"{system} {native_id}", outcome)
    console.print(table)
    console.print(
        "The person is not synced back: records with these ids or this email are skipped. "
        "The erasure is in the audit trail without any personal data."
    )
