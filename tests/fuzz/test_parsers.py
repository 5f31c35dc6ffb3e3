"""Fuzzing every inbound parser: whatever arrives, the answer is a parsed value or the
parser's own, explained error (with file:line where there is a file). Never a crash
with a stack trace, never a half-built object.

Inputs are built two ways: random text (including YAML-looking noise), and structured
documents that are valid YAML but wrong in every way a person gets a config wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from isthmus.engine.config import parse_config
from isthmus.errors import ConfigError
from isthmus.mapping import MappingError, parse_mapping
from isthmus.testing import MemoryConnector, describe_object

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(["${HOME}", "${NOPE}", "${X:-y}", "!!python/object", "\x00", "﻿"]),
)
words = st.sampled_from(
    [
        "version",
        "store",
        "systems",
        "flows",
        "mappings",
        "connector",
        "options",
        "name",
        "entity",
        "source",
        "target",
        "system",
        "object",
        "mapping",
        "direction",
        "trigger",
        "poll",
        "cron",
        "conflict",
        "default",
        "fields",
        "ownership",
        "match",
        "keys",
        "canonical",
        "native",
        "transform",
        "value_map",
        "lookup",
        "truncate",
        "on_delete",
        "safety",
        "page_size",
        "depends_on",
        "reconcile",
        "every",
    ]
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(words, st.text(max_size=8)), inner, max_size=5),
    ),
    max_leaves=25,
)
noise = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(["a: 1", "- b", "  c: [", "}", "&x", "*x", "? ", "--- ", "\t", "%YAML"]),
        max_size=12,
    ).map("\n".join),
)


def _refusal(call: Callable[[], object], *allowed: type[Exception]) -> str | None:
    """The message of an expected refusal, or None when the input was accepted."""
    try:
        call()
    except allowed as error:
        return str(error)
    return None


def _as_yaml(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True)


@FUZZ
@given(text=noise)
def test_config_text_never_crashes(tmp_path_factory: Any, text: str) -> None:
    message = _refusal(lambda: parse_config(text, "fuzz.yaml", Path(".")), ConfigError)
    assert message is None or message.startswith("fuzz.yaml")


@FUZZ
@given(document=documents)
def test_config_documents_never_crash(document: Any) -> None:
    message = _refusal(
        lambda: parse_config(_as_yaml(document), "fuzz.yaml", Path(".")), ConfigError
    )
    assert message is None or message


@FUZZ
@given(text=noise)
def test_mapping_text_never_crashes(text: str) -> None:
    message = _refusal(lambda: parse_mapping(text, "fuzz.yaml"), MappingError, ConfigError)
    assert message is None or message


@FUZZ
@given(document=documents)
def test_mapping_documents_never_crash(document: Any) -> None:
    message = _refusal(
        lambda: parse_mapping(_as_yaml(document), "fuzz.yaml"), MappingError, ConfigError
    )
    assert message is None or message


@FUZZ
@given(
    rules=st.lists(
        st.dictionaries(
            st.sampled_from(
                ["canonical", "native", "transform", "value_map", "truncate", "lookup"]
            ),
            documents,
            max_size=4,
        ),
        max_size=4,
    )
)
def test_mapping_rules_never_crash(rules: list[dict[str, Any]]) -> None:
    document = {"name": "m", "entity": "customer", "object": "Account", "fields": rules}
    message = _refusal(
        lambda: parse_mapping(_as_yaml(document), "fuzz.yaml"), MappingError, ConfigError
    )
    assert message is None or "fuzz.yaml" in message


SYSTEM = MemoryConnector("crm", [describe_object("Account", {})], webhook_secret="s3cret")


@FUZZ
@given(body=st.one_of(st.binary(max_size=200), documents.map(lambda d: json.dumps(d).encode())))
def test_webhook_bodies_are_parsed_or_refused(body: bytes) -> None:
    assert _refusal(lambda: SYSTEM.parse_webhook({}, body), ValueError), "unsigned: refused"
    signed = SYSTEM.sign(body)
    message = _refusal(lambda: SYSTEM.parse_webhook(signed, body), ValueError)
    if message is None:
        assert all(event.event_id for event in SYSTEM.parse_webhook(signed, body))
