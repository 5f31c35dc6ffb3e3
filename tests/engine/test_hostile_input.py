"""Hostile strings are stored and synced exactly, or refused with a reason.

SQL, HTML, emoji, right-to-left text, combining marks, NUL bytes and control characters
travel between two real SQLite databases byte for byte; a 100,000-character value that
the target cannot hold becomes a dead letter naming the field and its limit, and the
other records of the batch go through.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import create_engine, text

from isthmus.engine.config import load_config
from isthmus.engine.engine import Engine
from tests.engine.sqlfixtures import write_setup

HOSTILE = [
    "Robert'); DROP TABLE items;--",
    "<script>alert('x')</script>&amp;",
    "Zürich 🏔️ — naïve café 😀👩‍👩‍👧",
    "\u202eRTL override \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "e\u0301 combining, \u200b zero width, \ufeff BOM",
    "NUL\x00inside",
    "tab\tnew\nline\rreturn\x1bescape",
    "  leading and trailing spaces  ",
    "%s %(name)s {0} ${HOME} \\N \\\\",
]


def test_hostile_strings_sync_exactly_and_oversize_is_refused(tmp_path: Path) -> None:
    config = write_setup(tmp_path, 0)
    source = create_engine(f"sqlite:///{tmp_path}/source.db")
    with source.begin() as tx:
        for n, value in enumerate([*HOSTILE, "x" * 100_000]):
            tx.execute(
                text(
                    "INSERT INTO products (id, code, name, description, unit, active, updated_at)"
                    " VALUES (:id, :code, :name, :description, 'pcs', 1, :at)"
                ),
                {
                    "id": f"H{n:03d}",
                    "code": f"H-{n:03d}",
                    "name": f"hostile {n}",
                    "description": value,
                    "at": f"2026-01-01 00:00:00.{n:06d}",
                },
            )
    source.dispose()
    engine = Engine.from_config(load_config(config))
    (report,) = asyncio.run(engine.sync())
    asyncio.run(engine.close())

    assert report.counts["created"] == len(HOSTILE)
    assert report.counts["dead_letters"] == 1
    (letter,) = engine.store.dead_letters(status="open")
    assert letter.native_id == f"H{len(HOSTILE):03d}"
    assert "notes" in letter.message
    assert "400" in letter.message, "the message names the limit"

    target = create_engine(f"sqlite:///{tmp_path}/target.db")
    with target.connect() as connection:
        stored = dict(connection.execute(text("SELECT item_code, notes FROM items")).all())
    target.dispose()
    assert stored == {f"H-{n:03d}": value for n, value in enumerate(HOSTILE)}
