"""``isthmus dead-letters`` and ``isthmus review``: see what failed or waits, and act."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated

import typer

from isthmus.cli.output import console, fail, run_table
from isthmus.cli.views import dead_letter_table, review_table
from isthmus.engine.engine import Engine
from isthmus.engine.inspect import SideBySide
from isthmus.engine.report import RunReport
from isthmus.errors import IsthmusError

dead_letters_app = typer.Typer(
    help="Records that could not be synced, and their replay.", no_args_is_help=True
)
review_app = typer.Typer(
    help="Conflicts and possible duplicates waiting for a person.", no_args_is_help=True
)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The Isthmus config file.")]


def _engine(config: Path) -> Engine:
    from isthmus.cli.main import _engine as build

    return build(config)


@dead_letters_app.command("list")
def list_letters(
    config: ConfigOption,
    flow: Annotated[str | None, typer.Option(help="Only this flow.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Also resolved and waiting ones.")] = False,
) -> None:
    """List open dead letters (add --all for every status)."""
    engine = _engine(config)
    letters = engine.store.dead_letters(flow=flow, status=None if all_ else "open")
    console.print(dead_letter_table(letters))
    asyncio.run(engine.close())


@dead_letters_app.command("show")
def show_letter(config: ConfigOption, letter_id: int) -> None:
    """Show one dead letter with the vendor's raw error and the payload."""
    engine = _engine(config)
    letter = engine.store.dead_letter(letter_id)
    asyncio.run(engine.close())
    if letter is None:
        fail(f"no dead letter with id {letter_id}", "List them with `isthmus dead-letters list`.")
        raise typer.Exit(1)
    console.print(dead_letter_table([letter]))
    console.print(f"vendor code: {letter.vendor_code or '-'}")
    console.print(f"vendor message: {letter.vendor_message or '-'}")
    console.print("payload:")
    console.print_json(json.dumps(letter.payload, ensure_ascii=False, default=str))


@dead_letters_app.command("replay")
def replay(
    config: ConfigOption,
    letter_ids: Annotated[list[int] | None, typer.Argument(help="Ids to replay.")] = None,
    flow: Annotated[str | None, typer.Option(help="Replay every open letter of a flow.")] = None,
) -> None:
    """Replay dead letters: each record's *current* state is read and synced again."""
    engine = _engine(config)
    ids = list(letter_ids or [])
    if flow:
        ids += [
            letter.id
            for letter in engine.store.dead_letters(flow=flow, status="open")
            if letter.id is not None
        ]
    if not ids:
        fail("nothing to replay", "Name letter ids, or --flow NAME for all of a flow.")
        raise typer.Exit(1)

    async def go() -> list[RunReport]:
        try:
            return await engine.replay(ids, actor="cli")
        finally:
            await engine.close()

    reports = asyncio.run(go())
    console.print(run_table(reports))
    still = [r for r in reports if r.counts["dead_letters"]]
    if still:
        console.print(
            "[yellow]Some records failed again; `isthmus dead-letters list` shows why.[/]"
        )


@review_app.command("list")
def list_review(
    config: ConfigOption, flow: Annotated[str | None, typer.Option(help="Only this flow.")] = None
) -> None:
    """List open review items with both sides and the base."""
    engine = _engine(config)
    console.print(review_table(engine.store.review_items(flow=flow)))
    asyncio.run(engine.close())


@review_app.command("show")
def show_review(config: ConfigOption, item_id: int) -> None:
    """Show a review item's records side by side, as they are now, with the base."""
    from isthmus.cli.views import side_by_side_table

    engine = _engine(config)

    async def go() -> SideBySide:
        try:
            return await engine.review_sides(item_id)
        finally:
            await engine.close()

    try:
        sides = asyncio.run(go())
    except IsthmusError as error:
        fail(str(error))
        raise typer.Exit(1) from None
    console.print(side_by_side_table(sides))
    for system, problem in sides.problems.items():
        console.print(f"[yellow]{system}[/]: {problem}")
    item = sides.item
    if item.status != "open":
        console.print(f"Resolved by {item.resolved_by}: {item.resolution}")
    elif item.kind == "conflict":
        console.print(
            f"Resolve with `isthmus review resolve {item_id} --take SYSTEM` or `--value VALUE`."
        )
    else:
        console.print(f"Resolve with `isthmus review resolve {item_id} --link ID` or `--create`.")


@review_app.command("resolve")
def resolve(
    config: ConfigOption,
    item_id: int,
    take: Annotated[str | None, typer.Option(help="Take this system's value.")] = None,
    value: Annotated[str | None, typer.Option(help="Enter a value (JSON, or plain text).")] = None,
    link: Annotated[
        str | None,
        typer.Option(metavar="ID", help="Duplicate: link the record to this candidate."),
    ] = None,
    create: Annotated[
        bool, typer.Option("--create", help="Duplicate: not the same, create a new record.")
    ] = False,
) -> None:
    """Resolve a conflict (--take or --value) or a possible duplicate (--link or --create);
    the result syncs."""
    from isthmus.engine.resolution import DuplicateChoice

    given = [option for option in (take, value, link) if option is not None] + (
        ["create"] if create else []
    )
    if len(given) != 1:
        fail(
            "give exactly one of --take SYSTEM, --value VALUE (conflicts), "
            "--link ID or --create (duplicates)"
        )
        raise typer.Exit(2)
    engine = _engine(config)
    parsed: object = None
    if value is not None:
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
    if link is not None or create:
        parsed = DuplicateChoice(link=link, create=create)

    async def go() -> RunReport:
        try:
            return await engine.resolve_review(item_id, take=take, value=parsed, actor="cli")
        finally:
            await engine.close()

    try:
        report = asyncio.run(go())
    except IsthmusError as error:
        fail(str(error))
        raise typer.Exit(1) from None
    console.print(run_table([report]))
