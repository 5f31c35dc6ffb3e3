"""``make bench``: initial load of N products between two SQLite databases via the CLI.

Prints records/s and peak RSS, and records the figure in docs/BENCHMARKS.md. Only the
block between the ``bench:latest`` markers is rewritten; the rest of the page (history
and explanations) is kept. Run with ROWS=N to change the volume (default 100,000).
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.engine.sqlfixtures import write_setup

PAGE = Path("docs/BENCHMARKS.md")
START, END = "<!-- bench:latest -->", "<!-- /bench:latest -->"
DIST_START, DIST_END = "<!-- bench:distributed -->", "<!-- /bench:distributed -->"
VENDOR_START, VENDOR_END = "<!-- bench:vendors -->", "<!-- /bench:vendors -->"


def main() -> None:
    rows = int(os.environ.get("ROWS", "100000"))
    with tempfile.TemporaryDirectory() as folder:
        config = write_setup(Path(folder), rows, page_size=1000)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "isthmus.cli.main", "sync", "-c", str(config), "--quiet"],
            check=True,
            cwd=folder,
        )
        seconds = time.perf_counter() - started
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    rate = rows / seconds
    line = (
        f"| initial load, SQLite -> SQLite, one-way, {rows:,} products | {seconds:.1f} s | "
        f"{rate:,.0f} records/s | {rss_mb:.0f} MB peak RSS |"
    )
    print(line)
    block = (
        f"{START}\n"
        f"Latest `make bench` (ROWS={rows}): {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
        "| what | wall time | throughput | memory |\n| --- | --- | --- | --- |\n"
        f"{line}\n"
        f"{END}"
    )
    PAGE.write_text(with_latest(PAGE.read_text() if PAGE.exists() else "", block))
    vendors()
    distributed()


def vendors() -> None:
    """Salesforce sandbox -> Business Central sandbox, beside the ceiling and a naive
    per-record script, in the same run (see benchmarks/vendors.py)."""
    from benchmarks.vendors import measure

    figures, rss_mb = measure()
    lines = [figure.line() for figure in figures]
    print("\n".join(lines))
    engine, ceiling, naive = figures
    ratios = (
        f"Engine: {engine.rate / ceiling.rate:.0%} of the ceiling, "
        f"{engine.rate / naive.rate:.1f}x the naive script's rate with "
        f"{(naive.calls / naive.rows) / (engine.calls / engine.rows):.0f}x fewer calls per "
        f"record; peak RSS of the process (engine and both sandboxes) {rss_mb:.0f} MB."
    )
    print(ratios)
    block = (
        f"{VENDOR_START}\n"
        f"Latest `make bench` vendor figure: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
        "| what | wall time | throughput | API economy |\n| --- | --- | --- | --- |\n"
        + "\n".join(lines)
        + f"\n\n{ratios}\n{VENDOR_END}"
    )
    PAGE.write_text(with_latest(PAGE.read_text(), block, VENDOR_START, VENDOR_END))


def distributed() -> None:
    """Records/s with 1 and 2 workers (needs the machine's PostgreSQL and RabbitMQ)."""
    from benchmarks.distributed import figure, measure

    rows = int(os.environ.get("DIST_ROWS", "20000"))
    try:
        found = figure(measure(1, rows), measure(2, rows), measure(0, rows))
    except Exception as error:  # a service is missing: say so, keep the other figure
        print(f"distributed figure skipped: {error}")
        return
    print(found)
    block = (
        f"{DIST_START}\n"
        f"Latest `make bench` distributed figure (DIST_ROWS={rows}): {platform.machine()}, "
        f"{os.cpu_count()} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.\n\n"
        "| what | wall time | throughput | cost | machine |\n| --- | --- | --- | --- | --- |\n"
        f"{found}\n"
        f"{DIST_END}"
    )
    PAGE.write_text(with_latest(PAGE.read_text(), block, DIST_START, DIST_END))


def with_latest(page: str, block: str, start: str = START, end: str = END) -> str:
    """The page with its latest-run block replaced (or added at the end)."""
    if start in page and end in page:
        head, rest = page.split(start, 1)
        return head + block + rest.split(end, 1)[1]
    return f"{page.rstrip()}\n\n{block}\n" if page.strip() else f"# Benchmarks\n\n{block}\n"


if __name__ == "__main__":
    main()
