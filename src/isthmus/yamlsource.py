"""YAML with positions: load a document and remember the line of every key and item.

Config and mapping errors must say ``file:line``; PyYAML keeps marks on its node tree,
so we build plain data from the nodes and keep a map from path to line on the side.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from isthmus.errors import ConfigError

PathKey = tuple[str | int, ...]
# Builds scalars from nodes; holds no per-document state for scalar nodes.
_CONSTRUCTOR = yaml.SafeLoader("")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class YamlDocument:
    data: Any
    source: str
    lines: dict[PathKey, int]

    def where(self, path: Sequence[str | int]) -> str:
        """``source:line`` of the deepest known prefix of ``path``."""
        key = tuple(path)
        while key and key not in self.lines:
            key = key[:-1]
        return f"{self.source}:{self.lines.get(key, 1)}"


def parse_yaml(text: str, source: str, *, expand_env: bool = False) -> YamlDocument:
    """Parse one YAML document; syntax errors become ``ConfigError`` with the line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line = mark.line + 1 if mark is not None else 1
        context = ""
        if error.context and error.context_mark is not None:
            context = f" ({error.context} at line {error.context_mark.line + 1})"
        raise ConfigError(
            f"not valid YAML: {error.problem}{context}", where=f"{source}:{line}"
        ) from None
    except yaml.YAMLError as error:
        # Reader errors (control characters, a stray NUL) carry a character position.
        position = getattr(error, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else 1
        reason = getattr(error, "reason", None) or str(error).splitlines()[0]
        raise ConfigError(
            f"not valid YAML: {reason}; remove control characters from the file",
            where=f"{source}:{line}",
        ) from None
    lines: dict[PathKey, int] = {}
    if node is None:
        return YamlDocument({}, source, lines)
    try:
        data = _build(node, (), lines, source, expand_env)
    except yaml.MarkedYAMLError as error:  # a scalar no safe constructor takes ("=")
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ConfigError(
            f"not valid YAML: {error.problem or error.context}; quote the value",
            where=f"{source}:{line}",
        ) from None
    return YamlDocument(data, source, lines)


def load_yaml_file(path: Path, *, expand_env: bool = False) -> YamlDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"file not found: {path}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path} is not UTF-8 text ({error.reason})") from None
    return parse_yaml(text, str(path), expand_env=expand_env)


def _build(
    node: yaml.Node, path: PathKey, lines: dict[PathKey, int], source: str, expand_env: bool
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _CONSTRUCTOR.construct_object(key_node)
            if not isinstance(key, str | int | bool) or key is None:
                raise ConfigError(
                    f"keys must be plain words, got {key!r}",
                    where=f"{source}:{key_node.start_mark.line + 1}",
                )
            key = str(key)
            if key in result:
                raise ConfigError(
                    f"key {key!r} appears twice", where=f"{source}:{key_node.start_mark.line + 1}"
                )
            result[key] = _build(value_node, (*path, key), lines, source, expand_env)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(child, (*path, index), lines, source, expand_env)
            for index, child in enumerate(node.value)
        ]
    value = _CONSTRUCTOR.construct_object(node)
    if expand_env and isinstance(value, str):
        value = _expand_env(value, f"{source}:{node.start_mark.line + 1}")
    return value


def _expand_env(text: str, where: str) -> str:
    """Replace ``${NAME}`` (or ``${NAME:-default}``) with the environment variable."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        value = os.environ.get(name)
        if value is None:
            if default is not None:
                return default
            raise ConfigError(
                f"environment variable {name} is not set; export it or give a default "
                f"with ${{{name}:-value}}",
                where=where,
            )
        return value

    return _ENV_REF.sub(replace, text)
