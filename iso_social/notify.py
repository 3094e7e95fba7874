"""Notifications from scheduled checks: new major nonconformities and breaches coming due.

Two channels, configured in the service settings (`schedule run --config`): a JSON webhook
(signed with HMAC-SHA256 when a secret is set) and SMTP e-mail. Secrets are never in the file:
the settings name the environment variables that hold them. Messages carry control ids,
conversation ids, grades, statements and due times, never customer text. Delivery is retried
with a growing pause; a delivery that still fails is logged and given up, and nothing here ever
raises into the scheduler.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from iso_social.clock import Duration, format_duration
from iso_social.domain import Finding, Verdict
from iso_social.evidence.models import RecordedRun
from iso_social.evidence.register import Nonconformity

SIGNATURE_HEADER = "X-Iso-Social-Signature"
Log = Callable[..., None]


class WebhookSettings(BaseModel):
    """A JSON webhook: each event is POSTed as one JSON object."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: AnyHttpUrl
    secret_env: str | None = None  # environment variable holding the HMAC key
    timeout: Duration = timedelta(seconds=10)


class EmailSettings(BaseModel):
    """SMTP e-mail to the quality team."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: str = Field(default="starttls", pattern="^(starttls|ssl|none)$")
    username: str | None = None
    password_env: str | None = None  # environment variable holding the password
    sender: str
    recipients: Annotated[list[str], Field(min_length=1)]
    timeout: Duration = timedelta(seconds=30)


class NotificationSettings(BaseModel):
    """Where notifications go and when a breach counts as coming due."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    webhook: WebhookSettings | None = None
    email: EmailSettings | None = None
    due_within: Duration = timedelta(minutes=15)
    attempts: Annotated[int, Field(ge=1, le=10)] = 3
    backoff: Duration = timedelta(seconds=2)


@dataclass(frozen=True)
class Event:
    """One notification: a kind, a one-line subject and the JSON body."""

    kind: str
    keys: tuple[str, ...]  # what was notified (a nonconformity in a run, a case and its due time)
    subject: str
    body: dict[str, Any]


def major_events(run: RecordedRun, opened: Iterable[Nonconformity]) -> list[Event]:
    """One event per major nonconformity the run raised, reopened or escalated."""
    return [
        Event(
            "new_major_nonconformity",
            (f"{nc.id}:{run.run_id}",),
            f"Major nonconformity {nc.id} ({nc.control_id})",
            {
                "event": "new_major_nonconformity",
                "nonconformity": nc.id,
                "control": nc.control_id,
                "policy": nc.policy_id,
                "grade": nc.grade,
                "status": nc.status.value,
                "repeat": nc.repeat_count,
                "statement": nc.statement,
                "run": run.run_id,
                "run_sha256": run.digest,
            },
        )
        for nc in opened
        if nc.grade == "major"
    ]


def _case_key(control_id: str, conversation_id: str, due_at: datetime) -> str:
    return f"{control_id}:{conversation_id}:{due_at.isoformat()}"


def due_events(
    findings: Iterable[Finding], now: datetime, within: timedelta, notified: Container[str] = ()
) -> list[Event]:
    """One event per control with items that breach within `within` of `now` and were not
    `notified` before."""
    events = []
    for finding in findings:
        if finding.verdict is Verdict.WAIVED:
            continue
        soon = [
            u
            for u in finding.outcome.upcoming
            if now <= u.due_at <= now + within
            and _case_key(finding.control_id, u.conversation_id, u.due_at) not in notified
        ]
        if not soon:
            continue
        events.append(
            Event(
                "breach_coming_due",
                tuple(_case_key(finding.control_id, u.conversation_id, u.due_at) for u in soon),
                f"{len(soon)} case(s) of {finding.control_id} breach within "
                f"{format_duration(within.total_seconds())}",
                {
                    "event": "breach_coming_due",
                    "control": finding.control_id,
                    "policy": finding.policy_id,
                    "title": finding.title,
                    "cases": [
                        {"conversation_id": u.conversation_id, "due_at": u.due_at.isoformat()}
                        for u in soon
                    ],
                },
            )
        )
    return events


