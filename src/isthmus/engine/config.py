"""The config file: systems, mappings, store and flows, checked before anything runs.

A config is YAML (see docs/configuration.md). Every error names ``file:line`` and says
what to write instead; ``${VAR}`` references are filled from the environment and
``${secret:NAME}`` ones from the encrypted vault of the state store (docs/security.md),
so no secret has to live in the file.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from isthmus.engine.policy import ConflictRule, DeleteAction, Direction, PartnerMissingAction
from isthmus.errors import ConfigError
from isthmus.match.fuzzy import FuzzyRules
from isthmus.queue.config import QueueConfig
from isthmus.yamlsource import YamlDocument, load_yaml_file, parse_yaml

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def parse_duration(value: Any) -> timedelta:
    """``30``, ``"30s"``, ``"5m"``, ``"2h"`` -> timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration; write e.g. 30s, 5m, 2h or 1d")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimitConfig(_Strict):
    """The most calls a second Isthmus makes to a system (from its documented limit)."""

    per_second: float = Field(gt=0)
    burst: int = Field(default=1, ge=1)
    # Calls per UTC day (the vendor's daily API allowance); shared by every worker in
    # distributed mode.
    daily: int | None = Field(default=None, ge=1)


class SystemConfig(_Strict):
    connector: str
    options: dict[str, Any] = Field(default_factory=dict)
    rate_limit: RateLimitConfig | None = None


class SideConfig(_Strict):
    system: str
    object: str
    mapping: str


def _cron_expression(value: str | None) -> str | None:
    if value is not None:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression (e.g. '*/5 * * * *')")
    return value


# A duration written "30s", "5m", "24h" (or seconds), and a cron expression, checked.
Duration = Annotated[
    timedelta | None, BeforeValidator(lambda v: None if v is None else parse_duration(v))
]
Cron = Annotated[str | None, AfterValidator(_cron_expression)]


class TriggerConfig(_Strict):
    poll: Duration = None
    cron: Cron = None
    webhook: bool = False
    manual: bool = False


class FilterRule(_Strict):
    field: str
    equals: Any = None
    not_equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    not_empty: bool | None = None


class ConflictConfig(_Strict):
    default: ConflictRule = "review"
    fields: dict[str, ConflictRule] = Field(default_factory=dict)
    clock_skew: timedelta = timedelta(seconds=2)

    @field_validator("clock_skew", mode="before")
    @classmethod
    def _skew(cls, value: Any) -> Any:
        return parse_duration(value)


class DeleteConfig(_Strict):
    action: DeleteAction = "decouple"
    set: dict[str, Any] = Field(default_factory=dict)


class FuzzyMatchConfig(_Strict):
    """``match.fuzzy``: weighted canonical fields and the link and review thresholds."""

    fields: dict[str, float] = Field(min_length=1)
    link_above: float = Field(default=0.92, gt=0, le=1)
    review_above: float = Field(default=0.75, gt=0, le=1)
    max_block: int = Field(default=200, ge=1)
    # Where candidates come from: ``index`` reads the partner once per run; ``lookup``
    # asks the partner by raw field values only; ``auto`` looks up for a few new records
    # of a linked flow and reads everything before it would create one.
    candidates: Literal["auto", "index", "lookup"] = "auto"

    @field_validator("fields")
    @classmethod
    def _weights(cls, value: dict[str, float]) -> dict[str, float]:
        for path, weight in value.items():
            if weight <= 0:
                raise ValueError(
                    f"the weight of {path!r} is {weight}; weights are positive numbers "
                    "(e.g. name: 0.6) - leave a field out to ignore it"
                )
        return value

    @model_validator(mode="after")
    def _thresholds(self) -> FuzzyMatchConfig:
        if self.review_above > self.link_above:
            raise ValueError(
                f"review_above ({self.review_above}) is above link_above ({self.link_above}); "
                "records scoring between the two go to review, so review_above must be lower"
            )
        return self

    def rules(self) -> FuzzyRules:
        return FuzzyRules(
            dict(self.fields),
            link_above=self.link_above,
            review_above=self.review_above,
            max_block=self.max_block,
        )


class MatchConfig(_Strict):
    """``match``: exact keys first (``keys``), then fuzzy scoring (``fuzzy``), before any
    record is created."""

    keys: list[str] = Field(default_factory=list)
    fuzzy: FuzzyMatchConfig | None = None


class ReconcileConfig(_Strict):
    """When ``isthmus run`` reconciles a flow, and whether it repairs what it finds."""

    every: Duration = None
    cron: Cron = None
    repair: bool = False

    @model_validator(mode="after")
    def _scheduled(self) -> ReconcileConfig:
        if self.every is None and self.cron is None:
            raise ValueError("reconcile needs 'every' (e.g. 24h) or 'cron' (e.g. '0 3 * * *')")
        return self


