"""A distributed installation for tests: its config, a scheduler and N workers, each a
real process of the CLI (`isthmus run --no-workers`, `isthmus worker`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.distributed.pairs import SystemPair
from tests.distributed.services import AMQP_URL, ISTHMUS, Process, free_port

LEADER_LINE = "scheduler leader: this process queues the polls now"


def write_config(
    folder: Path,
    pair: SystemPair,
    store_url: str,
    queue_name: str,
    *,
    batch: int = 200,
    poll: str = "0.5s",
    page_size: int = 2000,
    flow: dict[str, Any] | None = None,
) -> Path:
    mappings = folder / "mappings"
    mappings.mkdir(exist_ok=True)
    for name, spec in pair.mappings().items():
        (mappings / f"{name}.yaml").write_text(yaml.safe_dump(spec))
    config = {
        "store": store_url,
        "queue": {
            "backend": "rabbitmq",
            "url": AMQP_URL,
            "name": queue_name,
            "batch": batch,
            "prefetch": 1,
            "max_deliveries": 5,
        },
        "systems": pair.systems(),
        "mappings": ["mappings/"],
        "flows": [
            {
                "name": "customers",
                "entity": "customer",
                **pair.flow(),
                "direction": "one_way",
                "trigger": {"poll": poll},
                "page_size": page_size,
                **(flow or {}),
            }
        ],
    }
    path = folder / "isthmus.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


class Cluster:
    def __init__(self, folder: Path, config: Path) -> None:
        self.folder = folder
        self.config = config
        self.schedulers: list[Process] = []
        self.workers: list[Process] = []

    def start_scheduler(self) -> Process:
        args = [*ISTHMUS, "run", "-c", str(self.config), "--no-workers"]
        name = f"scheduler{len(self.schedulers) + 1}"
        scheduler = Process(name, [*args, f"--port={free_port()}"], self.folder)
        self.schedulers.append(scheduler)
        return scheduler

    def leaders(self) -> list[Process]:
        """Schedulers whose log says they took the leader lock (in the order started)."""
        return [s for s in self.schedulers if LEADER_LINE in s.log.read_text(errors="replace")]

    def start_worker(self) -> Process:
        index = len(self.workers) + 1
        worker = Process(
            f"worker{index}", [*ISTHMUS, "worker", "-c", str(self.config)], self.folder
        )
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for process in [*self.workers, *self.schedulers]:
            process.stop()

    def logs(self) -> str:
        return "\n".join(
            f"--- {process.name} ---\n{process.output()}"
            for process in [*self.schedulers, *self.workers]
        )
