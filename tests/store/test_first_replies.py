"""The store's first replies (`first_replies`) are what `first_reply` finds in the conversations
`conversations_in` reads, on both databases, for every kind of response rule; a check of
first-reply controls alone (`first_response_time`, `response_rate`) uses them and gives the
findings a check over conversations gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from iso_social import pipeline
from iso_social.check import evaluate_policy
from iso_social.controls._timeline import ResponseParams, first_reply, response_filter
from iso_social.domain import AuthorRole, Channel, FirstReply, Visibility, Window
from iso_social.policy import load_policies
from iso_social.store import repository
from iso_social.store.database import opened_engine
from iso_social.synthetic import synthetic_records
from tests.conftest import canonical_message

START = datetime(2026, 10, 1, tzinfo=UTC)
WINDOW = Window(START + timedelta(days=2), START + timedelta(days=9))

RULES = [
    ResponseParams(),
    ResponseParams(include_private=False),
    ResponseParams(include_automated=True),
    ResponseParams(include_internal_notes=True),
    ResponseParams(roles=(AuthorRole.AGENT, AuthorRole.BOT)),
    ResponseParams(roles=tuple(AuthorRole), include_automated=True, include_internal_notes=True),
]


def _edge_cases() -> list[dict[str, Any]]:
    """Conversations whose first messages tie, reply at the same moment, reply only by a bot,
    an automated message, a private message or an internal note, or lie across the window."""
    day = (START + timedelta(days=3)).isoformat()
    later = (START + timedelta(days=3, minutes=20)).isoformat()

    def msg(mid: str, cid: str, at: str, **fields: Any) -> dict[str, Any]:
        return canonical_message(mid, at, conversation_id=cid, **fields)

    out = {"direction": "outbound", "author": "@brand", "author_role": "agent"}
    return [
        # two customer messages and two replies at the same moments: the smaller id is first
        msg("tie-b", "x-tie", day),
        msg("tie-a", "x-tie", day),
        msg("tie-r2", "x-tie", later, **out),
        msg("tie-r1", "x-tie", later, **out),
        # tied first messages of different visibility: the smaller id's is the first's
        msg("vis-b", "x-vis", day),
        msg("vis-a", "x-vis", day, visibility="private"),
        # a reply at the very moment of the question counts
        msg("same-q", "x-same", day),
        msg("same-r", "x-same", day, **out),
        # replies of every kind but a plain human one, then a human one after the window
        msg("kinds-q", "x-kinds", day),
        msg("kinds-bot", "x-kinds", later, **{**out, "author_role": "bot"}),
        msg("kinds-auto", "x-kinds", later, **out, automated=True),
        msg("kinds-note", "x-kinds", later, **{**out, "direction": "internal"}),
        msg("kinds-dm", "x-kinds", later, **out, visibility="private"),
        msg("kinds-late", "x-kinds", (WINDOW.end + timedelta(hours=1)).isoformat(), **out),
        # a reply before the question does not answer it
        msg("early-r", "x-early", day, **out),
        msg("early-q", "x-early", later),
        # asked before the window: outside the population
        msg("before-q", "x-before", (WINDOW.start - timedelta(minutes=5)).isoformat()),
        msg("before-r", "x-before", later, **out),
        # no customer message at all, and a question after the window
        msg("none-r", "x-none", day, **out),
        msg("after-q", "x-after", (WINDOW.end + timedelta(minutes=1)).isoformat()),
        # on another channel
        msg("mail-q", "x-mail", day, channel="email", visibility="private"),
        msg("mail-r", "x-mail", later, **out, channel="email", visibility="private"),
    ]


@pytest.fixture
def stored(tmp_path: Path, db_url: str) -> str:
    records = [*synthetic_records(3000, seed=11, start=START, days=12), *_edge_cases()]
    path = tmp_path / "logs.jsonl"
    path.write_text("".join(json.dumps(r, default=str) + "\n" for r in records), encoding="utf-8")
    pipeline.ingest_logs([path], db=db_url)
    return db_url


def _from_conversations(
    db_url: str, channels: tuple[Channel, ...], rule: ResponseParams
) -> list[FirstReply]:
    with opened_engine(db_url) as engine, engine.connect() as connection:
        conversations = repository.conversations_in(connection, WINDOW, channels)
    found = [first_reply(c, rule) for c in conversations]
    return [r for r in found if r is not None and r.asked_at in WINDOW]


@pytest.mark.parametrize("rule", RULES, ids=range(len(RULES)))
@pytest.mark.parametrize("channels", [(), (Channel.TWITTER,), (Channel.EMAIL, Channel.TWITTER)])
def test_the_store_pairs_what_the_conversations_hold(
    stored: str, rule: ResponseParams, channels: tuple[Channel, ...]
) -> None:
    with opened_engine(stored) as engine, engine.connect() as connection:
        found = repository.first_replies(connection, WINDOW, channels, response_filter(rule))
    assert found == _from_conversations(stored, channels, rule)
    assert len(found) > 100


def test_the_edge_cases_pair_as_the_rules_say(stored: str) -> None:
    def pairs(rule: ResponseParams) -> dict[str, tuple[str, str | None]]:
        with opened_engine(stored) as engine, engine.connect() as connection:
            found = repository.first_replies(connection, WINDOW, (), response_filter(rule))
        return {r.conversation_id: (r.asked_id, r.reply_id) for r in found}

    plain = pairs(ResponseParams())
    assert plain["x-tie"] == ("tie-a", "tie-r1")
    assert plain["x-same"] == ("same-q", "same-r")
    assert plain["x-kinds"] == ("kinds-q", "kinds-dm")
    assert plain["x-early"] == ("early-q", None)
    assert plain["x-mail"] == ("mail-q", "mail-r")
    assert not {"x-before", "x-none", "x-after"} & plain.keys()
    with opened_engine(stored) as engine, engine.connect() as connection:
        found = repository.first_replies(connection, WINDOW, (), response_filter(ResponseParams()))
    tied = next(r for r in found if r.conversation_id == "x-vis")
    assert (tied.asked_id, tied.asked_visibility) == ("vis-a", Visibility.PRIVATE)
    assert pairs(ResponseParams(include_private=False))["x-kinds"] == ("kinds-q", None)
    bots = ResponseParams(roles=(AuthorRole.BOT,), include_private=False)
    assert pairs(bots)["x-kinds"] == ("kinds-q", "kinds-bot")


def test_every_rule_selects_the_messages_counts_as_response_accepts(stored: str) -> None:
    with opened_engine(stored) as engine, engine.connect() as connection:
        conversations = repository.conversations_in(connection, WINDOW)
    messages = [m for c in conversations for m in c.messages]
    from iso_social.controls._timeline import counts_as_response

    for rule in RULES:
        selects = response_filter(rule)
        assert [selects.matches(m) for m in messages] == [
            counts_as_response(m, rule) for m in messages
        ]


def test_the_first_response_is_the_first_message_counts_as_response_accepts(stored: str) -> None:
    """`first_response` writes `counts_as_response`'s tests out: from every message's moment of
    every conversation, under every rule, it finds what they accept first."""
    from iso_social.controls._timeline import counts_as_response, first_response

    with opened_engine(stored) as engine, engine.connect() as connection:
        conversations = repository.conversations_in(connection, WINDOW)
    found = 0
    for rule in RULES:
        for conversation in conversations:
            for after in {m.created_at for m in conversation.messages}:
                expected = next(
                    (
                        m
                        for m in conversation.messages
                        if m.created_at >= after and counts_as_response(m, rule)
                    ),
                    None,
                )
                assert first_response(conversation, after, rule) == expected
                found += expected is not None
    assert found > 100


FRT_POLICY = """\
id: POL-FRT
title: First replies
version: "1.0"
owner: Quality manager
approved_by: Head of customer service
approved_on: 2026-09-01
effective_from: 2026-09-01
calendars:
  office:
    timezone: Europe/Madrid
    hours: {mon-fri: ["09:00-18:00"]}
