"""Every speed target of issue #9 in one run, each figure next to its target and a reference
measured in the same run, so a regression shows as a ratio.

1. start-up: `iso-social --help` and `iso-social policy validate` (target < 0.3 s);
2. ingest of N canonical messages into SQLite, end to end in a child process (target >= 100,000
   records/s, peak memory < 400 MB), against raw `sqlite3.executemany` of as many rows;
3. a full `check` with the shipped policies over the N messages (target < 10 s), in one process
   and as `iso-social check` runs it by default (`check_workers = 0`: split by conversation
   among the cores for a large window), each first with nothing kept of the text scanners'
   findings (the first check after an ingest) and again (a later check: it reads what the
   first kept); then the scheduler's first check, which also fills the incremental state;
4. `first_response_time` alone (TW-FRT-01 as a check of it alone runs it: the store finds each
   conversation's first customer message and first reply, Python times them) against a
   hand-written SQL query computing the same population and conforming count on the same
   database (target: within 2x; the medians of three runs of each, alternated); the script
   says if the two results differ;
5. an incremental check, as the scheduler runs it, after the last 10,000 messages arrive on top
   of the rest (target < 1 s), then the next with nothing new (a scheduled check's floor);
6. with `--postgres URL`: ingest into a new database on that server (target: at least as fast
   as SQLite, by the medians of three runs on each, alternated) and the full check there, in
   one process and by default (target < 10 s).

The data is `iso-social generate --messages N --seed S` (cached in the temp folder).
Run: python benchmarks/run.py --messages 1000000 [--postgres postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _data import WINDOW, generated
from ingest import raw_executemany
from startup import COMMANDS, TARGET_S, median_seconds

TAIL_MESSAGES = 10_000
CLI = [sys.executable, "-m", "iso_social"]
CHECK_RUNS = (  # the full check's runs: label, check_workers
    ("full check, shipped policies", 1),  # one process
    ("  the same, default check_workers", 0),  # split among the cores (on Linux)
)


def full_checks(db: str, policies: Any) -> None:
    """Each of `CHECK_RUNS` twice: first with nothing kept of the text scanners' findings
    (as the first check after an ingest: it scans every text and keeps what it found), then
    again (as any later check of unchanged conversations: it reads what was kept)."""
    from iso_social import pipeline
    from iso_social.store.database import opened_engine, transaction
    from iso_social.store.tables import SCAN_RESULT

    for label, count in CHECK_RUNS:
        with opened_engine(db) as engine, transaction(engine) as connection:
            connection.execute(SCAN_RESULT.delete())
        for what in ("", "again, "):
            start = time.perf_counter()
            pipeline.run_check(policies, db=db, start=WINDOW[0], end=WINDOW[1], workers=count)
            elapsed = time.perf_counter() - start
            kind = "texts scanned" if not what else "kept scans read"
            line(
                f"{label if not what else '    ' + what + 'the same'}",
                f"{elapsed:.1f} s",
                "< 10 s",
                elapsed < 10,
                f"({kind})",
            )


def line(what: str, figure: str, target: str, met: bool, reference: str = "") -> None:
    """One result line: the figure, its target, ok or not, and the reference."""
    print(f"  {what:34s} {figure:>22s}   target {target:12s} {'ok' if met else 'NOT MET':8s}")
    if reference:
        print(f"  {'':34s} {reference}")


def startup() -> None:
    print("start-up (median of 5)")
    for name, command in COMMANDS.items():
        median = median_seconds(command, runs=5)
        line(name, f"{median:.3f} s", f"< {TARGET_S} s", median < TARGET_S)


def split_data(messages: int, seed: int, folder: Path) -> tuple[Path, Path, int]:
    """The generated file (cached) split into a head and its last TAIL_MESSAGES messages."""
    cache = generated(messages, seed)
    # streamed, so this process stays small: a child forked from it starts with its memory,
    # and the children's peak memory is what the ingest figure reports
    with cache.open("rb") as source:
        messages = sum(b'"kind": "message"' in raw for raw in source)
    head, tail = folder / "head.jsonl", folder / "tail.jsonl"
    head_records, seen = 0, 0
    with cache.open("rb") as source, head.open("wb") as first, tail.open("wb") as last:
        for raw in source:
            seen += b'"kind": "message"' in raw
            if seen <= messages - TAIL_MESSAGES:
                first.write(raw)
                head_records += 1
            else:
                last.write(raw)
    return head, tail, head_records


def timed_ingest(head: Path, db: str, *, summary: bool = False) -> float:
    """Seconds `iso-social ingest` of `head` into `db` takes, start to end; its summary printed
    with `summary` (the repeated runs' are the same each time)."""
    start = time.perf_counter()
    command = [*CLI, "ingest", str(head), "--db", db, "--quiet"]
    subprocess.run(command, check=True, stdout=None if summary else subprocess.DEVNULL)
    return time.perf_counter() - start


def ingest(head: Path, db: str, records: int, folder: Path) -> None:
    """Ingest into SQLite against its targets."""
    print(f"ingest of canonical JSON Lines into SQLite ({records:,} records)")
    elapsed = timed_ingest(head, db, summary=True)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    reference = raw_executemany(records, folder)
    line(
        "end to end",
        f"{records / elapsed:,.0f} records/s",
        ">= 100,000/s",
        records / elapsed >= 100_000,
        f"reference: raw executemany {records / reference:,.0f} rows/s; "
        f"ours takes {elapsed / reference:.1f}x as long",
    )
    line("peak memory", f"{peak_mb:,.0f} MB", "< 400 MB", peak_mb < 400)


@contextmanager
def fresh_database(server: str, suffix: str = "") -> Iterator[str]:
    """A new, empty PostgreSQL database on the server of `server` (a SQLAlchemy URL), dropped
    afterwards (a million messages left behind would slow the server's next runs)."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(server)
    name = f"iso_social_bench_{os.getpid()}{suffix}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


PAIRS = 3  # runs of a figure and its reference, alternated: the machine's drift hits both alike


def sqlite_again(head: Path, folder: Path) -> float:
    """An ingest into a new SQLite file, removed afterwards."""
    path = folder / "again.db"
    seconds = timed_ingest(head, f"sqlite:///{path}")
    for leftover in folder.glob("again.db*"):
        leftover.unlink()
    return seconds


def postgres(server: str, head: Path, records: int, folder: Path) -> None:
    """Ingest and the full check on PostgreSQL, in a database of their own. The ingest is
    compared with SQLite's in `PAIRS` pairs of runs, one after the other, by their medians:
    the one SQLite run above was minutes earlier, and this machine's speed drifts by a third
    within minutes."""
    from iso_social.config import resource_dir
    from iso_social.policy import load_policies

    print(f"PostgreSQL ({records:,} records)")
    with fresh_database(server) as db:
        on_postgres, on_sqlite = [timed_ingest(head, db)], [sqlite_again(head, folder)]
        for pair in range(1, PAIRS):
            with fresh_database(server, f"_{pair}") as other:
                on_postgres.append(timed_ingest(head, other))
            on_sqlite.append(sqlite_again(head, folder))
        postgres_s, sqlite_s = statistics.median(on_postgres), statistics.median(on_sqlite)
        line(
            "ingest (COPY)",
            f"{records / postgres_s:,.0f} records/s",
            ">= SQLite's",
            postgres_s <= sqlite_s,
            f"medians of {PAIRS} alternated runs: SQLite {sqlite_s:.1f} s "
            f"({', '.join(f'{s:.1f}' for s in on_sqlite)}), PostgreSQL {postgres_s:.1f} s "
            f"({', '.join(f'{s:.1f}' for s in on_postgres)})",
        )
        full_checks(db, load_policies([resource_dir("policies")]))


def frt_alone(db: str, policy: Any, control: Any) -> tuple[float, Any]:
    """Seconds and finding of a check of `control` alone, as the pipeline runs one: the store
    pairs each conversation's first customer message with its first reply, Python times them."""
    from iso_social.check import evaluate_control, reply_needs
    from iso_social.domain import Window
    from iso_social.store import repository
    from iso_social.store.database import opened_engine

    window = Window(*WINDOW)
    gc.disable()  # as the pipeline runs every check (pipeline._many_objects)
    start = time.perf_counter()
    needs = reply_needs([control])
    assert needs is not None  # noqa: S101
    with opened_engine(db) as engine, engine.connect() as connection:
        replies = {need: repository.first_replies(connection, window, *need) for need in needs}
    finding = evaluate_control(control, policy, window, (), (), replies=replies)
    seconds = time.perf_counter() - start
    del replies
    gc.enable()
    return seconds, finding


FRT_SQL = """
WITH first_in AS (
  SELECT m.conversation_id AS cid, MIN(m.created_at) AS t0
  FROM message m JOIN conversation c ON c.conversation_id = m.conversation_id
  WHERE c.channel = 'twitter' AND m.direction = 'inbound' AND m.author_role = 'customer'
    AND m.created_at < :end
  GROUP BY m.conversation_id
)
SELECT f.t0,
  (SELECT MIN(r.created_at) FROM message r
   WHERE r.conversation_id = f.cid AND r.direction = 'outbound' AND r.author_role = 'agent'
     AND r.automated = 0 AND r.visibility != 'internal'
     AND r.created_at >= f.t0 AND r.created_at < :end) AS t1
FROM first_in f WHERE f.t0 >= :start
"""


def frt_by_sql(path: Path, deadline: timedelta) -> tuple[float, int, int]:
    """Seconds, population and conforming count of TW-FRT-01 computed by hand-written SQL."""

    def text(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    connection = sqlite3.connect(path)
    start = time.perf_counter()
    rows = connection.execute(FRT_SQL, {"start": text(WINDOW[0]), "end": text(WINDOW[1])})
    population = conforming = 0
    for t0, t1 in rows:
        asked = datetime.fromisoformat(t0).replace(tzinfo=UTC)
        if t1 is not None:
            population += 1
            conforming += datetime.fromisoformat(t1).replace(tzinfo=UTC) - asked <= deadline
        elif asked + deadline <= WINDOW[1]:
            population += 1  # unanswered past its deadline; otherwise still pending
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed, population, conforming


def checks(db: str, path: Path, tail: Path) -> None:
    from iso_social import pipeline
    from iso_social.check import IncrementalState
    from iso_social.config import resource_dir
    from iso_social.policy import load_policies

    policies = load_policies([resource_dir("policies")])
    print("checks")
    full_checks(db, policies)
    state = IncrementalState()

    def scheduled() -> float:
        """Seconds of a check as the scheduler runs it, with `state` kept between checks."""
        start = time.perf_counter()
        pipeline.run_check_with_findings(
            policies, db=db, start=WINDOW[0], end=WINDOW[1], state=state
        )
        return time.perf_counter() - start

    def untargeted(label: str, seconds: float, comment: str) -> None:
        print(f"  {label:34s} {seconds:>20.1f} s   ({comment})")

    untargeted("first check filling the state", scheduled(), "the scheduler's first run")

    policy, control = next((p, c) for p in policies for c in p.controls if c.spec.id == "TW-FRT-01")
    ours, sql, findings, counts = [], [], [], []
    for _ in range(PAIRS):  # alternated, as this machine's speed drifts within minutes
        seconds, finding = frt_alone(db, policy, control)
        ours.append(seconds)
        findings.append((finding.outcome.population, finding.outcome.conforming))
        deadline = timedelta(seconds=finding.outcome.measures["deadline_seconds"])
        seconds, population, conforming = frt_by_sql(path, deadline)
        sql.append(seconds)
        counts.append((population, conforming))
    ours_s, sql_s = statistics.median(ours), statistics.median(sql)
    agreement = (
        "same population and conforming count"
        if findings == counts and len(set(counts)) == 1
        else f"DIFFERENT: SQL {counts}, ours {findings}"
    )
    line(
        "first_response_time alone",
        f"{ours_s:.2f} s = {ours_s / sql_s:.1f}x SQL",
        "<= 2x SQL",
        ours_s <= 2 * sql_s,
        f"reference: hand-written SQL {sql_s:.2f} s; medians of {PAIRS} alternated runs "
        f"(ours {', '.join(f'{s:.2f}' for s in ours)}; SQL {', '.join(f'{s:.2f}' for s in sql)}"
        f"); {agreement}",
    )

    subprocess.run([*CLI, "ingest", str(tail), "--db", db, "--quiet"], check=True)
    assessed, reused = state.assessed, state.reused
    elapsed = scheduled()
    line(
        f"incremental check (+{TAIL_MESSAGES:,} msgs)",
        f"{elapsed:.1f} s",
        "< 1 s",
        elapsed < 1,
        f"assessed {state.assessed - assessed:,}, reused {state.reused - reused:,} "
        "conversation tallies",
    )
    untargeted(
        "the next, nothing new", scheduled(), "a scheduled check's floor: no target of its own"
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory of the checks (the incremental state kept): {peak_mb:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="also measure ingest and the full check on this PostgreSQL server (a database "
        "URL; a database of its own is created there and dropped), e.g. "
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    )
    args = parser.parse_args()
    print(f"iso-social benchmarks, {args.messages:,} synthetic messages (seed {args.seed})")
    startup()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        head, tail, records = split_data(args.messages, args.seed, folder)
        path = folder / "bench.db"
        db = f"sqlite:///{path}"
        ingest(head, db, records, folder)
        checks(db, path, tail)
        if args.postgres:
            postgres(args.postgres, head, records, folder)


if __name__ == "__main__":
    main()
