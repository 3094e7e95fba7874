"""The ledger of check runs: append-only and hash-chained. The only code that writes evidence.

Each run's digest is SHA-256 over the previous run's digest and the run's canonical JSON, so
editing, deleting or reordering a recorded run breaks the chain from that run on.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import Connection

from iso_social.errors import EvidenceError
from iso_social.evidence.models import GENESIS_DIGEST, RecordedRun, canonical_json
from iso_social.store.database import create_schema, transaction
from iso_social.store.tables import AUDIT_RUN, FINDING

_RUN = AUDIT_RUN
_FINDING = FINDING


def chain_digest(previous_digest: str, document: dict[str, object]) -> str:
    """The digest that links a run to its predecessor."""
    return hashlib.sha256(
        previous_digest.encode("ascii") + b"\n" + canonical_json(document)
    ).hexdigest()


def _last(connection: Connection) -> tuple[int, str] | None:
    row = connection.execute(
        select(_RUN.c.seq, _RUN.c.digest).order_by(_RUN.c.seq.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def record_run(
    engine: Engine,
    document: dict[str, object],
    created_at: datetime,
    window_start: datetime,
    window_end: datetime,
) -> RecordedRun:
    """Append a run to the ledger, chained to the last one, in one transaction."""
    create_schema(engine)
    with transaction(engine) as connection:
        last = _last(connection)
        previous = last[1] if last else GENESIS_DIGEST
        digest = chain_digest(previous, document)
        result = connection.execute(
            insert(_RUN).values(
                run_id=document["run_id"],
                created_at=created_at,
                tool_version=document["tool_version"],
                window_start=window_start,
                window_end=window_end,
                document=canonical_json(document).decode("utf-8"),
                digest=digest,
                previous_digest=previous,
            )
        )
        key = result.inserted_primary_key
        assert key is not None  # noqa: S101
        seq = int(key[0])
        controls = document.get("controls")
        assert isinstance(controls, list)  # noqa: S101
        if controls:
            connection.execute(
                insert(_FINDING),
                [
                    {
                        "run_seq": seq,
                        "control_id": c["id"],
                        "control_type": c["type"],
                        "policy_id": c["policy_id"],
                        "verdict": c["verdict"],
                        "population": c["population"],
                        "nonconforming": c["nonconforming"],
                        "rate": c["rate"],
                    }
                    for c in controls
                ],
            )
    return RecordedRun(seq, str(document["run_id"]), created_at, document, digest, previous)


def load_run(engine: Engine, reference: str = "latest") -> RecordedRun:
    """A recorded run by id, or `latest`, or `latest-N` (N runs before the latest)."""
    create_schema(engine)
    with engine.connect() as connection:
        query = select(_RUN)
        if reference == "latest" or reference.startswith("latest-"):
            back = 0
            if reference != "latest":
                suffix = reference.removeprefix("latest-")
                if not suffix.isdigit():
                    raise EvidenceError(
                        f"--run: '{reference}' is not a run reference",
                        hint="use latest, latest-N or a run id",
                    )
                back = int(suffix)
            row = connection.execute(
                query.order_by(_RUN.c.seq.desc()).offset(back).limit(1)
            ).first()
        else:
            row = connection.execute(query.where(_RUN.c.run_id == reference)).first()
    if row is None:
        raise EvidenceError(
            f"no recorded run '{reference}' in this database",
            hint="run `iso-social check` first, or list runs with `iso-social evidence list`",
        )
    return RecordedRun(
        row.seq,
        row.run_id,
        row.created_at,
        json.loads(row.document),
        row.digest,
        row.previous_digest,
    )


def list_runs(engine: Engine, limit: int = 50) -> list[RecordedRun]:
    """The most recent runs, newest first."""
    create_schema(engine)
    with engine.connect() as connection:
        rows = connection.execute(select(_RUN).order_by(_RUN.c.seq.desc()).limit(limit)).all()
    return [
        RecordedRun(
            r.seq, r.run_id, r.created_at, json.loads(r.document), r.digest, r.previous_digest
        )
        for r in rows
    ]
