"""The ledger of check runs: append-only and hash-chained. The only code that writes run evidence.

Each run's digest is SHA-256 over the previous run's digest, the run's sequence number and its
canonical JSON, so editing a stored run, deleting one or reordering them breaks the chain from
that run on; `verify_chain` finds the first break. Policy files are kept as they were
(content-addressed snapshots) so an export can hand the auditor the exact criteria.

What a chain cannot show by itself is the removal of the newest runs: keep the latest digest
(printed by `check`, on every report) and pass it to `verify_chain(head=...)`.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.engine import Connection

from iso_social.errors import EvidenceError
from iso_social.evidence.models import (
    GENESIS_DIGEST,
    RecordedRun,
    canonical_json,
    iso_utc,
    summary_of,
)
from iso_social.policy import Policy
from iso_social.store.database import create_schema, transaction
from iso_social.store.tables import AUDIT_RUN, FINDING, POLICY_SNAPSHOT

_LEDGER_LOCK_KEY = 0x150_5041  # PostgreSQL advisory lock id for appending runs


def chain_digest(previous_digest: str, seq: int, document: dict[str, object] | bytes) -> str:
    """The digest that links run `seq` to its predecessor (`document` may come serialised
    already, by `canonical_json`: a large run's takes a second)."""
    body = document if isinstance(document, bytes) else canonical_json(document)
    return hashlib.sha256(f"{previous_digest}\n{seq}\n".encode("ascii") + body).hexdigest()


# zlib's fastest level: a large run's 50 MB document in 0.1 s to 5.5 MB (level 6: 4.3 MB in
# three times as long), less than the time SQLite took to write the text
_COMPRESSION = 1


def stored_document(row: Any) -> bytes:
    """A run row's canonical JSON as stored: compressed since revision 0006, text before it."""
    if row.document_zlib is None:
        return str(row.document).encode("utf-8")
    return zlib.decompress(row.document_zlib)


def _lock(connection: Connection) -> None:
    """Serialise appends (SQLite's BEGIN IMMEDIATE already does; PostgreSQL needs a lock)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LEDGER_LOCK_KEY})


def _snapshot_policies(connection: Connection, policies: Sequence[Policy], at: datetime) -> None:
    known = set(
        connection.execute(
            select(POLICY_SNAPSHOT.c.sha256).where(
                POLICY_SNAPSHOT.c.sha256.in_([p.sha256 for p in policies])
            )
        ).scalars()
    )
    fresh = {p.sha256: p for p in policies if p.sha256 not in known}
    if fresh:
        connection.execute(
            insert(POLICY_SNAPSHOT),
            [
                {
                    "sha256": sha,
                    "path": str(p.path),
                    "recorded_at": at,
                    "content": p.source.decode("utf-8-sig"),
                }
                for sha, p in fresh.items()
            ],
        )


def record_run(
    engine: Engine,
    document: dict[str, object],
    created_at: datetime,
    window_start: datetime,
    window_end: datetime,
    policies: Sequence[Policy] = (),
    after: Callable[[Connection, RecordedRun], None] | None = None,
) -> RecordedRun:
    """Append a run to the ledger, chained to the last one, in one transaction; `after` runs
    inside that transaction (the register update), so a run is recorded whole or not at all."""
    create_schema(engine)
    with transaction(engine) as connection:
        _lock(connection)
        last = connection.execute(
            select(AUDIT_RUN.c.seq, AUDIT_RUN.c.digest).order_by(AUDIT_RUN.c.seq.desc()).limit(1)
        ).first()
        seq = last[0] + 1 if last else 1
        previous = last[1] if last else GENESIS_DIGEST
        body = canonical_json(document)
        digest = chain_digest(previous, seq, body)
        connection.execute(
            insert(AUDIT_RUN).values(
                seq=seq,
                run_id=document["run_id"],
                created_at=created_at,
                tool_version=document["tool_version"],
                window_start=window_start,
                window_end=window_end,
                document="",
                document_zlib=zlib.compress(body, _COMPRESSION),
                digest=digest,
                previous_digest=previous,
            )
        )
        controls = document.get("controls")
        assert isinstance(controls, list)  # noqa: S101
        if controls:
            connection.execute(
                insert(FINDING),
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
        _snapshot_policies(connection, policies, created_at)
        run = RecordedRun(seq, str(document["run_id"]), created_at, document, digest, previous)
        if after is not None:
            after(connection, run)
    return run


def _run(row: Any) -> RecordedRun:
    return RecordedRun(
        row.seq,
        row.run_id,
        row.created_at,
        json.loads(stored_document(row)),
        row.digest,
        row.previous_digest,
    )


def load_run(engine: Engine, reference: str = "latest") -> RecordedRun:
    """A recorded run by id, or `latest`, or `latest-N` (N runs before the latest)."""
    create_schema(engine)
    with engine.connect() as connection:
        query = select(AUDIT_RUN)
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
                query.order_by(AUDIT_RUN.c.seq.desc()).offset(back).limit(1)
            ).first()
        else:
            row = connection.execute(query.where(AUDIT_RUN.c.run_id == reference)).first()
    if row is None:
        raise EvidenceError(
            f"no recorded run '{reference}' in this database",
            hint="run `iso-social check` first, or list runs with `iso-social evidence list`",
        )
    return _run(row)


@dataclass(frozen=True)
class RunHeader:
    """A recorded run as its ledger row and per-control result rows give it, without its
    document: what lists and trends read. A run over a million messages has a document of
    50 MB, which takes half a second and 300 MB to parse: `evidence list` and a management
    review over a period's runs read every run's header and parse one document at most."""

    seq: int
    run_id: str
    created_at: datetime
    window_start: datetime
    window_end: datetime
    digest: str
    verdicts: dict[str, str]  # by control id, in the run's order
    rates: dict[str, float | None]  # by control id

    @property
    def summary(self) -> dict[str, int]:
        """The document's `summary`: counts per verdict and the totals CI scripts read."""
        return summary_of(list(self.verdicts.values()))


def run_headers(
    engine: Engine,
    limit: int | None = None,
    *,
    through: int | None = None,
    ended_after: datetime | None = None,
    ended_by: datetime | None = None,
) -> list[RunHeader]:
    """The most recent runs' headers, newest first: at most `limit`, and only those up to
    and including sequence number `through`, and whose audit window ends after `ended_after`
    and by `ended_by`, when given."""
    create_schema(engine)
    query = select(
        AUDIT_RUN.c.seq,
        AUDIT_RUN.c.run_id,
        AUDIT_RUN.c.created_at,
        AUDIT_RUN.c.window_start,
        AUDIT_RUN.c.window_end,
        AUDIT_RUN.c.digest,
    ).order_by(AUDIT_RUN.c.seq.desc())
    if through is not None:
        query = query.where(AUDIT_RUN.c.seq <= through)
    if ended_after is not None:
        query = query.where(AUDIT_RUN.c.window_end > ended_after)
    if ended_by is not None:
        query = query.where(AUDIT_RUN.c.window_end <= ended_by)
    if limit is not None:
        query = query.limit(limit)
    with engine.connect() as connection:
        heads = connection.execute(query).all()
        if not heads:
            return []
        results: dict[int, tuple[dict[str, str], dict[str, float | None]]] = {
            head.seq: ({}, {}) for head in heads
        }
        rows = connection.execute(
            select(FINDING.c.run_seq, FINDING.c.control_id, FINDING.c.verdict, FINDING.c.rate)
            .where(FINDING.c.run_seq.between(heads[-1].seq, heads[0].seq))
            .order_by(FINDING.c.run_seq, FINDING.c.id)
        )
        for run_seq, control_id, verdict, rate in rows:
            if run_seq in results:
                verdicts, rates = results[run_seq]
                verdicts.setdefault(control_id, verdict)
                rates.setdefault(control_id, rate)
    return [
        RunHeader(
            head.seq,
            head.run_id,
            head.created_at,
            head.window_start,
            head.window_end,
            head.digest,
            *results[head.seq],
        )
        for head in heads
    ]


def history(engine: Engine, seq: int, runs: int) -> list[dict[str, Any]]:
    """The `runs` runs up to and including run `seq`, oldest first, each with its window's end
    and every control's verdict (from the findings index, not the documents)."""
    return [
        {
            "seq": head.seq,
            "run_id": head.run_id,
            "window_to": head.window_end.isoformat(),
            "findings": head.verdicts,
        }
        for head in reversed(run_headers(engine, runs, through=seq))
    ]


def policy_snapshot(engine: Engine, sha256: str) -> str | None:
    """The text of a policy file as recorded when a run used it."""
    with engine.connect() as connection:
        return connection.execute(
            select(POLICY_SNAPSHOT.c.content).where(POLICY_SNAPSHOT.c.sha256 == sha256)
        ).scalar_one_or_none()


@dataclass(frozen=True)
class ChainProblem:
    """The first place where the chain does not hold."""

    seq: int
    run_id: str
    problem: str


@dataclass(frozen=True)
class ChainReport:
    """The result of verifying the ledger."""

    runs: int
    head: str
    problem: ChainProblem | None

    @property
    def intact(self) -> bool:
        """True when every run's content and link verify."""
        return self.problem is None


def verify_chain(engine: Engine, head: str | None = None) -> ChainReport:
    """Recompute every run's digest and link in sequence order; report the first break. The
    documents are read one at a time (a ledger of large runs holds gigabytes of them)."""
    create_schema(engine)
    previous, expected_seq, count, digests = GENESIS_DIGEST, 1, 0, set()
    with engine.connect() as connection:
        findings: dict[int, list[tuple[str, str, int, int]]] = {}
        for f in connection.execute(
            select(
                FINDING.c.run_seq,
                FINDING.c.control_id,
                FINDING.c.verdict,
                FINDING.c.population,
                FINDING.c.nonconforming,
            )
        ):
            findings.setdefault(f[0], []).append((f[1], f[2], f[3], f[4]))
        sequence = connection.execute(select(AUDIT_RUN.c.seq).order_by(AUDIT_RUN.c.seq)).scalars()
        for seq in list(sequence):
            row = connection.execute(select(AUDIT_RUN).where(AUDIT_RUN.c.seq == seq)).one()
            count += 1
            problem = _check_row(row, previous, expected_seq, findings.get(row.seq, []))
            if problem:
                return ChainReport(count, previous, ChainProblem(row.seq, row.run_id, problem))
            previous, expected_seq = row.digest, row.seq + 1
            digests.add(row.digest)
    if head is not None and head not in digests:
        return ChainReport(
            count,
            previous,
            ChainProblem(
                expected_seq,
                "?",
                f"the expected digest {head[:16]}… is not in the ledger: "
                "runs were removed from its end",
            ),
        )
    return ChainReport(count, previous, None)


def _check_row(
    row: Any, previous: str, expected_seq: int, findings: list[tuple[str, str, int, int]]
) -> str | None:
    seq, digest = row.seq, row.digest
    if seq != expected_seq:
        return f"sequence {seq} follows {expected_seq - 1}: a run was deleted"
    if row.previous_digest != previous:
        return "its link to the previous run does not match: runs were deleted or reordered"
    if row.document_zlib is not None and row.document:
        return "it holds its document twice, compressed and as text: the row was edited"
    try:
        document = json.loads(stored_document(row))
    except (ValueError, zlib.error):
        return "its stored document is not valid JSON: it was edited"
    if chain_digest(previous, seq, document) != digest:
        return "its content does not match its digest: the stored run was edited"
    if document.get("run_id") != row.run_id:
        return "its run id does not match its document: the row was edited"
    columns = (
        iso_utc(row.created_at),
        row.tool_version,
        iso_utc(row.window_start),
        iso_utc(row.window_end),
    )
    window = document.get("window") or {}
    if columns != (
        document.get("created_at"),
        document.get("tool_version"),
        window.get("from"),
        window.get("to"),
    ):
        return "its time, tool version or window does not match its document: the row was edited"
    stored = sorted(findings)
    recorded = sorted(
        (c["id"], c["verdict"], c["population"], c["nonconforming"])
        for c in document.get("controls", [])
    )
    if stored != recorded:
        return "its per-control result rows do not match its document: a result was edited"
    return None
