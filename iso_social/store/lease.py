"""A lease row with an expiry: only one scheduler acts on a database at a time.

The holder renews the lease well before it expires; a holder that dies stops renewing, and the
lease can be taken over once it has expired, so a crashed scheduler never blocks a new one for
longer than the lease period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, delete, insert, select, update

from iso_social.domain import now_utc
from iso_social.store.database import create_schema, transaction
from iso_social.store.tables import SCHEDULER_LEASE


@dataclass(frozen=True)
class Lease:
    """Who holds the lease, and until when."""

    holder: str
    expires_at: datetime


def acquire(engine: Engine, holder: str, ttl: timedelta, name: str = "scheduler") -> Lease | None:
    """Take or renew the lease; return the current other holder's lease when it is taken."""
    create_schema(engine)
    now = now_utc()
    with transaction(engine) as connection:
        row = connection.execute(
            select(SCHEDULER_LEASE).where(SCHEDULER_LEASE.c.name == name)
        ).first()
        if row is None:
            connection.execute(
                insert(SCHEDULER_LEASE).values(
                    name=name, holder=holder, acquired_at=now, expires_at=now + ttl
                )
            )
            return None
        if row.holder != holder and row.expires_at > now:
            return Lease(row.holder, row.expires_at)
        connection.execute(
            update(SCHEDULER_LEASE)
            .where(SCHEDULER_LEASE.c.name == name)
            .values(
                holder=holder,
                expires_at=now + ttl,
                acquired_at=row.acquired_at if row.holder == holder else now,
            )
        )
    return None


def release(engine: Engine, holder: str, name: str = "scheduler") -> None:
    """Give the lease up (only its holder can)."""
    with transaction(engine) as connection:
        connection.execute(
            delete(SCHEDULER_LEASE).where(
                SCHEDULER_LEASE.c.name == name, SCHEDULER_LEASE.c.holder == holder
            )
        )