class SafetyConfig(_Strict):
    max_delete_ratio: float = Field(default=0.2, ge=0, le=1)
    max_overwrite_ratio: float = Field(default=0.5, ge=0, le=1)
    min_links: int = Field(default=20, ge=0)


RejectionKind = Literal["business", "validation", "conflict", "not_found"]
_REJECTION_KINDS: list[RejectionKind] = ["business", "validation"]


class WriteBackConfig(_Strict):
    """``on_rejection.write_back``: mark the origin record when the other side refuses it,
    so the person who entered it sees why (e.g. a CRM order an ERP refused)."""

    field: str  # the native status field of the origin object (Sync_Status__c)
    value: str = "Error"
    message_field: str | None = None  # a native text field for the refusal's message
    # Written (and the message emptied) when a record refused before goes through.
    cleared_value: str | None = None
    max_length: int = Field(default=255, ge=1)
    system: str | None = None  # the system written back to (default: the flow's source)
    kinds: list[RejectionKind] = Field(default_factory=_REJECTION_KINDS.copy)


class RejectionConfig(_Strict):
    write_back: WriteBackConfig | None = None


class FlowConfig(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    entity: str
    source: SideConfig
    target: SideConfig
    direction: Direction = "one_way"
    trigger: TriggerConfig = TriggerConfig(manual=True)
    filter: list[FilterRule] = Field(default_factory=list)
    ownership: dict[str, str] = Field(default_factory=dict)
    conflict: ConflictConfig = ConflictConfig()
    on_delete: DeleteConfig = DeleteConfig()
    on_partner_missing: PartnerMissingAction = "review"
    on_rejection: RejectionConfig = RejectionConfig()
    match: MatchConfig = MatchConfig()
    safety: SafetyConfig = SafetyConfig()
    page_size: int = Field(default=1000, ge=1, le=100_000)
    depends_on: list[str] = Field(default_factory=list)
    enabled: bool = True
    reconcile: ReconcileConfig | None = None

    @field_validator("trigger", mode="before")
    @classmethod
    def _trigger(cls, value: Any) -> Any:
        if value == "manual":
            return {"manual": True}
        if value == "webhook":
            return {"webhook": True}
        return value

    @field_validator("on_delete", mode="before")
    @classmethod
    def _on_delete(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"action": value}
        if isinstance(value, dict) and set(value) == {"deactivate"}:
            return {"action": "deactivate", "set": value["deactivate"]}
        return value

    @model_validator(mode="after")
    def _sides_differ(self) -> FlowConfig:
        if self.source.system == self.target.system and self.source.object == self.target.object:
            raise ValueError("source and target are the same object of the same system")
        return self


class RetentionConfig(_Strict):
    """How long copies of record values are kept (docs/security.md): audit values and
    dead-letter payloads older than this are purged by ``isthmus purge`` and by
    ``isthmus run`` every ``purge_every``."""

    audit_payload_days: int | None = Field(default=None, ge=1)
    dead_letter_days: int | None = Field(default=None, ge=1)
    purge_every: Duration = timedelta(hours=24)


class AlertRulesConfig(_Strict):
    """Thresholds of the alert rules (docs/alerts.md); ``null`` turns a rule off."""

    window: int = Field(default=20, ge=2, le=1000)  # recent runs per flow looked at
    min_runs: int = Field(default=3, ge=1)  # fewer recent runs than this: no verdict
    failure_rate: float | None = Field(default=0.5, gt=0, le=1)
    success_drop: float | None = Field(default=0.2, gt=0, le=1)
    latency_factor: float | None = Field(default=3.0, gt=1)
    latency_min_seconds: float = Field(default=5.0, ge=0)
    dead_letters_new: int | None = Field(default=10, ge=1)
    dead_letters_within: Duration = timedelta(hours=1)
    budget_below: float | None = Field(default=0.1, gt=0, lt=1)
    drift_above: int | None = Field(default=0, ge=0)


class WebhookAlertConfig(_Strict):
    url: str = Field(pattern=r"^https?://")


class EmailAlertConfig(_Strict):
    host: str
    port: int = Field(default=25, ge=1, le=65535)
    sender: str
    to: list[str] = Field(min_length=1)
    starttls: bool = False
    username: str | None = None
    # The name of an environment variable holding the password (never the password).
    password_env: str | None = None


class AlertsConfig(_Strict):
    """Alert rules and where alerts go (webhook with Slack-style JSON, email)."""

    dashboard_url: str = "http://127.0.0.1:8642"
    rules: AlertRulesConfig = AlertRulesConfig()
    webhooks: list[WebhookAlertConfig] = Field(default_factory=list)
    email: EmailAlertConfig | None = None


class IsthmusConfig(_Strict):
    version: Literal[1] = 1
    store: str = "sqlite:///isthmus-state.db"
    systems: dict[str, SystemConfig]
    mappings: list[str] = Field(default_factory=list)
    flows: list[FlowConfig]
    retention: RetentionConfig = RetentionConfig()
    # Encrypt the values of fields marked ``sensitive: true`` in bases and audit events
    # (needs ISTHMUS_SECRET_KEY; see docs/security.md).
    encrypt_sensitive_fields: bool = False
    # Embedded by default; a broker for many workers (docs/deployment.md).
    queue: QueueConfig = Field(default_factory=QueueConfig)
    alerts: AlertsConfig | None = None


class LoadedConfig:
    """A validated config and where it came from (to resolve relative paths)."""

    def __init__(self, config: IsthmusConfig, document: YamlDocument, base_dir: Path) -> None:
        self.config = config
        self.document = document
        self.base_dir = base_dir

    def where(self, *path: str | int) -> str:
        return self.document.where(path)

    def resolve_path(self, value: str) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.base_dir / path

    def store_url(self) -> str:
        """The store URL with a relative SQLite path made relative to the config file."""
        url = self.config.store
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/"):
            return prefix + str(self.resolve_path(url[len(prefix) :]))
        if "://" not in url:
            return prefix + str(self.resolve_path(url))
        return url

    def flow(self, name: str) -> FlowConfig:
        for flow in self.config.flows:
            if flow.name == name:
                return flow
        known = ", ".join(flow.name for flow in self.config.flows)
        raise ConfigError(f"no flow named {name!r}; the flows are: {known}")


def load_config(path: str | Path, *, secrets: bool = True) -> LoadedConfig:
    """Load and check a config file (structure only; ``engine.build`` checks the rest).

    ``secrets=False`` leaves ``${secret:NAME}`` references unfilled: for commands that
    need only the state store (``isthmus secrets``), which may set them first.
    """
    file = Path(path)
    document = load_yaml_file(file, expand_env=True)
    return _validate(document, file.resolve().parent, secrets)


def parse_config(text: str, source: str, base_dir: Path) -> LoadedConfig:
    return _validate(parse_yaml(text, source, expand_env=True), base_dir)


def _validate(document: YamlDocument, base_dir: Path, secrets: bool = True) -> LoadedConfig:
    if not isinstance(document.data, dict):
        raise ConfigError(
            "a config file is a YAML mapping with systems and flows", where=f"{document.source}:1"
        )
    try:
        config = IsthmusConfig.model_validate(document.data)
    except ValidationError as error:
        first = error.errors()[0]
        location = [part for part in first["loc"] if isinstance(part, str | int)]
        where = document.where(location)
        dotted = ".".join(str(part) for part in location) or "(top level)"
        raise ConfigError(f"{dotted}: {_friendly(first)}", where=where) from None
    loaded = LoadedConfig(config, document, base_dir)
    _check_references(loaded)
    return _fill_secrets(loaded) if secrets else loaded


def _fill_secrets(loaded: LoadedConfig) -> LoadedConfig:
    """Fill ``${secret:NAME}`` references from the vault; register secret values for
    redaction (a narrow hook: everything else lives in ``isthmus.security``)."""
    from isthmus.security.references import (
        fill_references,
        has_references,
        register_secret_options,
    )

    data = loaded.document.data
    if has_references(data):
        data = fill_references(data, loaded.store_url(), loaded.document.where)
        config = IsthmusConfig.model_validate(data)
        loaded = LoadedConfig(config, loaded.document, loaded.base_dir)
    register_secret_options(data)
    return loaded


def _friendly(error: Any) -> str:
    kind, message = error.get("type", ""), error.get("msg", "invalid value")
    if kind == "missing":
        return "this setting is required"
    if kind == "extra_forbidden":
        return "unknown setting (check the spelling; see docs/configuration.md)"
    if kind == "literal_error":
        return f"{message}"
    return str(message).removeprefix("Value error, ")


def _check_references(loaded: LoadedConfig) -> None:
    config = loaded.config
    names: set[str] = set()
    for index, flow in enumerate(config.flows):
        if flow.name in names:
            raise ConfigError(
                f"flow name {flow.name!r} is used twice", where=loaded.where("flows", index, "name")
            )
        names.add(flow.name)
        for side in ("source", "target"):
            system = getattr(flow, side).system
            if system not in config.systems:
                known = ", ".join(sorted(config.systems))
                raise ConfigError(
                    f"flow {flow.name!r}: {side} system {system!r} is not defined under "
                    f"systems (defined: {known})",
                    where=loaded.where("flows", index, side, "system"),
                )
    for index, flow in enumerate(config.flows):
        for path, system in flow.ownership.items():
            if system not in (flow.source.system, flow.target.system):
                raise ConfigError(
                    f"flow {flow.name!r}: ownership of {path!r} names {system!r}, which is "
                    f"neither {flow.source.system!r} nor {flow.target.system!r}",
                    where=loaded.where("flows", index, "ownership", path),
                )
        for dependency in flow.depends_on:
            if dependency not in names:
                raise ConfigError(
                    f"flow {flow.name!r} depends on unknown flow {dependency!r}",
                    where=loaded.where("flows", index, "depends_on"),
                )
