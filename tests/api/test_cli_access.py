"""``isthmus users`` and ``isthmus tokens``: a token printed once works until revoked."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from isthmus.api.auth import verify_token
from isthmus.cli.main import app
from isthmus.engine.config import load_config
from isthmus.store import open_store
from tests.engine.memoryfixtures import write_config


def test_users_and_tokens_from_the_command_line(tmp_path: Path) -> None:
    config = str(write_config(tmp_path))
    runner = CliRunner()
    refused = runner.invoke(app, ["users", "add", "-c", config, "ana", "--role", "boss"])
    assert refused.exit_code == 2
    added = runner.invoke(app, ["users", "add", "-c", config, "ana", "--role", "operator"])
    assert added.exit_code == 0, added.output
    assert runner.invoke(app, ["tokens", "create", "-c", config, "nobody"]).exit_code == 1

    created = runner.invoke(app, ["tokens", "create", "-c", config, "ana"])
    assert created.exit_code == 0, created.output
    text = created.output.strip().splitlines()[-1]
    store = open_store(load_config(Path(config)).store_url())
    try:
        user = verify_token(store, text)
        assert user is not None
        assert (user.name, user.role) == ("ana", "operator")
        (token,) = store.tokens("ana")
        assert text not in (token.token_hash, token.salt), "only a hash is stored"

        revoked = runner.invoke(app, ["tokens", "revoke", "-c", config, token.id])
        assert revoked.exit_code == 0, revoked.output
        assert verify_token(store, text) is None
        assert runner.invoke(app, ["tokens", "revoke", "-c", config, token.id]).exit_code == 1
    finally:
        store.close()
