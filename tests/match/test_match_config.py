"""``match:`` in the config: old files keep working, mistakes name file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from isthmus.engine.config import parse_config
from isthmus.errors import ConfigError

FLOW = """\
version: 1
systems:
  crm: {connector: memory}
  erp: {connector: memory}
flows:
  - name: customers
    entity: customer
    source: {system: crm, object: Account, mapping: crm_account}
    target: {system: erp, object: customers, mapping: erp_customer}
    match:
"""


def test_keys_only_still_works(tmp_path: Path) -> None:
    loaded = parse_config(FLOW + "      keys: [number, email]\n", "isthmus.yaml", tmp_path)
    match = loaded.flow("customers").match
    assert match.keys == ["number", "email"]
    assert match.fuzzy is None


def test_fuzzy_settings_become_rules(tmp_path: Path) -> None:
    text = FLOW + (
        "      keys: [number]\n"
        "      fuzzy:\n"
        "        fields: {name: 0.6, billing_address.city: 0.2, phone: 0.2}\n"
        "        link_above: 0.9\n"
    )
    fuzzy = parse_config(text, "isthmus.yaml", tmp_path).flow("customers").match.fuzzy
    assert fuzzy is not None
    rules = fuzzy.rules()
    assert rules.paths == ("name", "billing_address.city", "phone")
    assert (rules.link_above, rules.review_above) == (0.9, 0.75)


@pytest.mark.parametrize(
    ("fuzzy", "line", "words"),
    [
        ("        fields: {}\n", 12, "at least 1"),
        ("        fields: {name: 0}\n", 12, "weights are positive"),
        ("        fields: {name: 1}\n        link_above: 1.5\n", 13, "less than or equal to 1"),
        (
            "        fields: {name: 1}\n        link_above: 0.7\n        review_above: 0.8\n",
            11,
            "review_above must be lower",
        ),
        ("        fields: {name: 1}\n        threshold: 0.8\n", 13, "unknown setting"),
    ],
)
def test_mistakes_name_the_line(tmp_path: Path, fuzzy: str, line: int, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(FLOW + "      fuzzy:\n" + fuzzy, "isthmus.yaml", tmp_path)
    assert f"isthmus.yaml:{line}" in str(caught.value)
    assert words in str(caught.value)
