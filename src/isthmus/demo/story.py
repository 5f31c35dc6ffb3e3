"""The demo story, told step by step in the terminal.

Every step acts as a person would (an edit in one database), runs the engine exactly as
``isthmus sync`` does, and then shows what the *other* database holds now, read
straight from it, so the reader sees the effect and not only the engine's counters.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.panel import Panel
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import create_engine, func, select, update

from isthmus.cli.output import run_table
from isthmus.demo.seed import accounts, create_databases, customers, erp_contacts
from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport


class Story:
    def __init__(self, console: Console, directory: Path) -> None:
        self.console = console
        self.directory = directory
        self.step = 0
        crm_url, erp_url = create_databases(directory)
        os.environ["ISTHMUS_DEMO_CRM"] = crm_url
        os.environ["ISTHMUS_DEMO_ERP"] = erp_url
        self.crm: SqlEngine = create_engine(crm_url)
        self.erp: SqlEngine = create_engine(erp_url)
        self.config = directory / "isthmus.yaml"
        files = resources.files("isthmus.demo") / "files"
        with resources.as_file(files) as source:
            shutil.copytree(source, directory, dirs_exist_ok=True)
        # The databases' URLs go into the copy itself, so the `isthmus ... -c` commands
        # printed at the end work in any shell, with no variable to export.
        text = self.config.read_text()
        text = text.replace("${ISTHMUS_DEMO_CRM}", crm_url).replace("${ISTHMUS_DEMO_ERP}", erp_url)
        self.config.write_text(text)
        self.engine = Engine.from_config(load_config(self.config))

    def chapter(self, title: str, text: str) -> None:
        self.step += 1
        self.console.print()
        # The story's text is written in lines for the source; the panel re-flows it to
        # the terminal's width (blank lines keep paragraphs apart).
        flowing = "\n\n".join(" ".join(part.split()) for part in text.split("\n\n"))
        self.console.print(Panel(flowing, title=f"[bold]{self.step}. {title}[/]", expand=False))

    async def sync(self) -> list[RunReport]:
        started = time.perf_counter()
        reports = await self.engine.sync()
        self.console.print(run_table(reports, time.perf_counter() - started))
        return reports

    def crm_edit(self, account_id: str, **values: Any) -> None:
        with self.crm.begin() as tx:
            tx.execute(
                update(accounts)
                .where(accounts.c.Id == account_id)
                .values(LastModifiedDate=datetime.now(UTC), **values)
            )

    def erp_edit(self, number: str, **values: Any) -> None:
        with self.erp.begin() as tx:
            tx.execute(
                update(customers)
                .where(customers.c.customer_no == number)
                .values(modified_at=datetime.now(UTC), **values)
            )

    def erp_customer(self, number: str) -> Any:
        with self.erp.connect() as conn:
            return conn.execute(select(customers).where(customers.c.customer_no == number)).one()

    def crm_account(self, number: str) -> Any:
        with self.crm.connect() as conn:
            return conn.execute(select(accounts).where(accounts.c.AccountNumber == number)).one()

    def say(self, text: str) -> None:
        self.console.print(text)

    async def close(self) -> None:
        await self.engine.close()
        self.crm.dispose()
        self.erp.dispose()


async def _first_sync(story: Story) -> None:
    story.chapter(
        "First sync, match first",
        "The CRM has 25 accounts and 50 contacts. The ERP already has 5 of those "
        "customers,\nentered by hand years ago (names in capitals). Isthmus links "
        "them by customer number\ninstead of creating duplicates, creates the other "
        "20, then the contacts.",
    )
    await story.sync()
    with story.erp.connect() as conn:
        count = conn.execute(select(func.count()).select_from(customers)).scalar_one()
        contacts = conn.execute(select(func.count()).select_from(erp_contacts)).scalar_one()
    story.say(
        f"ERP now holds [bold]{count}[/] customers (25 expected, no duplicate) and "
        f"[bold]{contacts}[/] contacts."
    )


async def _one_side_edit(story: Story) -> None:
    story.chapter("An edit in the CRM", "A sales rep changes the phone number of C-1007.")
    story.crm_edit("001000000000000008", Phone="+44 113 496 0000")
    await story.sync()
    story.say(f"ERP phone of C-1007: [bold]{story.erp_customer('C-1007').phone}[/]")


async def _ownership(story: Story) -> None:
    story.chapter(
        "The ERP owns credit limits",
        "Finance sets a 50,000 credit limit in the ERP; later a rep types 99,999 "
        "into the CRM.\nThe ERP is the system of record for credit limits, so the "
        "CRM edit is reverted\n(and the revert is in the audit trail).",
    )
    story.erp_edit("C-1002", credit_limit="50000.00")
    await story.sync()
    story.say(f"CRM credit limit of C-1002: [bold]{story.crm_account('C-1002').CreditLimit__c}[/]")
    story.crm_edit("001000000000000003", CreditLimit__c="99999")
    await story.sync()
    story.say(
        f"After the CRM edit, CRM credit limit of C-1002: "
        f"[bold]{story.crm_account('C-1002').CreditLimit__c}[/] (owner's value restored)"
    )


async def _conflict(story: Story) -> None:
    story.chapter(
        "Both sides edit the same field",
        "The CRM sets C-1004's payment terms to Prepayment while the ERP sets NET30.\n"
        "Nobody owns payment terms, and the flow's rule is `review`: nothing is "
        "overwritten,\na person decides.",
    )
    story.crm_edit("001000000000000005", **{"PaymentTerms__c": "Prepayment"})
    story.erp_edit("C-1004", terms="NET30")
    await story.sync()
    items = story.engine.store.review_items(flow="customers")
    for item in items:
        details = item.details
        story.say(
            f"Review item {item.id}: {details['field']}: {details['origin_system']} says "
            f"{details['origin_value']!r}, the other side {details['partner_value']!r} "
            f"(base {details['base_value']!r})"
        )
    if items and items[0].id is not None:
        story.say(
            "Resolving it by taking the ERP's value ([dim]isthmus review resolve ID "
            "--take erp[/]) ..."
        )
        report = await story.engine.resolve_review(items[0].id, take="erp", actor="demo")
        story.say(
            f"resolved: {report.summary()}. CRM terms of C-1004: "
            f"[bold]{story.crm_account('C-1004').PaymentTerms__c}[/]"
        )


async def _dead_letter(story: Story) -> None:
    story.chapter(
        "A bad value does not block the line",
        "A rep picks 'Net 45', a value the ERP has no code for, on C-1010, and "
        "edits C-1011 too.\nC-1010 is set aside with a message saying what to do; "
        "C-1011 goes through.",
    )
    story.crm_edit("001000000000000011", **{"PaymentTerms__c": "Net 45"})
    story.crm_edit("001000000000000012", Phone="+33 4 72 00 00 00")
    await story.sync()
    letters = story.engine.store.dead_letters(flow="customers", status="open")
    for letter in letters:
        story.say(
            f"Dead letter {letter.id}: {letter.system}:{letter.native_id} "
            f"field {letter.field}: {letter.message}"
        )
    story.say("The rep fixes the record to 'Net 60'; a replay reads its current state:")
    story.crm_edit("001000000000000011", **{"PaymentTerms__c": "Net 60"})
    reports = await story.engine.replay([letter.id for letter in letters if letter.id])
    story.console.print(run_table(reports))
    story.say(f"ERP terms of C-1010: [bold]{story.erp_customer('C-1010').terms}[/]")


async def _truncation_and_echo(story: Story) -> None:
    story.chapter(
        "Different field lengths, and no echo",
        "The CRM allows 255 characters for a name, the ERP 50. A long name is cut "
        "for the ERP\n(with a warning), and the cut value coming back is not taken "
        "as a change.\nThen a sync with no edits writes nothing at all.",
    )
    story.crm_edit(
        "001000000000000014", Name="Nimbus Precision Engineering and Industrial Automation Holdings"
    )
    await story.sync()
    story.say(
        f"ERP name: [bold]{story.erp_customer('C-1013').name}[/]; CRM name unchanged: "
        f"{story.crm_account('C-1013').Name}"
    )
    reports = await story.sync()
    writes = sum(r.counts["created"] + r.counts["updated"] for r in reports)
    story.say(f"Writes on the quiet sync: [bold]{writes}[/]")


STEPS: list[Callable[[Story], Awaitable[None]]] = [
    _first_sync,
    _one_side_edit,
    _ownership,
    _conflict,
    _dead_letter,
    _truncation_and_echo,
]


async def run_demo(
    console: Console, directory: Path | None, *, once: bool, port: int | None = None
) -> int:
    """Run the story; without ``once``, keep syncing on the flows' triggers afterwards
    (and, with ``port``, serve the dashboard and API on 127.0.0.1:PORT)."""
    target = directory or Path(tempfile.mkdtemp(prefix="isthmus-demo-"))
    target.mkdir(parents=True, exist_ok=True)
    console.print(
        Panel(
            f"Isthmus demo: a CRM and an ERP as two SQLite databases in {target}\n"
            "Everything below runs the real engine, exactly as `isthmus sync` does.",
            expand=False,
        )
    )
    started = time.perf_counter()
    story = Story(console, target)
    try:
        for step in STEPS:
            await step(story)
    finally:
        await story.close()
    console.print()
    console.print(
        f"[green]The story ran in {time.perf_counter() - started:.1f} s.[/] "
        f"Look around: [bold]isthmus status -c {story.config}[/]"
    )
    if once:
        return 0
    from isthmus.engine.scheduler import Scheduler

    engine = Engine.from_config(load_config(story.config))
    console.print("Now syncing every 5 s; edit crm.db or erp.db and watch. Ctrl-C stops.")
    scheduler = Scheduler(
        engine,
        on_report=lambda r: console.print(
            f"{time.strftime('%H:%M:%S')} {r.flow} {r.status}: {r.summary()}"
        ),
    )
    if port is None:
        await scheduler.serve()
        return 0
    from isthmus.api.auth import issue_token
    from isthmus.api.serve import Listen, control_plane_server, serve_with_webhooks
    from isthmus.store import User

    # A demo admin, so the dashboard can be opened at once (the demo's store only).
    engine.store.add_user(User("demo", "admin"))
    _, token = issue_token(engine.store, "demo")
    # soft_wrap: a wrapped token could not be pasted back whole.
    console.print(
        f"Dashboard: [bold]http://127.0.0.1:{port}/dashboard[/]; sign in with {token}",
        soft_wrap=True,
    )
    await serve_with_webhooks(scheduler, control_plane_server(scheduler, Listen(port=port)))
    return 0
