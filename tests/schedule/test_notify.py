"""Notifications: events from real runs, delivered to a local webhook and a local SMTP server,
signed, retried, deduplicated, and never raising into the scheduler."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from iso_social import pipeline
from iso_social.domain import Finding
from iso_social.evidence.models import RecordedRun
from iso_social.notify import (
    SIGNATURE_HEADER,
    EmailSettings,
    NotificationSettings,
    Notifier,
    WebhookSettings,
    deliver,
    due_events,
    major_events,
)
from iso_social.policy import load_policies
from tests.conftest import EXAMPLE_POLICY, canonical_message, write_jsonl

NOW = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)


class Hook:
    """A local HTTP server recording POSTs; answers each with the next status in `statuses`."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses = list(statuses or [])
        hook = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.requests.append((dict(self.headers), body))
                self.send_response(hook.statuses.pop(0) if hook.statuses else 204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    server = Hook()
    yield server
    server.close()


@pytest.fixture
def checked(tmp_path: Path) -> tuple[RecordedRun, list[Finding], str]:
    """A run with a major nonconformity (two tweets never answered) and a tweet 50 minutes old
    whose one-hour deadline is coming due at NOW."""
    records = [
        canonical_message("a1", "2026-10-05T08:00:00Z", conversation_id="late-1"),
        canonical_message("a2", "2026-10-05T08:30:00Z", conversation_id="late-2"),
        canonical_message("b1", "2026-10-05T11:10:00Z", conversation_id="due-soon"),
    ]
    log = write_jsonl(tmp_path / "log.jsonl", records)
    db = f"sqlite:///{tmp_path / 'n.db'}"
    pipeline.ingest_logs([log], db=db)
    policy = tmp_path / "policy.yaml"
    policy.write_text(EXAMPLE_POLICY, encoding="utf-8")
    run, findings = pipeline.run_check_with_findings(
        load_policies([policy]), db=db, start=NOW - timedelta(days=1), end=NOW
    )
    return run, findings, db


def logger() -> tuple[list[tuple[int, str, dict[str, Any]]], Any]:
    lines: list[tuple[int, str, dict[str, Any]]] = []
    return lines, lambda level, event, **fields: lines.append((level, event, fields))


def test_events_from_a_run(checked: tuple[RecordedRun, list[Finding], str]) -> None:
    run, findings, db = checked
    opened = pipeline.opened_nonconformities(db, run.run_id)
    (major,) = major_events(run, opened)
    assert major.body["nonconformity"] == "NC-TW-FRT-01" and major.body["grade"] == "major"
    (due,) = due_events(findings, NOW, timedelta(minutes=15))
    assert due.body["cases"] == [
        {"conversation_id": "due-soon", "due_at": "2026-10-05T12:10:00+00:00"}
    ]
    assert due_events(findings, NOW, timedelta(minutes=5)) == []  # due in 10 minutes


def test_webhook_is_signed_with_the_key_from_the_environment(
    checked: tuple[RecordedRun, list[Finding], str], hook: Hook, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, _findings, db = checked
    monkeypatch.setenv("HOOK_KEY", "s3cret-key-for-tests")
    webhook = WebhookSettings(url=hook.url, secret_env="HOOK_KEY")  # noqa: S106 - a name
    settings = NotificationSettings(webhook=webhook)
    events = major_events(run, pipeline.opened_nonconformities(db, run.run_id))
    lines, log = logger()
    assert deliver(settings, events, log) == 0
    ((headers, body),) = hook.requests
    expected = hmac.new(b"s3cret-key-for-tests", body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == f"sha256={expected}"
    assert json.loads(body)["event"] == "new_major_nonconformity"
    assert b"s3cret" not in body and not any("s3cret" in str(line) for line in lines)


def test_failures_are_retried_then_logged_never_raised(
    checked: tuple[RecordedRun, list[Finding], str],
) -> None:
    _run, findings, _ = checked
    events = due_events(findings, NOW, timedelta(minutes=15))
    flaky = Hook(statuses=[500, 503])
    try:
        settings = NotificationSettings(
            webhook=WebhookSettings(url=flaky.url), attempts=3, backoff=timedelta(milliseconds=1)
        )
        lines, log = logger()
        assert deliver(settings, events, log) == 0
        assert len(flaky.requests) == 3  # two failures, then delivered
    finally:
        flaky.close()
    closed = NotificationSettings(
        webhook=WebhookSettings(url="http://127.0.0.1:9/hook", timeout=timedelta(seconds=2)),
        email=EmailSettings(
            host="127.0.0.1",
            port=9,
            security="none",
            sender="a@b.example",
            recipients=["q@b.example"],
        ),
        attempts=2,
        backoff=timedelta(milliseconds=1),
    )
    lines, log = logger()
    assert deliver(closed, events, log) == 2  # both channels failed, nothing raised
    assert [event for _, event, _ in lines] == ["notification failed"] * 2


def test_email_reaches_an_smtp_server(checked: tuple[RecordedRun, list[Finding], str]) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    received: list[Any] = []

    class Keep(Sink):
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:  # a free port (the controller checks its own port on start)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        run, findings, db = checked
        settings = NotificationSettings(
            email=EmailSettings(
                host="127.0.0.1",
                port=port,
                security="none",
                sender="iso-social@acme.example",
                recipients=["quality@acme.example"],
            )
        )
        events = major_events(run, pipeline.opened_nonconformities(db, run.run_id))
        events += due_events(findings, NOW, timedelta(minutes=15))
        _lines, log = logger()
        assert deliver(settings, events, log) == 0
    finally:
        controller.stop()
    (envelope,) = received
    assert envelope.rcpt_tos == ["quality@acme.example"]
    text = envelope.content.decode("utf-8")
    assert "Subject: [iso-social] 2 notifications" in text
    assert "NC-TW-FRT-01" in text and "due-soon" in text
    assert "hello" not in text  # the messages' text never travels


def test_the_notifier_sends_each_thing_once(
    checked: tuple[RecordedRun, list[Finding], str], hook: Hook
) -> None:
    run, findings, db = checked
    _lines, log = logger()
    notifier = Notifier(NotificationSettings(webhook=WebhookSettings(url=hook.url)), log)
    opened = pipeline.opened_nonconformities(db, run.run_id)
    notifier.after_run(run, findings, opened, NOW)
    notifier.after_run(run, findings, opened, NOW + timedelta(minutes=1))
    kinds = [json.loads(body)["event"] for _, body in hook.requests]
    assert sorted(kinds) == ["breach_coming_due", "new_major_nonconformity"]
