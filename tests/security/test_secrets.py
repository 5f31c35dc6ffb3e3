"""The vault: ${secret:NAME} in configs, `isthmus secrets`, rotation, wrong keys, and
${VAR} references that are not set."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from isthmus.cli.main import app
from isthmus.engine.config import load_config
from isthmus.errors import ConfigError
from isthmus.security.keys import KEY_ENV, KEY_FILE_ENV, Cipher, new_key
from isthmus.security.redact import redact_text
from isthmus.store.types import StoredSecret
from tests.security.conftest import write_config

runner = CliRunner()
VALUE = "pa55-w0rd-of-the-erp"


def _set(config: Path, name: str, value: str) -> None:
    result = runner.invoke(app, ["secrets", "set", "-c", str(config), name], input=value)
    assert result.exit_code == 0, result.output


def test_a_secret_fills_the_config_and_is_stored_encrypted(tmp_path: Path, key: str) -> None:
    config = write_config(tmp_path)
    _set(config, "ERP_PASSWORD", VALUE)
    loaded = load_config(config)
    assert loaded.config.systems["erp"].options["password"] == VALUE
    raw = (tmp_path / "state.db").read_bytes()
    assert VALUE.encode() not in raw, "the value is not in the store file in plain text"
    with sqlite3.connect(tmp_path / "state.db") as db:
        (ciphertext,) = db.execute("SELECT ciphertext FROM secrets").fetchone()
    assert ciphertext.startswith(f"enc:v1:{Cipher(key).id}:")
    assert redact_text(f"login with {VALUE} failed") == "login with [redacted] failed"


def test_list_never_prints_values(tmp_path: Path, key: str) -> None:
    config = write_config(tmp_path)
    _set(config, "ERP_PASSWORD", VALUE)
    result = runner.invoke(app, ["secrets", "list", "-c", str(config)])
    assert result.exit_code == 0
    assert "ERP_PASSWORD" in result.output
    assert VALUE not in result.output


def test_a_missing_secret_names_the_line(tmp_path: Path, key: str) -> None:
    config = write_config(tmp_path)
    with pytest.raises(ConfigError, match=r"isthmus.yaml:7: .*ERP_PASSWORD.*isthmus secrets set"):
        load_config(config)


def test_an_unset_environment_variable_names_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ERP_DB_PASSWORD", raising=False)
    config = write_config(tmp_path, password="${ERP_DB_PASSWORD}")
    with pytest.raises(ConfigError, match=r"isthmus.yaml:7: environment variable ERP_DB_PASSWORD"):
        load_config(config)


def test_no_key_says_how_to_set_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    config = write_config(tmp_path)
    with pytest.raises(ConfigError, match=f"isthmus.yaml:7: no secret key: set {KEY_ENV}"):
        load_config(config)


def test_rotation_re_encrypts_and_the_old_key_is_refused_by_name(
    tmp_path: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path)
    _set(config, "ERP_PASSWORD", VALUE)
    _set(config, "OTHER", "another-secret-value")
    new_file = tmp_path / "new.key"
    result = runner.invoke(
        app, ["secrets", "rotate", "-c", str(config), "--new-key-file", str(new_file)]
    )
    assert result.exit_code == 0, result.output
    assert "2 secret(s) re-encrypted" in result.output
    assert new_file.stat().st_mode & 0o777 == 0o600
    # The old key no longer opens the vault, and says which key it needs.
    with pytest.raises(ConfigError, match=r"encrypted with key \w{12}, but the key given is"):
        load_config(config)
    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setenv(KEY_FILE_ENV, str(new_file))
    assert load_config(config).config.systems["erp"].options["password"] == VALUE


def test_a_tampered_ciphertext_is_refused(tmp_path: Path, key: str) -> None:
    cipher = Cipher(key)
    sealed = cipher.encrypt("value")
    altered = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(ConfigError, match="integrity check"):
        cipher.decrypt(altered)
    assert Cipher(new_key()).id != cipher.id


def test_delete(tmp_path: Path, key: str) -> None:
    config = write_config(tmp_path)
    _set(config, "ERP_PASSWORD", VALUE)
    assert (
        runner.invoke(app, ["secrets", "delete", "-c", str(config), "ERP_PASSWORD"]).exit_code == 0
    )
    result = runner.invoke(app, ["secrets", "delete", "-c", str(config), "ERP_PASSWORD"])
    assert result.exit_code == 1


def test_a_rotation_that_races_a_change_changes_nothing(tmp_path: Path, key: str) -> None:
    from isthmus.security.vault import SecretVault
    from isthmus.store import open_store

    store = open_store(f"sqlite:///{tmp_path}/state.db")
    try:
        vault = SecretVault(store, Cipher(key))
        vault.set("A", "first-value")
        previous = store.stored_secrets()
        vault.set("B", "set-during-the-rotation")
        new = Cipher(new_key())
        renewed = [StoredSecret(s.name, new.encrypt("x"), new.id) for s in previous]
        with pytest.raises(ValueError, match="vault changed"):
            store.replace_secrets(renewed, previous)
        assert vault.get("B") == "set-during-the-rotation"
        assert [s.key_id for s in store.stored_secrets()] == [Cipher(key).id] * 2
    finally:
        store.close()


def test_validate_warns_about_a_secret_written_in_the_file(tmp_path: Path, key: str) -> None:
    from isthmus.security.references import plaintext_secrets

    config = write_config(tmp_path, password="hunter2-in-the-file")
    (warning,) = plaintext_secrets(load_config(config).document)
    assert warning.startswith(f"{config}:7: systems.erp.options.password is written")
    assert "isthmus secrets set" in warning
    _set(write_config(tmp_path), "ERP_PASSWORD", VALUE)
    assert plaintext_secrets(load_config(tmp_path / "isthmus.yaml").document) == []
