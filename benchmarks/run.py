"""``make bench``: initial load of N products between two SQLite databases via the CLI.

Prints records/s and peak RSS and writes docs/BENCHMARKS.md. Run with ROWS=N to change
the volume (default 100,000).
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
    Path("docs/BENCHMARKS.md").write_text(
        "# Benchmarks\n\n"
        f"Command: `make bench` (ROWS={rows}). Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. "
        f"Date: {datetime.now(UTC):%Y-%m-%d}.\n\n"
        "The figure includes process start-up, mapping, link bookkeeping in the SQLite "
        "state store, and the target writes (one transaction per batch of 500).\n\n"
        "| what | wall time | throughput | memory |\n| --- | --- | --- | --- |\n"
        f"{line}\n"
    )


if __name__ == "__main__":
    main()
