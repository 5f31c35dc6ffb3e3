"""A real trytond for the tests: one prepared database, copied per use, served over HTTP.

Preparing a database (activating the modules, then the company, chart and fiscal year)
takes two to three minutes on this machine, so it happens once and the result is kept as
a template file in a cache folder keyed by the installed trytond version and this
module's list of modules. Every test module then gets a copy of the template (5 MB, a
few milliseconds) and its own ``trytond`` process on a free port.

SQLite runs in WAL mode: the template is only copied while no server uses it, and the
copy takes the ``-wal`` file too when one is left.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx

MODULES = (
    "party",
    "company",
    "currency",
    "product",
    "account",
    "account_invoice",
    "account_payment",
    "sale",
    "sale_price_list",
    "sale_credit_limit",
    "sale_opportunity",
    "stock",
)
ADMIN_PASSWORD = "admin"
TEMPLATE = "template"
_HERE = Path(__file__).parent
_BIN = Path(sys.executable).parent


def cache_root() -> Path:
    """Where prepared templates live (``ISTHMUS_TRYTON_CACHE`` overrides)."""
    configured = os.environ.get("ISTHMUS_TRYTON_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "isthmus-tryton"


def _modules_key() -> str:
    text = f"{version('trytond')}:{','.join(MODULES)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _setup_key() -> str:
    setup = (_HERE / "company_setup.py").read_bytes()
    return hashlib.sha256(_modules_key().encode() + setup).hexdigest()[:16]


def write_config(directory: Path, *, uri: str = "sqlite://", port: int = 0) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "trytond.conf"
    lines = ["[database]", f"uri = {uri}"]
    if uri.startswith("sqlite"):
        lines.append(f"path = {directory / 'db'}")
    lines += [
        "[web]",
        f"listen = 127.0.0.1:{port}",
        # Tests log in with a wrong password on purpose: don't let 5 failures lock us out.
        "[session]",
        "max_attempt = 1000",
        "max_attempt_ip_network = 1000",
    ]
    path.write_text("\n".join(lines) + "\n")
    (directory / "db").mkdir(exist_ok=True)
    return path


def _env(directory: Path) -> dict[str, str]:
    password = directory / "adminpass"
    password.write_text(ADMIN_PASSWORD)
    return {**os.environ, "TRYTONPASSFILE": str(password)}


def activate_modules(directory: Path, database: str, config: Path) -> None:
    """Create ``database`` with the modules activated (the slow part: about 2.5 minutes)."""
    if "sqlite" in config.read_text():
        (directory / "db" / f"{database}.sqlite").touch()  # trytond-admin needs the file
    subprocess.run(
        [
            *(str(_BIN / "trytond-admin"), "-c", str(config), "-d", database, "--all"),
            *("--email", "admin@example.com", "-u", *MODULES, "--activate-dependencies"),
        ],
        env=_env(directory),
        check=True,
        capture_output=True,
    )


def set_up_company(directory: Path, database: str, config: Path) -> dict[str, Any]:
    """Company, chart, fiscal year and friends (about 15 s); return their ids."""
    answer = subprocess.run(
        [sys.executable, str(_HERE / "company_setup.py"), database, str(config)],
        env=_env(directory),
        check=True,
        capture_output=True,
        text=True,
    )
    ids: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])
    return ids


def create_database(directory: Path, database: str, config: Path) -> dict[str, Any]:
    activate_modules(directory, database, config)
    return set_up_company(directory, database, config)


@contextlib.contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Keep two pytest workers from preparing the same file at once."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _modules_template() -> Path:
    """A database with the modules activated and nothing else, cached."""
    root = cache_root() / f"modules-{_modules_key()}"
    path = root / f"{TEMPLATE}.sqlite"
    with _locked(root):
        if not path.exists():
            work = root / "work"
            shutil.rmtree(work, ignore_errors=True)
            config = write_config(work)
            activate_modules(work, TEMPLATE, config)
            _checkpoint(work / "db" / f"{TEMPLATE}.sqlite")
            shutil.copyfile(work / "db" / f"{TEMPLATE}.sqlite", root / "partial")
            (root / "partial").rename(path)
            shutil.rmtree(work, ignore_errors=True)
    return path


def prepared_template() -> tuple[Path, dict[str, Any]]:
    """The template database file (modules, company, chart) and its ids, prepared once."""
    modules = _modules_template()
    root = cache_root() / f"company-{_setup_key()}"
    done = root / "ids.json"
    with _locked(root):
        if not done.exists():
            work = root / "work"
            shutil.rmtree(work, ignore_errors=True)
            config = write_config(work)
            shutil.copyfile(modules, work / "db" / f"{TEMPLATE}.sqlite")
            ids = set_up_company(work, TEMPLATE, config)
            _checkpoint(work / "db" / f"{TEMPLATE}.sqlite")
            shutil.copyfile(work / "db" / f"{TEMPLATE}.sqlite", root / f"{TEMPLATE}.sqlite")
            shutil.rmtree(work, ignore_errors=True)
            done.write_text(json.dumps(ids))
    return root / f"{TEMPLATE}.sqlite", json.loads(done.read_text())


def _checkpoint(db: Path) -> None:
    """Fold the WAL into the main file so one file is the whole database."""
    import sqlite3

    connection = sqlite3.connect(db)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TrytonServer:
    """A running trytond: where it answers, and the ids of its set-up records."""

    url: str
    database: str
    ids: dict[str, Any]
    user: str = "admin"
    password: str = ADMIN_PASSWORD

    @property
    def rpc(self) -> str:
        return f"{self.url}/{self.database}/rpc/"

    def options(self, **extra: Any) -> dict[str, Any]:
        """``connector: tryton`` options for this server."""
        return {
            "url": self.url,
            "database": self.database,
            "user": self.user,
            "password": self.password,
            **extra,
        }


@contextlib.contextmanager
def serve(
    directory: Path, database: str, config: Path, ids: dict[str, Any]
) -> Iterator[TrytonServer]:
    """Run ``trytond`` for ``database`` until the block ends."""
    port = free_port()
    config.write_text(
        config.read_text().replace("listen = 127.0.0.1:0", f"listen = 127.0.0.1:{port}")
    )
    log = (directory / "trytond.log").open("wb")
    # ``-d`` preloads the pool: without it every authenticated call fails in 8.2.1.
    process = subprocess.Popen(
        [str(_BIN / "trytond"), "-c", str(config), "-d", database],
        env=_env(directory),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, directory / "trytond.log")
        yield TrytonServer(url, database, ids)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    body = {"id": 0, "method": "common.server.version", "params": []}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"trytond exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.post(f"{url}/rpc/", json=body, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"trytond did not answer within 60 s:\n{log.read_text()}")


@contextlib.contextmanager
def sqlite_server(directory: Path) -> Iterator[TrytonServer]:
    """A copy of the prepared template, served by its own trytond."""
    template, ids = prepared_template()
    config = write_config(directory)
    shutil.copyfile(template, directory / "db" / "isthmus.sqlite")
    with serve(directory, "isthmus", config, ids) as server:
        yield server


if __name__ == "__main__":
    # ``python -m tests.connectors.tryton.server``: prepare the template ahead of a test run.
    started = time.monotonic()
    path, _ = prepared_template()
    print(f"{path} ready in {time.monotonic() - started:.1f} s")


# -- PostgreSQL -------------------------------------------------------------------------
# The same two stages as for SQLite, kept as PostgreSQL template databases on the
# machine's server: activating the modules there takes about 3 minutes (once per
# machine); a test's database is then a ``CREATE DATABASE ... TEMPLATE`` copy.


def _pg(admin_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement)  # type: ignore[arg-type]


def _pg_exists(admin_url: str, name: str) -> bool:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return found.fetchone() is not None


def _pg_copy(admin_url: str, template: str, name: str) -> None:
    _pg(
        admin_url,
        f'DROP DATABASE IF EXISTS "{name}"',
        f'CREATE DATABASE "{name}" TEMPLATE "{template}"',
        # Test data need not survive a crash: commits do not wait for the disk.
        f'ALTER DATABASE "{name}" SET synchronous_commit = off',
    )


def postgres_template(admin_url: str, server_uri: str) -> tuple[str, dict[str, Any]]:
    """The name of the prepared template database and its ids, prepared once."""
    modules = f"isthmus_tryton_modules_{_modules_key()}"
    company = f"isthmus_tryton_company_{_setup_key()}"
    root = cache_root() / company
    done = root / "ids.json"
    with _locked(root):
        if not _pg_exists(admin_url, modules):
            work = root / "modules"
            shutil.rmtree(work, ignore_errors=True)
            partial = f"{modules}_partial"
            _pg(
                admin_url,
                f'DROP DATABASE IF EXISTS "{partial}"',
                f"CREATE DATABASE \"{partial}\" ENCODING 'UTF8' TEMPLATE template0",
                f'ALTER DATABASE "{partial}" SET synchronous_commit = off',
            )
            activate_modules(work, partial, write_config(work, uri=server_uri))
            _pg(admin_url, f'ALTER DATABASE "{partial}" RENAME TO "{modules}"')
        if not done.exists() or not _pg_exists(admin_url, company):
            work = root / "company"
            shutil.rmtree(work, ignore_errors=True)
            _pg_copy(admin_url, modules, f"{company}_partial")
            ids = set_up_company(work, f"{company}_partial", write_config(work, uri=server_uri))
            _pg(
                admin_url,
                f'DROP DATABASE IF EXISTS "{company}"',
                f'ALTER DATABASE "{company}_partial" RENAME TO "{company}"',
            )
            done.write_text(json.dumps(ids))
    return company, json.loads(done.read_text())


@contextlib.contextmanager
def postgres_server(directory: Path, admin_url: str, server_uri: str) -> Iterator[TrytonServer]:
    """A copy of the PostgreSQL template, served by its own trytond, dropped afterwards."""
    template, ids = postgres_template(admin_url, server_uri)
    name = f"isthmus_tryton_{os.getpid()}"
    _pg_copy(admin_url, template, name)
    try:
        with serve(directory, name, write_config(directory, uri=server_uri), ids) as server:
            yield server
    finally:
        _pg(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
