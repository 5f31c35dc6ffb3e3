"""The dashboard in headless Chromium (the Debian package, driven by Playwright) on a
real uvicorn server over a real engine and SQLite store: sign in, read the KPIs, replay
a dead letter and resolve a review item by clicking. Screenshots go to
build/screenshots/ as test artefacts."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from isthmus.api.app import create_app
from isthmus.api.auth import issue_token
from isthmus.dashboard.kpis import processed
from isthmus.demo.seed import accounts
from isthmus.demo.story import STEPS, Story
from isthmus.engine.engine import Engine
from isthmus.sandbox.common.server import running_server
from isthmus.store import Role, User
from isthmus.testing import MemoryConnector
from tests.api.conftest import add_users, flag_sensitive
from tests.dashboard.conftest import seed_engine
from tests.engine.memoryfixtures import open_engine, write_config

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs the Debian chromium package at /usr/bin/chromium (apt-get install -y chromium)",
)


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Installation:
    engine: Engine
    crm: MemoryConnector
    tokens: dict[Role, str]
    letter_id: int
    item_id: int


@pytest.fixture
def installation(tmp_path: Path) -> Installation:
    # Seeded before the browser starts: Playwright's sync API keeps an event loop
    # running in this thread, and seeding runs the engine with asyncio.run.
    config = write_config(tmp_path)
    flag_sensitive(config, "crm_account", "credit_limit")
    flag_sensitive(config, "erp_customer", "credit_limit")
    engine, crm, erp = open_engine(config)
    tokens = add_users(engine)
    letter_id, item_id = seed_engine(engine, crm, erp)
    return Installation(engine, crm, tokens, letter_id, item_id)


def test_an_operator_replays_and_resolves_by_clicking(
    installation: Installation, browser: object
) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    engine, crm, tokens = installation.engine, installation.crm, installation.tokens
    letter_id, item_id = installation.letter_id, installation.item_id
    records = sum(processed(run) for run in engine.store.runs(None, 100))
    SHOTS.mkdir(parents=True, exist_ok=True)

    with running_server(create_app(engine)) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/dashboard")
        assert "/dashboard/login" in page.url
        page.fill("input[name=token]", tokens["operator"])
        page.click("button[type=submit]")
        page.wait_for_selector("#banner")
        assert page.inner_text("#kpi-records .num") == str(records)
        assert records > 0
        assert page.inner_text("#kpi-errors .num") == "1"
        assert page.inner_text("#kpi-conflicts .num") == "1"
        assert "2 things need you" in page.inner_text("#banner")
        page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)

        # The person fixes the record in the CRM, then replays its dead letter.
        bad = next(i for i in crm.records("Account") if len(crm.get("Account", i)["Name"]) > 50)
        crm.put("Account", {"Name": "Bold"}, bad)
        page.click("#banner >> text=dead letter in customers")
        page.wait_for_selector(f"#letter-{letter_id}")
        page.screenshot(path=str(SHOTS / "dead-letters.png"), full_page=True)
        page.click(f"#letter-{letter_id} >> text=Replay")
        assert "replayed" in page.inner_text(".flash")
        letter = engine.store.dead_letter(letter_id)
        assert letter is not None
        assert letter.status == "resolved"

        page.goto(f"{url}/dashboard/review")
        page.click(f"#review-{item_id} >> text=Open")
        page.wait_for_selector("table.diff")
        assert "differs" in (page.get_attribute("table.diff tr.differs", "class") or "")
        page.screenshot(path=str(SHOTS / "review.png"), full_page=True)
        page.click("text=Keep erp's values")
        assert "resolved" in page.inner_text(".flash")
        item = engine.store.review_item(item_id)
        assert item is not None
        assert item.resolved_by == "api:operator"
        phones = {crm.get("Account", i).get("Phone") for i in crm.records("Account")}
        assert "300" in phones  # the ERP's value, written back to the CRM

        page.goto(f"{url}/dashboard")
        assert "All good" in page.inner_text("#banner")
        page.screenshot(path=str(SHOTS / "overview-all-good.png"), full_page=True)


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Story, int, int, str]]:
    """The demo's story told on its two SQLite databases, then one more conflict and one
    more dead letter; yields the story and (letter id, review item id)."""
    monkeypatch.setenv("ISTHMUS_DEMO_CRM", "")  # restored after the test (Story sets it)
    monkeypatch.setenv("ISTHMUS_DEMO_ERP", "")
    story = Story(Console(file=io.StringIO()), tmp_path)

    original: str | None = None

    async def tell() -> tuple[int, int]:
        nonlocal original
        for step in STEPS:
            await step(story)
        story.crm_edit("001000000000000008", PaymentTerms__c="Prepayment")
        story.erp_edit("C-1007", terms="NET30")
        with story.crm.connect() as connection:
            original = connection.execute(
                select(accounts.c.PaymentTerms__c).where(accounts.c.Id == "001000000000000014")
            ).scalar()
        story.crm_edit("001000000000000014", PaymentTerms__c="Net 45")  # no ERP code
        await story.sync()
        (item,) = story.engine.store.review_items(flow="customers")
        letter = next(
            d
            for d in story.engine.store.dead_letters(flow="customers")
            if d.native_id == "001000000000000014"
        )
        assert item.id is not None
        assert letter.id is not None
        return letter.id, item.id

    letter_id, item_id = asyncio.run(tell())
    story.engine.store.add_user(User("ana", "operator"))
    yield story, letter_id, item_id, str(original)
    asyncio.run(story.close())


def test_the_demo_in_chromium(demo: tuple[Story, int, int, str], browser: object) -> None:
    from playwright.sync_api import Browser

    assert isinstance(browser, Browser)
    story, letter_id, item_id, original = demo
    store = story.engine.store
    _, token = issue_token(store, "ana")
    runs = [run for run in store.runs(None, 1000) if run.trigger != "reconcile"]
    records = sum(processed(run) for run in runs)
    SHOTS.mkdir(parents=True, exist_ok=True)

    with running_server(create_app(story.engine)) as url:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{url}/dashboard/login")
        page.fill("input[name=token]", token)
        page.click("button[type=submit]")
        page.wait_for_selector("#banner")
        assert page.inner_text("#kpi-records .num") == str(records)
        assert f"in {len(runs)} runs" in page.inner_text("#kpi-records")
        assert page.inner_text("#kpi-duplicates .num") == "5"  # the demo's 5 matched accounts
        assert page.inner_text("#kpi-conflicts .num") == "1"
        page.screenshot(path=str(SHOTS / "demo-overview.png"), full_page=True)

        # The rep fixes it back to the value last synced: nothing is left to write, and
        # the replay resolves the letter (it is not mistaken for an echo left open).
        story.crm_edit("001000000000000014", PaymentTerms__c=original)
        page.goto(f"{url}/dashboard/dead-letters?flow=customers")
        page.click(f"#letter-{letter_id} >> text=Replay")
        assert "replayed" in page.inner_text(".flash")
        letter = store.dead_letter(letter_id)
        assert letter is not None
        assert letter.status == "resolved"

        page.goto(f"{url}/dashboard/review/{item_id}")
        page.screenshot(path=str(SHOTS / "demo-review.png"), full_page=True)
        page.click("text=Keep erp's values")
        assert "resolved" in page.inner_text(".flash")
        assert story.crm_account("C-1007").PaymentTerms__c != "Prepayment"
