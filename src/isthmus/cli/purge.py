"""``isthmus purge``: drop audit values and dead-letter payloads past their retention."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from isthmus.cli.output import console, fail
from isthmus.engine.config import RetentionConfig, load_config
from isthmus.errors import IsthmusError
from isthmus.security.retention import purge as purge_store
from isthmus.store import open_store

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The Isthmus config file.")]


def purge(
    config: ConfigOption,
    audit_days: Annotated[
        int | None,
        typer.Option(min=1, help="Keep audit values this many days (default: retention:)."),
    ] = None,
    dead_letter_days: Annotated[
        int | None,
        typer.Option(min=1, help="Keep dead-letter payloads this many days (default: retention:)."),
    ] = None,
) -> None:
    """Purge copies of record values older than the retention periods (docs/security.md)."""
    try:
        loaded = load_config(config, secrets=False)
        configured = loaded.config.retention
        retention = RetentionConfig(
            audit_payload_days=audit_days or configured.audit_payload_days,
            dead_letter_days=dead_letter_days or configured.dead_letter_days,
        )
        if retention.audit_payload_days is None and retention.dead_letter_days is None:
            fail(
                "no retention period is set, so nothing is purged",
                "Set retention: {audit_payload_days: 90, dead_letter_days: 30} in the config "
                "or give --audit-days / --dead-letter-days.",
            )
            raise typer.Exit(2)
        store = open_store(loaded.store_url())
    except IsthmusError as error:
        fail(str(error), "Fix the file and run `isthmus validate -c FILE` again.")
        raise typer.Exit(2) from None
    try:
        counts = purge_store(store, retention)
    finally:
        store.close()
    console.print(
        f"Purged: {counts.get('audit_payloads', 0)} audit event(s) lost their values, "
        f"{counts.get('dead_letters_deleted', 0)} closed dead letter(s) deleted, "
        f"{counts.get('dead_letter_payloads', 0)} open dead letter(s) lost their payload."
    )
