"""Done-when of distributed mode: three worker processes sync 20,000 records between two
systems while one worker is killed with SIGKILL and restarted; the result has no
duplicate, no loss, and every record's changes were applied in order.

Real parts only: the machine's PostgreSQL (a database of this test's own) and RabbitMQ
(a queue of this test's own), the Salesforce sandbox as a subprocess, and the real CLI
(two `isthmus run --no-workers`, three `isthmus worker`) as subprocesses. The leading
scheduler is SIGKILLed with the worker: the standby must take the leader lock over.
The system pair is a parameter (``PAIRS``).

While the workers sync, three rounds of changes hit overlapping ranges of records, so
many records change while they are queued, being applied, or already synced; the
target's trigger records every write, so "in order" is checked on what the target
received, write by write.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from isthmus.store import open_store
from tests.distributed.cluster import Cluster, write_config
from tests.distributed.pairs import PAIRS, SystemPair
from tests.distributed.services import (
    fresh_database,
    require_rabbitmq,
    unique_queue_name,
    wait_until,
)

RECORDS = 20_000
# (when the target holds this many records, change these records to this version)
ROUNDS = [
    (2_000, range(0, 4_000), 1),
    (6_000, range(0, 2_000), 2),
    (12_000, range(2_000, 6_000), 3),
]
KILL_AT = 6_000  # kill a worker when the target holds this many records
# Then a hot set changes again and again, a poll apart, so that items naming the same
# records are in the queue together and workers take them at the same time.
HOT = range(6_000, 6_400)
HOT_VERSIONS = range(4, 10)


def expected_version(number: int) -> int:
    final = 0
    for _, numbers, version in ROUNDS:
        if number in numbers:
            final = version
    return HOT_VERSIONS[-1] if number in HOT else final


def chosen_pairs() -> list[str]:
    """``salesforce-business_central`` (two sandboxes) unless ISTHMUS_DIST_PAIRS names
    others (comma-separated, from ``PAIRS``; ``salesforce-sql`` writes into a PostgreSQL
    table whose trigger records the write order)."""
    names = os.environ.get("ISTHMUS_DIST_PAIRS", "salesforce-business_central")
    return [name.strip() for name in names.split(",") if name.strip()]


@pytest.fixture(params=chosen_pairs())
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SystemPair, str]]:
    require_rabbitmq()
    with fresh_database() as database:
        chosen = PAIRS[request.param]()
        try:
            chosen.start(tmp_path, database)
            yield chosen, database
        finally:
            chosen.stop()


def test_three_workers_one_killed_no_duplicate_no_loss_in_order(
    pair: tuple[SystemPair, str], tmp_path: Path
) -> None:
    systems, database = pair
    systems.seed(RECORDS)
    with unique_queue_name() as queue:
        run_cluster(systems, Cluster(tmp_path, write_config(tmp_path, systems, database, queue)))
    check_result(systems, database)


def run_cluster(systems: SystemPair, cluster: Cluster) -> None:
    try:
        # Two schedulers: one leads (polls), the other stands by.
        cluster.start_scheduler()
        cluster.start_scheduler()
        victim = cluster.start_worker()
        for _ in range(2):
            cluster.start_worker()
        for threshold, numbers, version in ROUNDS:
            wait_until(
                lambda t=threshold: systems.target_count() >= t, 240, f"{threshold} synced", 0.5
            )
            if threshold == KILL_AT:
                assert victim.alive(), cluster.logs()
                victim.kill()  # mid-work: its unacknowledged item must go to another worker
                assert systems.target_count() < RECORDS
                # The leading scheduler dies too: the standby must take over the polls,
                # or the changes below are never queued.
                (leader,) = cluster.leaders()
                leader.kill()
            systems.update(numbers, version)
            if threshold == KILL_AT:
                victim.start()  # the same worker, restarted
        for version in HOT_VERSIONS:
            systems.update(HOT, version)
            time.sleep(0.6)  # about one poll: each round becomes items of its own
        wanted = {n: expected_version(n) for n in range(RECORDS)}

        def converged() -> bool:
            seen = systems.target()
            return len(seen) == RECORDS and all(
                seen.get(n) is not None and seen[n].version == v for n, v in wanted.items()
            )

        wait_until(converged, 240, "every record at its last version in the target", 2.0)
        assert all(worker.alive() for worker in cluster.workers), cluster.logs()
        assert len(cluster.leaders()) == 2  # the standby took over (one leader before)
    finally:
        cluster.stop()


def check_result(systems: SystemPair, database: str) -> None:
    seen = systems.target()
    # No duplicate: one target row per source record; no loss: every record arrived.
    assert sorted(seen) == list(range(RECORDS))
    assert [n for n, s in seen.items() if s.rows != 1] == []
    # In order: the versions each record received only ever go up.
    backwards = {n: s.history for n, s in seen.items() if s.history != sorted(s.history)}
    assert backwards == {}
    # The test did exercise changes landing while records were synced (not only creates).
    assert sum(1 for s in seen.values() if len(set(s.history)) > 1) >= 4_000
    store = open_store(database)
    try:
        assert store.count_xrefs("customer", "crm") == RECORDS
        assert store.count_xrefs("customer", "erp") == RECORDS
        assert store.dead_letters(status="open") == []
    finally:
        store.close()
