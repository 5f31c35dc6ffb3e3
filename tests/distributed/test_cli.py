"""The commands of distributed mode refuse an embedded config, saying what to set."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from isthmus.cli.main import app
from tests.engine.sqlfixtures import write_setup


def test_worker_and_no_workers_need_a_broker_and_say_how(tmp_path: Path) -> None:
    config = str(write_setup(tmp_path, 1))
    runner = CliRunner()
    worker = runner.invoke(app, ["worker", "-c", config])
    assert worker.exit_code == 1
    assert "queue: {backend: rabbitmq" in " ".join(worker.output.split())
    run = runner.invoke(app, ["run", "-c", config, "--no-workers"])
    assert run.exit_code == 2
    assert "--no-workers needs distributed mode" in " ".join(run.output.split())


def test_distributed_mode_on_a_sqlite_store_is_refused(tmp_path: Path) -> None:
    config = write_setup(tmp_path, 1)
    config.write_text(
        config.read_text() + "queue: {backend: rabbitmq, url: 'amqp://guest:guest@127.0.0.1/'}\n"
    )
    result = CliRunner().invoke(app, ["worker", "-c", str(config)])
    assert result.exit_code == 1
    assert "needs a PostgreSQL store" in " ".join(result.output.split())


def test_a_broker_queue_without_its_url_is_a_config_error_with_its_line(tmp_path: Path) -> None:
    config = write_setup(tmp_path, 1)
    config.write_text(config.read_text() + "queue: {backend: rabbitmq}\n")
    result = CliRunner().invoke(app, ["worker", "-c", str(config)])
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert "queue.url" in output
    assert "isthmus.yaml:" in "".join(output.split())  # file:line, however Rich wraps it