controls:
  - id: FRT-ALL
    type: first_response_time
    title: First human reply within an hour
    clauses: ["ISO 9001:2015 8.2.1"]
    severity: major
    params: {deadline: 1h, target: 0.9}
  - id: RR-ALL
    type: response_rate
    title: Public contacts get a reply
    clauses: ["ISO 10002:2018 8.3"]
    severity: major
    params: {target: 0.9, grace: 2h}
  - id: RR-EVERY
    type: response_rate
    title: Every contact gets a reply from an agent or a bot
    clauses: ["ISO 10002:2018 8.3"]
    severity: minor
    params: {target: 0.9, public_only: false, response: {roles: [agent, bot]}}
  - id: FRT-TW-PUBLIC
    type: first_response_time
    title: Public first reply on Twitter within 30 minutes
    channels: [twitter]
    clauses: ["ISO 9001:2015 8.2.1"]
    severity: minor
    params:
      deadline: 30m
      target: 0.8
      response: {include_private: false}
      per_channel: {twitter: {calendar: office}}
"""


def test_a_check_of_first_reply_controls_alone_reads_no_conversation(
    stored: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "policies" / "frt.yaml"
    path.parent.mkdir()
    path.write_text(FRT_POLICY, encoding="utf-8")
    policies = load_policies([path])
    with opened_engine(stored) as engine, engine.connect() as connection:
        conversations = repository.conversations_in(connection, WINDOW)
    expected = evaluate_policy(policies, WINDOW, conversations)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a check of first-reply controls read whole conversations")

    monkeypatch.setattr(repository, "conversations_in", refuse)
    monkeypatch.setattr(repository, "calls_in", refuse)
    run, findings = pipeline.run_check_with_findings(
        policies, db=stored, start=WINDOW.start, end=WINDOW.end
    )
    assert findings == expected
    assert all(f.outcome.population > 100 for f in findings)
    assert any(f.outcome.evidence for f in findings)
    assert [c["id"] for c in run.document["controls"]] == [
        "FRT-ALL",
        "FRT-TW-PUBLIC",
        "RR-ALL",
        "RR-EVERY",
    ]