def _retrying(attempts: int, backoff: timedelta, send: Callable[[], None]) -> Exception | None:
    """Run `send` up to `attempts` times, pausing backoff, 2 x backoff, ...; the last error."""
    error: Exception | None = None
    for attempt in range(attempts):
        try:
            send()
            return None
        except (OSError, smtplib.SMTPException, urllib.error.URLError, ValueError) as exc:
            error = exc
            if attempt + 1 < attempts:
                time.sleep(backoff.total_seconds() * 2**attempt)
    return error


def _secret(variable: str | None) -> str | None:
    return os.environ.get(variable) if variable else None


def post_webhook(settings: WebhookSettings, event: Event) -> None:
    """POST the event; raise on a network error or a non-2xx answer."""
    payload = json.dumps(event.body, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "iso-social"}
    secret = _secret(settings.secret_env)
    if secret:
        digest = hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
        headers[SIGNATURE_HEADER] = f"sha256={digest}"
    request = urllib.request.Request(  # noqa: S310 - http(s) only, by validation
        str(settings.url), data=payload, headers=headers
    )
    try:
        with urllib.request.urlopen(  # noqa: S310 - http(s) only, by validation
            request, timeout=settings.timeout.total_seconds()
        ) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the response body open
        raise OSError(f"the webhook answered HTTP {exc.code}") from None
    if not 200 <= status < 300:
        raise OSError(f"the webhook answered HTTP {status}")


def send_email(settings: EmailSettings, events: Sequence[Event]) -> None:
    """One e-mail listing the events; raise on an SMTP or network error."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Subject"] = (
        f"[iso-social] {events[0].subject}"
        if len(events) == 1
        else f"[iso-social] {len(events)} notifications"
    )
    message.set_content(
        "\n\n".join(
            f"{e.subject}\n{json.dumps(e.body, indent=2, ensure_ascii=False)}" for e in events
        )
        + "\n"
    )
    timeout = settings.timeout.total_seconds()
    context = ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        password = _secret(settings.password_env)
        if settings.username and password:
            smtp.login(settings.username, password)
        smtp.send_message(message)


def deliver(settings: NotificationSettings, events: Sequence[Event], log: Log) -> int:
    """Send the events everywhere configured; return how many deliveries failed for good."""
    if not events:
        return 0
    failed = 0
    if settings.webhook is not None:
        webhook = settings.webhook
        for event in events:

            def post(event: Event = event) -> None:
                post_webhook(webhook, event)

            error = _retrying(settings.attempts, settings.backoff, post)
            if error is not None:
                failed += 1
                log(logging.ERROR, "notification failed", channel="webhook", kind=event.kind,
                    error=type(error).__name__, detail=str(error)[:200])  # fmt: skip
            else:
                log(logging.INFO, "notification sent", channel="webhook", kind=event.kind)
    if settings.email is not None:
        email = settings.email
        error = _retrying(settings.attempts, settings.backoff, lambda: send_email(email, events))
        if error is not None:
            failed += 1
            log(logging.ERROR, "notification failed", channel="email", events=len(events),
                error=type(error).__name__, detail=str(error)[:200])  # fmt: skip
        else:
            log(logging.INFO, "notification sent", channel="email", events=len(events))
    return failed


class Notifier:
    """The scheduler's notifier: builds events after each run, sends each one once."""

    def __init__(self, settings: NotificationSettings, log: Log) -> None:
        self.settings, self.log = settings, log
        self._sent: set[str] = set()

    def after_run(
        self,
        run: RecordedRun,
        findings: Sequence[Finding],
        opened: Sequence[Nonconformity],
        now: datetime,
    ) -> None:
        """Notify what this run found that was not notified before; never raises."""
        try:
            events = major_events(run, opened) + due_events(
                findings, now, self.settings.due_within, self._sent
            )
            fresh = [e for e in events if not set(e.keys) <= self._sent]
            deliver(self.settings, fresh, self.log)
            self._sent.update(k for e in fresh for k in e.keys)  # failures are logged, not kept
        except Exception as exc:  # a notification must never bring the scheduler down
            self.log(logging.ERROR, "notification crashed", error=type(exc).__name__)
