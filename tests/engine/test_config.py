"""Config loading: defaults, env references, and errors that name file:line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from isthmus.engine.config import load_config, parse_config, parse_duration
from isthmus.errors import ConfigError

GOOD = """\
version: 1
systems:
  crm: {connector: memory}
  erp: {connector: memory}
mappings: [maps/]
flows:
  - name: customers
    entity: customer
    source: {system: crm, object: Account, mapping: crm_account}
    target: {system: erp, object: customers, mapping: erp_customer}
    direction: both
    trigger: {poll: 90s}
    ownership: {credit_limit: erp}
    conflict: {default: last_writer, clock_skew: 5s}
    on_delete: {deactivate: {active: false}}
"""


def load(text: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    return parse_config(text, "isthmus.yaml", tmp_path)


def test_good_config_fills_defaults(tmp_path: Path) -> None:
    loaded = load(GOOD, tmp_path)
    flow = loaded.flow("customers")
    assert flow.trigger.poll == timedelta(seconds=90)
    assert flow.conflict.clock_skew == timedelta(seconds=5)
    assert flow.on_delete.action == "deactivate"
    assert flow.on_delete.set == {"active": False}
    assert flow.page_size == 1000
    assert loaded.store_url() == f"sqlite:///{tmp_path / 'isthmus-state.db'}"


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (("direction: both", "direction: sideways"), 11, "direction"),
        (("trigger: {poll: 90s}", "trigger: {poll: soon}"), 12, "not a duration"),
        (
            ("    entity: customer\n", "    entity: customer\n    colour: red\n"),
            9,
            "unknown setting",
        ),
        (("system: erp, object", "system: sap, object"), 10, "'sap' is not defined"),
        (("ownership: {credit_limit: erp}", "ownership: {credit_limit: hr}"), 13, "neither"),
        (("  - name: customers", "  - name: Customers!"), 7, "name"),
        (("conflict: {default: last_writer", "conflict: {default: loudest"), 14, "conflict"),
    ],
)
def test_errors_name_the_line_and_the_setting(tmp_path: Path, change, line, words) -> None:
    old, new = change
    with pytest.raises(ConfigError) as caught:
        load(GOOD.replace(old, new), tmp_path)
    assert caught.value.where == f"isthmus.yaml:{line}"
    assert words in str(caught.value)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"isthmus.yaml:4: not valid YAML: .* flow mapping at line 3"
    ):
        load("version: 1\nsystems:\n  crm: {a: b\n  erp: x\nflows: []\n", tmp_path)


def test_duplicate_flow_names_are_refused(tmp_path: Path) -> None:
    text = GOOD + GOOD[GOOD.index("  - name") :]
    with pytest.raises(ConfigError, match="used twice"):
        load(text, tmp_path)


def test_env_references_are_filled_and_missing_ones_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = GOOD.replace("store", "x").replace("version: 1", "version: 1\nstore: ${STATE_URL}")
    monkeypatch.setenv("STATE_URL", "postgresql://localhost/isthmus")
    assert load(text, tmp_path).store_url() == "postgresql://localhost/isthmus"
    monkeypatch.delenv("STATE_URL")
    with pytest.raises(ConfigError, match=r"STATE_URL is not set.*:-value"):
        load(text, tmp_path)
    defaulted = text.replace("${STATE_URL}", "${STATE_URL:-sqlite:///x.db}")
    assert load(defaulted, tmp_path).config.store == "sqlite:///x.db"


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30", 30), ("30s", 30), ("5m", 300), ("2h", 7200), ("1d", 86400), ("250ms", 0.25), (45, 45)],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == seconds


def test_bad_duration_explains_the_format() -> None:
    with pytest.raises(ValueError, match="30s, 5m"):
        parse_duration("later")
