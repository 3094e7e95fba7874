"""Shared fixtures: databases (SQLite and PostgreSQL), factories, policies and the real logs."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from iso_social.domain import (
    AuthorRole,
    Channel,
    Conversation,
    Direction,
    Message,
    StatusChange,
    Visibility,
)

# Fuzzing budgets: `default` for everyday runs, `ci` the same examples every run (a red CI is
# then a real regression, replayable), `deep` for a local campaign:
#   HYPOTHESIS_PROFILE=deep pytest tests/ingest/test_fuzz.py tests/test_policy_fuzz.py
settings.register_profile(
    "default", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("ci", settings.get_profile("default"), derandomize=True, database=None)
settings.register_profile("deep", settings.get_profile("default"), max_examples=3000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "default")
)

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("ISO_SOCIAL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)  # a Monday

EXAMPLE_POLICY = """\
id: POL-CS-01
title: Customer response on social channels
version: "1.0"
owner: Quality manager
approved_by: Head of customer service
approved_on: 2026-11-01
effective_from: 2026-11-01
calendars:
  always: {timezone: UTC, hours: always}
  madrid_office:
    timezone: Europe/Madrid
    hours: {mon-fri: ["09:00-14:00", "15:00-19:00"], sat: ["10:00-14:00"]}
    holidays: {country: ES, subdivision: MD, dates: [2026-12-24]}
controls:
  - id: TW-FRT-01
    type: first_response_time
    title: Public tweets get a first human reply within one hour
    channels: [twitter]
    clauses: ["ISO 9001:2015 8.2.1", "ISO 10002:2018 8.3"]
    severity: major
    params: {deadline: 1h, calendar: always, target: 0.95}
"""


def _pg_admin_connect() -> Any:
    import psycopg

    return psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)


@pytest.fixture(scope="session")
def pg_available() -> bool:
    """Whether the PostgreSQL test server answers; under CI=true a missing server fails."""
    try:
        with _pg_admin_connect():
            return True
    except Exception as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is not reachable at {PG_URL} under CI=true: {exc}")
        return False


@pytest.fixture
def pg_url(pg_available: bool) -> Iterator[str]:
    """A database URL whose search_path is a fresh schema, dropped after the test."""
    if not pg_available:
        pytest.skip(f"no PostgreSQL at {PG_URL} (set ISO_SOCIAL_TEST_PG_URL)")
    schema = f"iso_test_{secrets.token_hex(4)}"
    with _pg_admin_connect() as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with _pg_admin_connect() as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on a fresh SQLite file and on a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file."""
    return f"sqlite:///{tmp_path / 'iso.db'}"


@pytest.fixture
def shared_data() -> Path:
    """The real third-party logs beside the project; absent in a user's fresh clone."""
    if not SHARED_DATA.is_dir():
        if IN_CI:
            pytest.fail(f"{SHARED_DATA} is missing under CI=true")
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA


@pytest.fixture
def asset() -> Callable[[str], Path]:
    """Path to a file in tests/assets/, asserting that it exists."""

    def _asset(name: str) -> Path:
        path = Path(__file__).parent / "assets" / name
        assert path.exists(), f"missing test asset {path}"
        return path

    return _asset


def message(
    message_id: str,
    at: datetime,
    *,
    conversation_id: str = "c1",
    channel: Channel = Channel.TWITTER,
    inbound: bool = True,
    role: AuthorRole | None = None,
    visibility: Visibility = Visibility.PUBLIC,
    automated: bool = False,
    text: str = "",
) -> Message:
    """A message with sensible defaults: inbound from a customer, or outbound from an agent."""
    return Message(
        message_id=message_id,
        conversation_id=conversation_id,
        channel=channel,
        direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
        author="@customer" if inbound else "@brand",
        author_role=role or (AuthorRole.CUSTOMER if inbound else AuthorRole.AGENT),
        visibility=visibility,
        created_at=at,
        text=text,
        automated=automated,
    )


def written_conversation(
    cid: str, steps: Iterable[tuple[float, bool, str, Visibility]], prefix: str = ""
) -> Conversation:
    """A conversation of messages written at `T0` plus minutes: (minutes, inbound, text,
    visibility) each, ids `{prefix}m0`, `{prefix}m1`... in the order given."""
    messages = tuple(
        message(
            f"{prefix}m{i}",
            T0 + timedelta(minutes=minutes),
            conversation_id=cid,
            inbound=inbound,
            text=text,
            visibility=visibility,
        )
        for i, (minutes, inbound, text, visibility) in enumerate(steps)
    )
    return Conversation(cid, messages[0].channel, messages)


@pytest.fixture
def make_conversation() -> Callable[..., Conversation]:
    """Factory: `make_conversation("c1", (0, "in"), (30, "out"))` with offsets in minutes."""

    def _make(
        conversation_id: str,
        *steps: tuple[float, str],
        start: datetime = T0,
        channel: Channel = Channel.TWITTER,
        statuses: tuple[StatusChange, ...] = (),
    ) -> Conversation:
        kinds = {
            "in": {"inbound": True},
            "out": {"inbound": False},
            "bot": {"inbound": False, "role": AuthorRole.BOT},
            "auto": {"inbound": False, "role": AuthorRole.SYSTEM, "automated": True},
            "auto-agent": {"inbound": False, "automated": True},
            "dm-out": {"inbound": False, "visibility": Visibility.PRIVATE},
            "note": {"inbound": False},
        }
        messages = []
        for index, (minutes, kind) in enumerate(steps):
            options: dict[str, Any] = dict(kinds[kind])
            msg = message(
                f"{conversation_id}-m{index}",
                start + timedelta(minutes=minutes),
                conversation_id=conversation_id,
                channel=channel,
                **options,
            )
            if kind == "note":
                msg = msg._replace(direction=Direction.INTERNAL)
            messages.append(msg)
        messages.sort(key=lambda m: m.created_at)
        return Conversation(conversation_id, channel, tuple(messages), statuses)

    return _make


def canonical_message(message_id: str, created_at: str, **overrides: Any) -> dict[str, Any]:
    """A canonical JSONL message record."""
    record: dict[str, Any] = {
        "kind": "message",
        "message_id": message_id,
        "conversation_id": overrides.pop("conversation_id", "c1"),
        "channel": "twitter",
        "direction": "inbound",
        "author": "@customer",
        "author_role": "customer",
        "visibility": "public",
        "created_at": created_at,
        "text": "hello",
        "in_reply_to": None,
    }
    record.update(overrides)
    return record


def modules_loaded_by(module: str) -> set[str]:
    """The modules a fresh interpreter has loaded once it has imported `module`: what a
    start-up pays for (the CLI's, the ingest worker's)."""
    code = f"import sys, {module}; print(*sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    )
    return set(result.stdout.split())


def write_jsonl(path: Path, records: list[dict[str, Any] | str]) -> Path:
    """Write records (dicts, or raw lines as strings) as JSON Lines."""
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def example_policy(tmp_path: Path) -> Path:
    """The policy file from the foundation issue, as written."""
    path = tmp_path / "policies" / "social.yaml"
    path.parent.mkdir()
    path.write_text(EXAMPLE_POLICY, encoding="utf-8")
    return path
