"""Synthetic conversation logs in the canonical format, deterministic for a seed.

Reply delays follow a log-normal fitted to the real Twitter customer-support corpus (twcs:
median 13 min, 90th percentile 143 min); e-mail is answered in office hours after an automated
acknowledgement; phone calls wait in a queue, and some callers hang up. A share of the text holds
personal data (phone numbers, e-mail addresses, test card numbers, DNI) so privacy controls and
report masking have something to find. A case still open two days after the customer wrote
(never answered, or an e-mail answered after 48 hours) is escalated to a supervisor, as the
shipped complaint policy asks: most within its four hours, some late, a few never. Nothing here
is real: names, handles and numbers are made up.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

TWCS_MEDIAN_S = 13 * 60
TWCS_P90_S = 143 * 60
_SIGMA = (math.log(TWCS_P90_S) - math.log(TWCS_MEDIAN_S)) / 1.2815515655446004
_MU = math.log(TWCS_MEDIAN_S)

_CUSTOMER_EN = [
    "@{brand} my order has not arrived and nobody answers",
    "@{brand} I was charged twice this month, please help",
    "@{brand} the app keeps crashing when I try to pay",
    "@{brand} still waiting for my refund, three weeks now",
    "@{brand} my card was blocked while travelling",
    "@{brand} can you call me on {phone}? I have been on hold for an hour",
]
_CUSTOMER_ES = [
    "@{brand} mi pedido no ha llegado y nadie contesta",
    "@{brand} me habéis cobrado dos veces este mes",
    "@{brand} la app se cierra al intentar pagar, ¿qué hago?",
    "@{brand} sigo esperando el reembolso, ya van tres semanas",
    "@{brand} me han bloqueado la tarjeta {card} estando de viaje",
    "@{brand} llamadme al {phone}, llevo una hora esperando",
]
_AGENT_EN = [
    "@{customer} Sorry to hear that. Please send us a DM so we can check your account. ^{initials}",
    "@{customer} We're on it: could you DM us your order number? ^{initials}",
    "@{customer} Thanks for your patience, the refund was issued today. ^{initials}",
]
_AGENT_ES = [
    "@{customer} Lamentamos lo ocurrido. Escríbenos por DM para revisar tu cuenta. ^{initials}",
    "@{customer} Te ayudamos por mensaje privado, ¿nos indicas tu número de pedido? ^{initials}",
    "@{customer} Gracias por la espera, el reembolso ya está tramitado. ^{initials}",
]
_EMAIL_BODY = [
    "Hello, my invoice {n} shows a wrong amount. My phone is {phone}. Regards, {name}",
    "Hola, quiero reclamar el cargo del día {day}. Mi DNI es {dni}. Un saludo, {name}",
    "Dear team, please update my address. You can reach me at {email}. {name}",
]
_NAMES = [
    "Ana García",
    "Luis Pérez",
    "Marta Ruiz",
    "John Smith",
    "Emma Brown",
    "Jorge Díaz",
    "Lucía Gómez",
    "Peter Jones",
    "Sara Martín",
    "Pablo Romero",
]
# what the generator writes changed in a way the same seed shows (2: escalation records);
# the benchmarks name their cached data after it
GENERATOR_VERSION = 2
ESCALATE_AFTER = timedelta(hours=48)  # the shipped complaint policy's age trigger
_CARDS = ["4111 1111 1111 1111", "5500 0000 0000 0004", "4012 8888 8888 1881"]
_DNIS = ["12345678Z", "00000000T", "87654321X"]
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def reply_delay_seconds(rng: random.Random) -> float:
    """A reply delay drawn from the log-normal fitted to twcs reply times."""
    return rng.lognormvariate(_MU, _SIGMA)


def _phone(rng: random.Random) -> str:
    return f"+34 6{rng.randint(10, 99)} {rng.randint(100, 999)} {rng.randint(100, 999)}"


def _dni(rng: random.Random) -> str:
    number = rng.randint(10_000_000, 99_999_999)
    return f"{number}{_DNI_LETTERS[number % 23]}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _message(
    mid: str,
    cid: str,
    channel: str,
    direction: str,
    author: str,
    role: str,
    visibility: str,
    at: datetime,
    text: str,
    reply_to: str | None = None,
    automated: bool = False,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "kind": "message",
        "message_id": mid,
        "conversation_id": cid,
        "channel": channel,
        "direction": direction,
        "author": author,
        "author_role": role,
        "visibility": visibility,
        "created_at": _iso(at),
        "text": text,
        "in_reply_to": reply_to,
    }
    if automated:
        record["automated"] = True
    return record


class _Generator:
    def __init__(self, seed: int, start: datetime, days: int, brand: str) -> None:
        self.rng = random.Random(seed)
        # escalations draw from a stream of their own, so that the messages, statuses and
        # calls of a seed are those the generator wrote before it escalated anything
        self.escalation_rng = random.Random(f"escalations-{seed}")
        self.start, self.days, self.brand = start, days, brand
        self.seq = 0

    def escalations(self, cid: str, first_at: datetime) -> list[dict[str, Any]]:
        """A case still open `ESCALATE_AFTER` after the customer wrote goes to a supervisor:
        85% within the policy's four hours, 10% late, 5% never."""
        rng = self.escalation_rng
        draw = rng.random()
        if draw >= 0.95:
            return []
        delay = rng.uniform(0.25, 3.75) if draw < 0.85 else rng.uniform(4.5, 12)
        at = first_at + ESCALATE_AFTER + timedelta(hours=delay)
        by = f"agent-{rng.randint(1, 40)}"
        return [
            {
                "kind": "escalation",
                "conversation_id": cid,
                "created_at": _iso(at),
                "to": "supervisor",
                "by": by,
            }
        ]

    def next_id(self, prefix: str) -> str:
        self.seq += 1
        return f"{prefix}{self.seq:08d}"

    def moment(self) -> datetime:
        offset = self.rng.random() * self.days * 86400
        return self.start + timedelta(seconds=offset)

    def fill(self, template: str, customer: str = "") -> str:
        rng = self.rng
        return template.format(
            brand=self.brand,
            customer=customer,
            phone=_phone(rng),
            card=rng.choice(_CARDS),
            dni=_dni(rng),
            name=rng.choice(_NAMES),
            n=rng.randint(1000, 9999),
            day=rng.randint(1, 28),
            email=f"{rng.choice(_NAMES).split()[0].lower()}{rng.randint(1, 99)}@example.com",
            initials="".join(rng.sample("ABCDEFGHJKLMNPRS", 2)),
        )

    def twitter(self) -> list[dict[str, Any]]:
        rng = self.rng
        cid = self.next_id("tw-c")
        spanish = rng.random() < 0.5
        customer = f"@{'cliente' if spanish else 'user'}_{rng.randint(1000, 99999)}"
        at = self.moment()
        first = self.next_id("tw-m")
        records = [
            _message(
                first,
                cid,
                "twitter",
                "inbound",
                customer,
                "customer",
                "public",
                at,
                self.fill(rng.choice(_CUSTOMER_ES if spanish else _CUSTOMER_EN)),
            )
        ]
        if rng.random() < 0.06:  # ignored complaint: never answered
            return records + self.escalations(cid, at)
        reply_at = at + timedelta(seconds=reply_delay_seconds(rng))
        reply = self.next_id("tw-m")
        records.append(
            _message(
                reply,
                cid,
                "twitter",
                "outbound",
                f"@{self.brand}",
                "agent",
                "public",
                reply_at,
                self.fill(rng.choice(_AGENT_ES if spanish else _AGENT_EN), customer),
                first,
            )
        )
        if rng.random() < 0.5:  # the conversation moves to direct messages
            dm_at = reply_at + timedelta(minutes=rng.uniform(2, 90))
            dm = self.next_id("tw-m")
            records.append(
                _message(
                    dm,
                    cid,
                    "twitter",
                    "inbound",
                    customer,
                    "customer",
                    "private",
                    dm_at,
                    self.fill(rng.choice(_EMAIL_BODY)),
                    reply,
                )
            )
            answer_at = dm_at + timedelta(seconds=reply_delay_seconds(rng))
            records.append(
                _message(
                    self.next_id("tw-m"),
                    cid,
                    "twitter",
                    "outbound",
                    f"@{self.brand}",
                    "agent",
                    "private",
                    answer_at,
                    "Gracias, ya lo hemos resuelto." if spanish else "Thanks, this is now fixed.",
                    dm,
                )
            )
        return records

    def email(self) -> list[dict[str, Any]]:
        rng = self.rng
        cid = self.next_id("em-c")
        name = rng.choice(_NAMES)
        customer = f"{name.split()[0].lower()}.{rng.randint(1, 999)}@example.com"
        at = self.moment()
        first = self.next_id("em-m")
        records = [
            _message(
                first,
                cid,
                "email",
                "inbound",
                customer,
                "customer",
                "private",
                at,
                self.fill(rng.choice(_EMAIL_BODY)),
            )
        ]
        records.append(
            _message(
                self.next_id("em-m"),
                cid,
                "email",
                "outbound",
                "noreply@brand.example",
                "system",
                "private",
                at + timedelta(seconds=rng.uniform(5, 60)),
                "We have received your message (automatic reply).",
                first,
                automated=True,
            )
        )
        if rng.random() < 0.05:  # auto-acknowledged, then silence: a breach, not a response
            return records + self.escalations(cid, at)
        # answered within office hours most of the time; some take days
        hours = rng.expovariate(1 / 5) if rng.random() < 0.85 else rng.uniform(20, 90)
        reply_at = at + timedelta(hours=hours)
        if reply_at - at > ESCALATE_AFTER:
            records += self.escalations(cid, at)
        reply = self.next_id("em-m")
        records.append(
            _message(
                reply,
                cid,
                "email",
                "outbound",
                "support@brand.example",
                "agent",
                "private",
                reply_at,
                f"Dear {name.split()[0]}, thank you for writing to us.",
                first,
            )
        )
        records.append(
            {
                "kind": "status",
                "conversation_id": cid,
                "created_at": _iso(reply_at + timedelta(minutes=1)),
                "status": "resolved",
            }
        )
        return records

    def call(self) -> dict[str, Any]:
        rng = self.rng
        offered = self.moment()
        wait = rng.expovariate(1 / 8)
        record: dict[str, Any] = {
            "kind": "call",
            "call_id": self.next_id("call-"),
            "channel": "phone",
            "queue": rng.choice(["general", "cards", "loans"]),
            "customer": f"caller-{rng.randint(1, 5000)}",
            "offered_at": _iso(offered),
        }
        if rng.random() < 0.06:  # hang up while waiting
            record.update(
                answered_at=None,
                outcome="abandoned",
                ended_at=_iso(offered + timedelta(seconds=rng.uniform(2, 120))),
            )
        else:
            answered = offered + timedelta(seconds=wait)
            record.update(
                answered_at=_iso(answered),
                outcome="answered",
                ended_at=_iso(answered + timedelta(seconds=rng.uniform(60, 900))),
            )
        return record


def synthetic_records(
    messages: int,
    *,
    seed: int = 1,
    start: datetime | None = None,
    days: int = 31,
    brand: str = "AcmeBank",
) -> Iterator[dict[str, Any]]:
    """Yield canonical records with about `messages` messages, plus status records and calls.

    Roughly 70% of conversations are on Twitter and 30% by e-mail; one call is offered for every
    five messages. The same arguments always yield the same records.
    """
    generator = _Generator(seed, start or datetime(2026, 10, 1, tzinfo=UTC), days, brand)
    produced = 0
    while produced < messages:
        records = generator.twitter() if generator.rng.random() < 0.7 else generator.email()
        for record in records:
            if record["kind"] == "message":
                if produced >= messages:
                    break
                produced += 1
            yield record
        if generator.rng.random() < 0.35:
            yield generator.call()
