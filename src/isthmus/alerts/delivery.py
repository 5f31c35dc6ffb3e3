"""Where alerts go: webhooks (a JSON body ``{"text": ...}``, which Slack, Mattermost and
Teams-style incoming webhooks accept) and SMTP email. A delivery that fails is logged
and never stops the scheduler; the password of the mail server comes from an
environment variable and is never logged.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
from email.message import EmailMessage

import httpx
import structlog

from isthmus.engine.config import EmailAlertConfig, WebhookAlertConfig

log = structlog.get_logger("isthmus.alerts")
TIMEOUT_SECONDS = 10.0


async def send_webhook(target: WebhookAlertConfig, text: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            answer = await client.post(target.url, json={"text": text})
        answer.raise_for_status()
    except httpx.HTTPError as error:
        log.warning("alert_webhook_failed", url=target.url, error=type(error).__name__)
        return False
    return True


def _send_mail(target: EmailAlertConfig, subject: str, text: str) -> None:
    message = EmailMessage()
    message["From"] = target.sender
    message["To"] = ", ".join(target.to)
    message["Subject"] = subject
    message.set_content(text)
    with smtplib.SMTP(target.host, target.port, timeout=TIMEOUT_SECONDS) as smtp:
        if target.starttls:
            smtp.starttls()
        if target.username:
            smtp.login(target.username, os.environ.get(target.password_env or "", ""))
        smtp.send_message(message)


async def send_email(target: EmailAlertConfig, subject: str, text: str) -> bool:
    # smtplib blocks: run it in a thread so the scheduler's loop keeps serving.
    try:
        await asyncio.to_thread(_send_mail, target, subject, text)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("alert_email_failed", host=target.host, error=type(error).__name__)
        return False
    return True
