"""``connector: tryton`` options -> a ``TrytonConnector``.

Options::

    url: http://erp.example.com:8000       # the trytond web listener
    database: production                   # the database name (the URL's /<db>/rpc/)
    user: isthmus                          # a Tryton user for the integration
    password: ${TRYTON_PASSWORD}
    language: en                           # the language of Tryton's messages
    overlap_seconds: 5                     # incremental reads re-read this window
    batch_size: 100                        # records per create/write call
    timeout_seconds: 60
    objects:                               # optional, per object name
      party.party: {external_key: null, defaults: {}, fields: []}
      credit_notes: {model: account.invoice, domain: [[total_amount, "<", 0]]}
      stock: {model: product.product, fields: [quantity], context: {locations: [3]},
              always_full: true}
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from isthmus.connectors.tryton.client import TrytonClient
from isthmus.connectors.tryton.connector import ObjectOptions, TrytonConnector
from isthmus.errors import ConfigError

_KNOWN = {
    "url",
    "database",
    "user",
    "password",
    "language",
    "overlap_seconds",
    "batch_size",
    "timeout_seconds",
    "objects",
}
_OBJECT_KEYS = {
    "model",
    "domain",
    "external_key",
    "defaults",
    "fields",
    "context",
    "always_full",
}


def from_config(name: str, options: dict[str, Any]) -> TrytonConnector:
    unknown = set(options) - _KNOWN
    if unknown:
        raise ConfigError(
            f"system {name!r}: unknown option(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(sorted(_KNOWN))}"
        )
    for required in ("url", "database", "user", "password"):
        if not options.get(required):
            raise ConfigError(f"system {name!r}: options.{required} is required")
    url = str(options["url"])
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"system {name!r}: options.url must start with http:// or https:// (got {url!r}); "
            "it is the trytond web listener, e.g. http://127.0.0.1:8000"
        )
    client = TrytonClient(
        url,
        str(options["database"]),
        str(options["user"]),
        str(options["password"]),
        language=str(options.get("language", "en")),
        timeout=float(options.get("timeout_seconds", 60)),
    )
    return TrytonConnector(
        name,
        client,
        objects=_objects(name, options.get("objects") or {}),
        overlap=timedelta(seconds=float(options.get("overlap_seconds", 5))),
        batch_size=int(options.get("batch_size", 100)),
    )


def _objects(name: str, raw: Any) -> dict[str, ObjectOptions]:
    if not isinstance(raw, dict):
        raise ConfigError(f"system {name!r}: options.objects maps object names to options")
    objects: dict[str, ObjectOptions] = {}
    for object_name, spec in raw.items():
        spec = spec or {}
        where = f"system {name!r}: options.objects.{object_name}"
        if not isinstance(spec, dict):
            raise ConfigError(f"{where} must be a mapping of {', '.join(sorted(_OBJECT_KEYS))}")
        unknown = set(spec) - _OBJECT_KEYS
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))}; "
                f"allowed: {', '.join(sorted(_OBJECT_KEYS))}"
            )
        domain = spec.get("domain") or []
        if not isinstance(domain, list):
            raise ConfigError(f"{where}.domain must be a Tryton domain (a list of clauses)")
        objects[str(object_name)] = ObjectOptions(
            model=str(spec.get("model") or object_name),
            domain=tuple(_clause(c) for c in domain),
            external_key=spec.get("external_key"),
            defaults=dict(spec.get("defaults") or {}),
            fields=tuple(str(f) for f in spec.get("fields") or ()),
            context={k: _ids(v) for k, v in (spec.get("context") or {}).items()},
            always_full=bool(spec.get("always_full", False)),
        )
    return objects


def _ids(value: Any) -> Any:
    """Ids filled from ``${ENV}`` arrive as text; Tryton wants numbers."""
    if isinstance(value, list):
        return [_ids(item) for item in value]
    return int(value) if isinstance(value, str) and value.isdigit() else value


def _clause(clause: Any) -> Any:
    """YAML lists -> Tryton clauses (``[field, operator, value]`` or ``["OR", ...]``)."""
    return list(clause) if isinstance(clause, list) else clause
