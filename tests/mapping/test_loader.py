"""Loading mappings: good files load; every bad file fails at the exact file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from isthmus.errors import ConfigError
from isthmus.mapping import load_mapping, load_mappings, parse_mapping
from isthmus.mapping.rules import RULE_BUILDERS
from isthmus.mapping.schema import mapping_schema
from isthmus.mapping.transforms import TRANSFORMS

FIXTURES = Path(__file__).parent / "fixtures"
HEAD = (
    "name: m\nentity: customer\nobject: Account\nfields:\n  - canonical: name\n    native: Name\n"
)


def test_fixtures_load() -> None:
    loaded = load_mappings(FIXTURES)
    assert set(loaded) == {"sf_account", "erp_customer"}
    sf = loaded["sf_account"]
    assert sf.object == "Account"
    assert sf.fields[0].line == 7
    assert sf.where(sf.fields[1]) == f"{FIXTURES / 'salesforce_account.yaml'}:10"


def test_constant_rules_get_their_direction() -> None:
    spec = load_mapping(FIXTURES / "salesforce_account.yaml")
    constants = {rule.label(): rule.direction for rule in spec.fields if rule.has_constant}
    assert constants == {"active": "to_canonical", "Type": "to_native"}


def test_registry_and_builders_agree() -> None:
    assert set(TRANSFORMS) == set(RULE_BUILDERS)
    assert mapping_schema()["title"].startswith("Isthmus mapping")


def test_duplicate_names_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(HEAD)
    (tmp_path / "b.yml").write_text(HEAD)
    with pytest.raises(ConfigError) as caught:
        load_mappings(tmp_path)
    assert caught.value.where == f"{tmp_path / 'b.yml'}:1"
    assert "already used" in str(caught.value)


BAD = [
    # (extra YAML after HEAD, line, words the message must contain)
    ("  - canonical: nmae\n    native: X\n", 7, ["no field 'nmae'", "did you mean name"]),
    ("  - canonical: phone\n    nativ: Phone\n", 8, ["unknown key 'nativ'", "'native'"]),
    ("  - canonical: phone\n    native: P\n    direction: up\n", 9, ["both, to_canonical"]),
    ("  - canonical: phone\n    native: P\n    transform: upper\n", 9, ["unknown transform"]),
    (
        "  - canonical: payment_terms\n    native: T\n    value_map: {N30: net_30, X: net_30}\n",
        9,
        ["ambiguous", "reverse"],
    ),
    ("  - canonical: customer_id\n    native: X\n", 7, ["no field 'customer_id'"]),
    (
        "  - canonical: billing_address\n    native: Street\n",
        7,
        ["address_block", "billing_address.city"],
    ),
    (
        "  - canonical: credit_limit\n    transform: money\n    native: {amount: L}\n",
        9,
        ["needs native parts: currency"],
    ),
    (
        "  - canonical: credit_limit.amount\n    native: L\n    transform: {decimal: {place: 2}}\n",
        9,
        ["place", "options: places, rounding"],
    ),
    (
        "  - canonical: phone\n    native: P\n    transform: datetime\n",
        9,
        ["'phone' holds string", "transform: currency"],
    ),
    ("  - canonical: name\n    native: Name2\n", 7, ["already read by the rule at line 5"]),
    (
        "  - canonical: number\n    native: Name\n",
        7,
        ["'Name' is already written", "direction: to_canonical"],
    ),
    ("  - canonical: active\n    native: A\n    constant: true\n", 7, ["constant fills one side"]),
    ("  - native: Type\n", 7, ["needs canonical:"]),
    ("  - canonical: phone\n", 7, ["needs native:"]),
    ("  - canonical: phone\n    native: P\n    max_length: 5\n", 9, ["add truncate: true"]),
    ("  - canonical: number\n    native: N\n    lookup: account\n", 7, ["lookup: 'account'"]),
    ("  - canonical: Phone\n    native: P\n", 7, ["lower_snake_case"]),
    ("  - canonical: blocked\n    native: [a, b]\n", 8, ["native", "text"]),
]


@pytest.mark.parametrize(("extra", "line", "words"), BAD)
def test_load_errors_point_at_the_line(extra: str, line: int, words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mapping(HEAD + extra, "maps/crm.yaml")
    assert caught.value.where == f"maps/crm.yaml:{line}"
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("text", "line", "word"),
    [
        (
            "name: m\nentity: custmer\nobject: A\nfields:\n  - {canonical: name, native: N}\n",
            2,
            "unknown entity",
        ),
        (
            "name: m\nentity: customer\nfields:\n  - {canonical: name, native: N}\n",
            1,
            "needs object:",
        ),
        ("name: m\nentity: customer\nobject: A\nfields: []\n", 4, "must not be empty"),
        (
            "name: m\nentity: customer\nobject: A\ntimezone: Nowhere\nfields:\n"
            "  - {canonical: name, native: N}\n",
            4,
            "IANA",
        ),
        (
            "name: p\nentity: price\nobject: P\nfields:\n  - canonical: valid_from\n    native: F\n"
            "    transform: {date: {timezone: Mars/X}}\n",
            7,
            "IANA",
        ),
        ("name: m\nentity: [\n", 3, "not valid YAML"),
        ("- a\n- b\n", 1, "a mapping file is a YAML mapping"),
    ],
)
def test_file_level_errors(text: str, line: int, word: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_mapping(text, "m.yaml")
    assert caught.value.where == f"m.yaml:{line}"
    assert word in str(caught.value)


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_mapping("/nonexistent/mapping.yaml")
