"""``AlertMonitor``: evaluates the rules after each run and notifies on changes.

An alert fires once, when its condition starts to hold; while it holds nothing more is
sent; when it clears, a short "resolved" note goes out and the rule re-arms for that
subject. The firing set lives in the process (a restart may repeat an alert still true).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from isthmus.alerts.delivery import log, send_email, send_webhook
from isthmus.alerts.rules import Alert, evaluate
from isthmus.engine.config import AlertsConfig
from isthmus.engine.engine import Engine
from isthmus.engine.report import RunReport


@dataclass
class Notice:
    """What was sent for one alert: fired or resolved, and the message text."""

    alert: Alert
    resolved: bool
    text: str


@dataclass
class AlertMonitor:
    engine: Engine
    config: AlertsConfig
    firing: dict[tuple[str, str], Alert] = field(default_factory=dict)

    def link(self, alert: Alert) -> str:
        return f"{self.config.dashboard_url.rstrip('/')}{alert.page}"

    def changes(self, now: datetime | None = None) -> list[Notice]:
        """Alerts that started or stopped holding since the last check (state updated)."""
        holding = {alert.key: alert for alert in evaluate(self.engine, self.config.rules, now)}
        notices = []
        for key, alert in holding.items():
            if key not in self.firing:
                text = f":rotating_light: Isthmus alert: {alert.text}. See {self.link(alert)}"
                notices.append(Notice(alert, False, text))
        for key, alert in self.firing.items():
            if key not in holding:
                text = f":white_check_mark: Isthmus resolved: {alert.rule} on {alert.subject}"
                notices.append(Notice(alert, True, text))
        self.firing = holding
        return notices

    async def check(self, now: datetime | None = None) -> list[Notice]:
        """Evaluate and deliver; returns what was sent (delivery failures are logged)."""
        notices = self.changes(now)
        for notice in notices:
            log.info(
                "alert_resolved" if notice.resolved else "alert_fired",
                rule=notice.alert.rule,
                subject=notice.alert.subject,
            )
            for hook in self.config.webhooks:
                await send_webhook(hook, notice.text)
            if self.config.email is not None:
                state = "resolved" if notice.resolved else "alert"
                subject = f"[Isthmus {state}] {notice.alert.rule} on {notice.alert.subject}"
                await send_email(self.config.email, subject, notice.text)
        return notices

    async def after_run(self, report: RunReport) -> None:
        """The scheduler's after-run hook."""
        await self.check()
