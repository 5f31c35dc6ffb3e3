"""The machine's real services for distributed tests: a fresh PostgreSQL database and
unique RabbitMQ queue names per test, and processes of the real CLI.

PostgreSQL at 127.0.0.1:5432 (trust auth) and RabbitMQ at 127.0.0.1:5672 (guest/guest)
are started by .ci/run. When one is unreachable the tests skip, except under CI (the
``CI`` variable set), where they fail: CI must run them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.store.conftest import PG_HOST, _admin_engine

AMQP_URL = os.environ.get("ISTHMUS_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
ISTHMUS = [sys.executable, "-m", "isthmus.cli.main"]


def unavailable(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is not reachable, and CI must run the distributed tests")
    pytest.skip(f"{what} is not reachable")


def require_rabbitmq() -> None:
    try:
        with socket.create_connection(("127.0.0.1", 5672), timeout=2):
            return
    except OSError:
        unavailable("RabbitMQ at 127.0.0.1:5672")


@contextmanager
def fresh_database(prefix: str = "isthmus_dist") -> Iterator[str]:
    """A PostgreSQL database of its own (dropped at the end); yields its URL."""
    try:
        admin, user = _admin_engine()
    except Exception:
        unavailable(f"PostgreSQL at {PG_HOST}")
        raise
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://{user}@{PG_HOST}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def unique_queue_name(prefix: str = "isthmus.test") -> Iterator[str]:
    """A queue name of this test alone (parallel runs never share one); deleted after."""
    name = f"{prefix}.{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        asyncio.run(delete_queue(name))


def unique_queue(prefix: str = "isthmus.test") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:12]}"


async def delete_queue(name: str) -> None:
    import aio_pika

    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Process:
    """A CLI process whose output goes to a log file (read when a test fails)."""

    def __init__(self, name: str, args: list[str], folder: Path) -> None:
        self.name = name
        self.args = args
        self.log = folder / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.args, stdout=out, stderr=subprocess.STDOUT, cwd=self.log.parent
            )

    def kill(self) -> None:
        """SIGKILL: no clean-up, no acknowledgement, no unlock."""
        assert self.popen is not None
        self.popen.kill()
        self.popen.wait(10)

    def stop(self) -> None:
        if self.popen is not None and self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def wait_until(check: object, seconds: float, what: str, interval: float = 0.25) -> None:
    """Poll ``check()`` until true; fail saying ``what`` did not happen in time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(interval)
    pytest.fail(f"{what} did not happen within {seconds:.0f} s")
