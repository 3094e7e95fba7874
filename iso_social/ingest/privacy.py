"""Pseudonymisation at ingest: customers' handles and addresses replaced by keyed hashes.

HMAC-SHA256 with a secret key (from `ISO_SOCIAL_PSEUDONYM_KEY`, never stored with the data)
of the lower-cased author: the same customer gets the same pseudonym in every file and channel
ingested with the same key, so repeat contacts stay visible, while the store no longer holds the
handle. Agents, bots and system senders keep their names (per-agent results need them). Message
text is kept as written: the privacy controls must see what was posted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac

from iso_social.domain import AuthorRole, Call, Message, Record

PREFIX = "p-"


def pseudonym(value: str, key: bytes) -> str:
    """The keyed pseudonym of a handle or address."""
    digest = hmac.new(key, value.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()
    return PREFIX + digest[:20]


def pseudonymise(record: Record, key: bytes) -> Record:
    """The record with its customer's identity replaced."""
    if (
        isinstance(record, Message)
        and record.author_role is AuthorRole.CUSTOMER
        and record.author
        and not record.author.startswith(PREFIX)
    ):
        return record._replace(author=pseudonym(record.author, key))
    if isinstance(record, Call) and record.customer and not record.customer.startswith(PREFIX):
        return dataclasses.replace(record, customer=pseudonym(record.customer, key))
    return record
