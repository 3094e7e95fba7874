"""The facade that wires the stages together: ingest → store → check → evidence → report.

The CLI and the scheduler call only this module. Every function takes plain values (paths, URLs,
datetimes) and returns domain or evidence objects; nothing here prints or exits.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from iso_social._version import __version__
from iso_social.check import (
    CheckProgress,
    IncrementalState,
    Replies,
    evaluate_control,
    evaluate_policy,
    evaluate_split,
    no_progress,
    reply_needs,
    scanner_keys,
    splits,
)
from iso_social.config import Settings, resource_dir
from iso_social.controls.base import Scans
from iso_social.domain import Call, Conversation, Finding, Window, now_utc
from iso_social.errors import CheckError, ConfigError, EvidenceError, IngestError, ReportError
from iso_social.evidence import ledger, register, retention
from iso_social.evidence import samples as sampling_store
from iso_social.evidence.compare import compare_runs
from iso_social.evidence.export import package_files, package_files_with_sums, write_package
from iso_social.evidence.models import InputFile, RecordedRun, build_document
from iso_social.evidence.register import FollowUp
from iso_social.evidence.retention import PurgeResult
from iso_social.ingest import IngestOptions, detect_log_format, get_log_format
from iso_social.ingest.mapping import load_mapping
from iso_social.policy import Control, Policy, load_policies, parse_policy
from iso_social.report import REPORTERS, ReportFormat, ReportOptions
from iso_social.report.base import Branding, PackContext, TrendPoint
from iso_social.store import repository
from iso_social.store.database import create_schema, opened_engine, transaction
from iso_social.store.loader import IngestSummary, Progress, load_files
from iso_social.store.scans import keep_scans, kept_scans

DEFAULT_LOOKBACK = timedelta(days=30)


def _expand(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not inside:
                raise IngestError(path, "the folder holds no files")
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            raise IngestError(path, "no such file or folder")
    return files


PSEUDONYM_KEY_VARIABLE = "ISO_SOCIAL_PSEUDONYM_KEY"


def pseudonym_key() -> bytes:
    """The secret key for pseudonyms, from the environment (never stored with the data)."""
    key = os.environ.get(PSEUDONYM_KEY_VARIABLE, "")
    if len(key) < 16:
        raise ConfigError(
            PSEUDONYM_KEY_VARIABLE,
            "--pseudonymise needs a secret key of at "
            "least 16 characters in this environment variable",
            hint='create one with: python -c "import secrets; '
            'print(secrets.token_hex(32))" and keep it out of the database',
        )
    return key.encode("utf-8")


def zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone called `name` (for --assume-tz), or None."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a folder, "Europe"
        raise ConfigError(
            "--assume-tz",
            f"'{name}' is not an IANA time zone",
            hint="use a name such as Europe/Madrid, America/Mexico_City or UTC",
        ) from exc


def ingest_logs(
    paths: Sequence[Path],
    *,
    db: str,
    fmt: str = "auto",
    assume_tz: str | None = None,
    strict: bool = False,
    day: date | None = None,
    brands: Sequence[str] = (),
    support: Sequence[str] = (),
    agents: Sequence[str] = (),
    bots: Sequence[str] = (),
    mapping: Path | None = None,
    pseudonymise: bool = False,
    gap: timedelta = timedelta(hours=48),
    progress: Progress | None = None,
) -> IngestSummary:
    """Validate and store every record of the given files (folders are expanded), atomically."""
    files = _expand(paths)
    if mapping is not None and fmt == "auto":
        fmt = "csv"  # a mapping file describes a CSV export
    formats = [detect_log_format(p) if fmt == "auto" else get_log_format(fmt) for p in files]
    options = IngestOptions(
        assume_tz=zone(assume_tz),
        day=day,
        brands=tuple(brands),
        gap=gap,
        support=tuple(support),
        agents=tuple(agents),
        bots=tuple(bots),
        mapping=load_mapping(mapping) if mapping is not None else None,
        pseudonym_key=pseudonym_key() if pseudonymise else None,
    )
    with opened_engine(db) as engine:
        return load_files(engine, files, formats, options, strict=strict, progress=progress)


def resolve_window(
    engine: Engine, start: datetime | None, end: datetime | None, as_of: datetime | None = None
) -> Window:
    """The audit window: `--to` defaults to `--as-of` or now, `--from` to the first activity."""
    end = end or as_of or now_utc()
    if start is None:
        with engine.connect() as connection:
            first, _ = repository.activity_span(connection)
        start = first if first is not None and first < end else end - DEFAULT_LOOKBACK
    if start >= end:
        raise CheckError(
            f"the audit window is empty: --from {start.isoformat()} is not before "
            f"--to {end.isoformat()}",
            hint="pass a --from earlier than --to",
        )
    return Window(start, end)


# a check with an incremental state freezes what it allocated without walking it for garbage
# first (a walk of every object of the window: 2.9 s after a first check of a million
# messages, 0.25 s after each later one), for the few reference cycles a check leaves (SQLAlchemy
# expressions: 1-26 KB) would not be worth it; every this many such checks the process's frozen
# objects are thawed and collected in full (one walk of everything kept), so what those cycles
# hold stays bounded
FULL_COLLECTION_EVERY = 64
_unwalked_checks = 0  # checks frozen unwalked since the last full collection (process-wide)


@contextmanager
def _many_objects(*, keep: bool = False) -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a check builds, reads and records a
    window's messages: a million long-lived objects without reference cycles, which every
    collection of the oldest generation would walk again (a fifth of a large check's time).
    Reference counting still frees everything. With `keep` (an incremental state holds the
    window between checks) what survives is frozen out of later collections' walks (see
    `FULL_COLLECTION_EVERY`). Without it, what the check allocated is moved to the oldest
    generation when nothing is frozen (`freeze` then `unfreeze` moves lists, walking
    nothing): else the first collection after `enable` walked all of it as young objects
    (0.27 s after a check of a million messages). With something frozen (a scheduler's kept
    state) `unfreeze` would thaw that too."""
    global _unwalked_checks
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if keep:
            if _unwalked_checks >= FULL_COLLECTION_EVERY:
                gc.unfreeze()
                gc.collect()
                _unwalked_checks = 0
            gc.freeze()
            _unwalked_checks += 1
        elif not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


# the steps of a check besides the evaluation's own (`check.EVALUATING`, `check.COUNTING_RUNS`)
READING = "reading the window"
KEEPING = "keeping what the text scanners found"
RECORDING = "recording the run"


def run_check(
    policies: Sequence[Policy],
    *,
    db: str,
    start: datetime | None = None,
    end: datetime | None = None,
    as_of: datetime | None = None,
    workers: int = 1,
    rescan: bool = False,
    progress: CheckProgress | None = None,
) -> RecordedRun:
    """Evaluate every control over the window and record the run in the ledger (in `workers`
    processes, see `check.evaluate_policy`). With `rescan`, the text scanners read every
    message again instead of what earlier checks kept, and keep what they find. `progress`
    hears of each step (`check.CheckProgress`): reading, evaluating (each control, or each
    run of a split check), keeping the scanners' findings, recording."""
    return run_check_with_findings(
        policies,
        db=db,
        start=start,
        end=end,
        as_of=as_of,
        workers=workers,
        rescan=rescan,
        progress=progress,
    )[0]


def run_check_with_findings(
    policies: Sequence[Policy],
    *,
    db: str,
    start: datetime | None = None,
    end: datetime | None = None,
    as_of: datetime | None = None,
    state: IncrementalState | None = None,
    workers: int = 1,
    rescan: bool = False,
    progress: CheckProgress | None = None,
) -> tuple[RecordedRun, list[Finding]]:
    """`run_check`, also returning the graded findings (with what the recorded document leaves
    out: population ids and items still within their deadline). With `state` (kept by the
    caller between runs) the check is incremental and its results are those of a full one."""
    told = progress or no_progress
    with opened_engine(db) as engine:
        create_schema(engine)
        window = resolve_window(engine, start, end, as_of)
        with _many_objects(keep=state is not None):
            controls = [c for p in policies for c in p.controls]
            with engine.connect() as connection:
                told(READING, 0, 0)
                read = _read_inputs(connection, controls, window, state, workers, rescan)
                inputs = [
                    InputFile(
                        f.path, f.sha256, f.size, f.format, f.records_read, f.stored, f.rejected
                    )
                    for f in repository.ingested_files(connection)
                ]
            findings = _evaluate(engine, db, policies, window, read, state, workers, told)
            if read.scans.new:  # what the text scanners found, for the next check to reuse
                told(KEEPING, 0, 0)
                with transaction(engine) as connection:
                    keep_scans(connection, read.scans.new)
            del read
            told(RECORDING, 0, 0)
            created = now_utc()
            run_id = f"{created:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
            document = build_document(
                run_id=run_id,
                created_at=created,
                tool_version=__version__,
                window=window,
                as_of=as_of,
                policies=policies,
                inputs=inputs,
                findings=findings,
            )
            follow_up = {
                control.spec.id: FollowUp(
                    policy.document.corrective_action.effectiveness_runs,
                    policy.document.corrective_action.escalate_repeated_minor,
                )
                for policy in policies
                for control in policy.controls
            }
            recorded = ledger.record_run(
                engine,
                document,
                created,
                window.start,
                window.end,
                policies,
                after=lambda connection, run: register.update_from_run(connection, run, follow_up),
            )
            return recorded, findings


@dataclass
class _Inputs:
    """What a check reads before it evaluates (`_read_inputs`)."""

    conversations: Sequence[Conversation] = ()
    calls: Sequence[Call] = ()
    replies: Replies | None = None
    cuts: list[str] | None = None  # the workers read the conversations, each run in turn
    processes: int = 1  # how many workers share the runs
    # what the store kept of the text scanners' findings; what they scan anew goes in `new`
    scans: Scans = field(default_factory=Scans)
    scanners: frozenset[str] = frozenset()  # their keys, for the split's workers to read


def _read_inputs(
    connection: Connection,
    controls: Sequence[Control],
    window: Window,
    state: IncrementalState | None = None,
    workers: int = 1,
    rescan: bool = False,
) -> _Inputs:
    """What the controls evaluate: the first replies the store pairs when every control is fed
    by them (`check.reply_needs`); where to cut the window's conversations into runs that
    `workers` processes read and count, when every control type allows it (`check.splits`;
    the calls are read while they count); else the window's conversations and calls (with
    `state`, only those that changed or arrived since the last check are read again), with
    what the store kept of the text scanners' findings in them (`Scans`; with `state`, for
    its first check only: a later one scans only the conversations that changed; none with
    `rescan`, which scans every conversation and keeps what it finds)."""
    scanners = frozenset() if rescan else frozenset(scanner_keys(controls))
    needs = reply_needs(controls) if state is None else None
    if needs is not None:
        return _Inputs(
            replies={need: repository.first_replies(connection, window, *need) for need in needs}
        )
    if state is None and workers != 1 and splits(controls):
        total = repository.conversation_count(connection, window)
        processes = workers or _automatic_parts(total)
        if processes > 1:
            runs = processes * RUNS_PER_PROCESS
            cuts = repository.conversation_split(connection, window, runs, total)
            if cuts:
                return _Inputs(cuts=cuts, processes=processes, scanners=scanners)
    if state is not None:
        first = state.loaded is None
        marks = repository.store_marks(connection)  # one read of them for both
        state.loaded = repository.refresh_conversations(connection, window, state.loaded, marks)
        state.calls = repository.refresh_calls(connection, window, state.calls, marks)
        conversations = state.loaded.ordered()
        if not first:  # only what changed is assessed: scanned, not worth keeping
            return _Inputs(conversations, state.calls.calls)
        scans = Scans(kept_scans(connection, scanners, conversations, window))
        return _Inputs(conversations, state.calls.calls, scans=scans)
    conversations = repository.conversations_in(connection, window)
    scans = Scans(kept_scans(connection, scanners, conversations, window))
    return _Inputs(conversations, repository.calls_in(connection, window), scans=scans)


AUTOMATIC_SPLIT_FROM = 50_000  # conversations; a smaller window is checked as fast in one process
# runs of conversations a split check cuts for each worker process: a worker that finishes a
# run takes the next, so no core idles while another counts a run slower than the rest (a
# channel's conversations cost more than another's), and this process receives the finished
# runs' tallies while the last ones are still counted
RUNS_PER_PROCESS = 4


def _automatic_parts(conversations: int) -> int:
    """How many processes `workers=0` splits a check of that many conversations among: one per
    core this process may run on (at most eight) from `AUTOMATIC_SPLIT_FROM` on, else one."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores = min(cores or 1, 8)
    return cores if cores > 1 and conversations >= AUTOMATIC_SPLIT_FROM else 1


def _evaluate(
    engine: Engine,
    db: str,
    policies: Sequence[Policy],
    window: Window,
    read: _Inputs,
    state: IncrementalState | None,
    workers: int,
    progress: CheckProgress,
) -> list[Finding]:
    """Every control evaluated over what `_read_inputs` read: split among workers by
    conversation when it cut the window (which reads the window here if no worker process
    can be had), else by `check.evaluate_policy`."""
    if read.cuts is not None:
        reader = functools.partial(_read_run, db, window, read.scanners)
        calls = functools.partial(_read_calls, engine, window)
        keep = functools.partial(_keep_scans, db)
        findings = evaluate_split(
            policies, window, read.cuts, reader, calls, read.processes, keep, progress
        )
        if findings is not None:
            return findings
        progress(READING, 0, 0)
        with engine.connect() as connection:
            read.conversations = repository.conversations_in(connection, window)
            read.calls = repository.calls_in(connection, window)
            kept = kept_scans(connection, read.scanners, read.conversations, window)
            read.scans = Scans(kept)
    # `workers=0` splits by conversation or not at all: sharing whole controls among workers
    # may hold the window's memory once a worker, which only an explicit number asks for
    return evaluate_policy(
        policies,
        window,
        read.conversations,
        read.calls,
        state,
        workers or 1,
        read.replies,
        read.scans,
        progress,
    )


def _read_calls(engine: Engine, window: Window) -> list[Call]:
    with engine.connect() as connection:
        return repository.calls_in(connection, window)


def _read_run(
    db: str, window: Window, scanners: frozenset[str], between: tuple[str | None, str | None]
) -> tuple[list[Conversation], Scans]:
    """One run of the window's conversations with what the store kept of the `scanners`' findings
    in them, over a connection of the calling process's own (a forked worker's: the parent's
    stays the parent's)."""
    with opened_engine(db) as engine, engine.connect() as connection:
        conversations = repository.conversations_in(connection, window, between=between)
        kept = kept_scans(connection, scanners, conversations, window, between)
        return conversations, Scans(kept)


def _keep_scans(db: str, rows: list[tuple[str, str, str, str | None]]) -> None:
    """Keep what a split check's worker scanned anew in its run, over a connection of its own
    (each run's rows in a transaction of their own: they hold whatever else happens)."""
    with opened_engine(db) as engine, transaction(engine) as connection:
        keep_scans(connection, rows)


def check_comparable(db: str, reference: str) -> None:
    """Raise `EvidenceError` now, before a check records anything, when `reference` will not
    name a run to compare with once the new run is recorded."""
    if reference == "latest" or reference.startswith("latest-"):
        suffix = reference.removeprefix("latest").removeprefix("-") or "1"
        if suffix.isdigit() and int(suffix) >= 1:  # counted from the run about to be recorded
            reference = "latest" if suffix == "1" else f"latest-{int(suffix) - 1}"
    with opened_engine(db) as engine:
        ledger.load_run(engine, reference)


def compare_with(db: str, run: RecordedRun, reference: str) -> dict[str, Any]:
    """New, persisting and resolved nonconformities of `run` against another recorded run."""
    with opened_engine(db) as engine:
        # resolved after `run` was recorded: latest-1 is the run before it
        if reference in ("latest", run.run_id):
            reference = "latest-1"
        return compare_runs(run, ledger.load_run(engine, reference))


def verify_evidence(db: str, head: str | None = None) -> ledger.ChainReport:
    """Recompute the ledger's hash chain."""
    with opened_engine(db) as engine:
        return ledger.verify_chain(engine, head)


def export_evidence(db: str, reference: str, target: Path) -> Path:
    """Write the evidence package of a run to a folder or a ZIP file."""
    with opened_engine(db) as engine:
        run = ledger.load_run(engine, reference)
        files = package_files(run, lambda sha: ledger.policy_snapshot(engine, sha))
        samples = sampling_store.samples_of_run(engine, run.run_id)
    if samples:
        samples_json = (json.dumps(samples, indent=2, ensure_ascii=False) + "\n").encode()
        files = package_files_with_sums({**files, "samples.json": samples_json})
    return write_package(files, target)


def purge_content(db: str, older_than: timedelta, *, dry_run: bool = False) -> PurgeResult:
    """Blank conversation content older than the retention period."""
    with opened_engine(db) as engine:
        return retention.purge_content(engine, now_utc() - older_than, dry_run=dry_run)


def list_nonconformities(db: str, status: str | None = None) -> list[register.Nonconformity]:
    """The nonconformity register."""
    with opened_engine(db) as engine:
        return register.list_nonconformities(engine, status)


def opened_nonconformities(db: str, run_id: str) -> list[register.Nonconformity]:
    """Nonconformities the run raised, reopened or escalated."""
    with opened_engine(db) as engine:
        return register.opened_by_run(engine, run_id)


def show_nonconformity(
    db: str, nc_id: str
) -> tuple[register.Nonconformity, list[register.NcEvent]]:
    """One nonconformity and its history."""
    with opened_engine(db) as engine:
        return register.get_nonconformity(engine, nc_id)


def update_nonconformity(db: str, nc_id: str, actor: str, **changes: Any) -> register.Nonconformity:
    """Record corrective-action information or move the lifecycle on."""
    with opened_engine(db) as engine:
        return register.update_nonconformity(engine, nc_id, actor, **changes)


def close_nonconformity(db: str, nc_id: str, actor: str, note: str = "") -> register.Nonconformity:
    """Close a nonconformity whose effectiveness check is met."""
    with opened_engine(db) as engine:
        return register.close_nonconformity(engine, nc_id, actor, note)


def draw_sample(
    db: str,
    control_id: str,
    *,
    reference: str = "latest",
    confidence: float = 0.95,
    tolerable_error: float = 0.05,
    expected_deviations: int = 0,
    seed: int | None = None,
) -> sampling_store.Sample:
    """Draw (or return the already drawn) audit sample of a control's population in a run."""
    with opened_engine(db) as engine:
        run = ledger.load_run(engine, reference)
        recorded = next((c for c in run.document["controls"] if c["id"] == control_id), None)
        if recorded is None:
            raise EvidenceError(
                f"run {run.run_id} has no control '{control_id}'",
                hint="see the run's controls with `iso-social report` or "
                "`iso-social check --format json`",
            )
        population = _population(engine, run, recorded)
        return sampling_store.draw_sample(
            engine,
            run,
            control_id,
            population,
            confidence=confidence,
            tolerable_error=tolerable_error,
            expected_deviations=expected_deviations,
            seed=seed if seed is not None else int(run.digest[:7], 16),  # fits 32-bit ints
        )


def _population(engine: Engine, run: RecordedRun, recorded: dict[str, Any]) -> list[str]:
    """Re-derive a control's population from the store with the policy as the run used it."""
    entry = next(p for p in run.document["policies"] if p["id"] == recorded["policy_id"])
    text = ledger.policy_snapshot(engine, entry["sha256"])
    if text is None:
        raise EvidenceError(
            f"the policy {entry['id']} used by run {run.run_id} is not in the store's snapshots"
        )
    policy = parse_policy(text.encode("utf-8"), Path(entry["path"]))
    control = next(c for c in policy.controls if c.spec.id == recorded["id"])
    window = Window(
        datetime.fromisoformat(run.document["window"]["from"]),
        datetime.fromisoformat(run.document["window"]["to"]),
    )
    with engine.connect() as connection:
        read = _read_inputs(connection, [control], window)
    finding = evaluate_control(
        control,
        policy,
        window,
        read.conversations,
        read.calls,
        replies=read.replies,
        scans=read.scans,
    )
    if finding.outcome.population != recorded["population"]:
        raise EvidenceError(
            f"the store no longer holds the population run {run.run_id} measured for "
            f"{recorded['id']} ({finding.outcome.population} now, {recorded['population']} then)",
            hint="draw samples before ingesting more data into the run's window or purging it",
        )
    return list(finding.outcome.population_ids)


def record_sample_review(
    db: str, sample_id: str, item_id: str, verdict: str, reviewer: str, note: str = ""
) -> None:
    """Keep a reviewer's manual verdict on a sampled item as evidence."""
    with opened_engine(db) as engine:
        sampling_store.record_review(engine, sample_id, item_id, verdict, reviewer, note)


def show_sample(db: str, sample_id: str) -> sampling_store.Sample:
    """A drawn sample with the latest review of each item."""
    with opened_engine(db) as engine:
        return sampling_store.get_sample(engine, sample_id)


def load_run(db: str, reference: str = "latest") -> RecordedRun:
    """A recorded run: `latest`, `latest-N` or a run id."""
    with opened_engine(db) as engine:
        return ledger.load_run(engine, reference)


def render_report(
    run: RecordedRun, fmt: ReportFormat, settings: Settings, *, color: bool = False
) -> bytes:
    """The bytes of `run` rendered in `fmt` (the evidence pack without what the store adds:
    `render_evidence_pack` gives the complete one)."""
    return REPORTERS[fmt].render(run, _report_options(settings, color=color))


def render_evidence_pack(
    db: str, reference: str, fmt: ReportFormat, settings: Settings
) -> tuple[bytes, RecordedRun]:
    """The evidence pack (`pdf` or `html`) of a recorded run, with what the store adds to the
    run's own document: the trend of earlier runs, masked excerpts of the cases shown, the
    samples drawn from the run and the register's state of its nonconformities."""
    options = _report_options(settings)
    with opened_engine(db) as engine:
        run = ledger.load_run(engine, reference)
        pack = _pack_context(engine, run, options.max_rows)
    return REPORTERS[fmt].render(run, replace(options, pack=pack)), run


TREND_RUNS = 8


def _pack_context(engine: Engine, run: RecordedRun, max_rows: int) -> PackContext:
    history = [
        TrendPoint(
            point["seq"],
            point["run_id"],
            point["window_to"],
            point["findings"],
        )
        for point in ledger.history(engine, run.seq, TREND_RUNS)
    ]
    shown = [
        item["message_ids"][0]
        for control in run.document["controls"]
        for item in control["evidence"][:max_rows]
        if item["message_ids"]
    ]
    with engine.connect() as connection:
        texts = repository.message_texts(connection, shown)
    raised = {nc["id"] for nc in run.document["nonconformities"]}
    state = {
        nc.id: {
            "status": nc.status.value,
            "owner": nc.owner,
            "due_date": nc.due_date,
            "corrective_action": bool(nc.corrective_action),
            "root_cause": bool(nc.root_cause),
            "conforming_runs": nc.conforming_runs,
            "effectiveness_runs": nc.effectiveness_runs,
            "repeat_count": nc.repeat_count,
            "closed_at": nc.closed_at.isoformat() if nc.closed_at else None,
        }
        for nc in register.list_nonconformities(engine)
        if nc.id in raised
    }
    return PackContext(
        history=history,
        texts=texts,
        samples=sampling_store.samples_of_run(engine, run.run_id),
        register=state,
        register_as_of=now_utc().isoformat(),
    )


def _report_options(settings: Settings, *, color: bool = False) -> ReportOptions:
    shipped = resource_dir("templates")
    own = settings.templates_dir.resolve() != shipped.resolve()
    return ReportOptions(
        templates_dir=shipped,
        user_templates_dir=settings.templates_dir if own else None,
        organisation=settings.organisation,
        color=color,
        lang=settings.report_lang,
        max_rows=settings.report_rows,
        branding=Branding(settings.logo, settings.primary_colour, settings.accent_colour),
    )


def render_nonconformity_report(
    db: str, reference: str, nc_ids: Sequence[str], fmt: str, settings: Settings
) -> tuple[bytes, RecordedRun, list[str]]:
    """Nonconformity reports (`pdf` or `html`) of the named nonconformities, or of every one the
    run raised; with the run and the ids reported."""
    from iso_social.report.nonconformity import render_nonconformity_report as render

    with opened_engine(db) as engine:
        run = ledger.load_run(engine, reference)
        ids = list(nc_ids) or [nc["id"] for nc in run.document["nonconformities"]]
        if not ids:
            raise ReportError(
                f"run {run.run_id} raised no nonconformity",
                hint="choose a run with --run, or name nonconformities with --nc "
                "(see `iso-social nc list`)",
            )
        entries = [register.get_nonconformity(engine, nc_id) for nc_id in ids]
    return render(run, entries, _report_options(settings), fmt), run, ids


def render_management_review(
    db: str,
    fmt: str,
    settings: Settings,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> tuple[bytes, int]:
    """Management review input (`pdf` or `html`) from the runs whose audit window ends in
    [start, end) and the register; with the number of runs reviewed."""
    from iso_social.report.management_review import render_management_review as render

    with opened_engine(db) as engine:
        # every run of the period by its header; the latest one's document alone is read
        runs = ledger.run_headers(engine, ended_after=start, ended_by=end)[::-1]
        if not runs:
            raise ReportError(
                "no recorded run in the review period",
                hint="widen --from/--to, or run `iso-social check` first",
            )
        latest = ledger.load_run(engine, runs[-1].run_id)
        nonconformities = register.list_nonconformities(engine)
    options = _report_options(settings)
    return render(runs, latest, nonconformities, options, now_utc().date(), fmt), len(runs)


def write_synthetic(path: Path, *, messages: int, seed: int) -> int:
    """Write a synthetic canonical JSONL file; return the number of records written."""
    from iso_social.synthetic import synthetic_records

    count = 0
    try:
        with path.open("w", encoding="utf-8") as out:
            for record in synthetic_records(messages, seed=seed):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                count += 1
    except OSError as exc:
        raise ConfigError(
            "--output", f"cannot write {path} ({exc.strerror})", hint="check the folder exists"
        ) from exc
    return count


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put its files, and what it found."""

    log_file: Path
    database: Path
    report: Path
    json_file: Path
    ingest: IngestSummary
    run: RecordedRun


DEMO_WINDOW = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))


def run_demo(
    directory: Path, settings: Settings, *, seed: int = 7, messages: int = 3000
) -> DemoResult:
    """Generate a sample data set, ingest it into a fresh SQLite database, check it against
    the shipped policies and write the PDF report and the JSON results."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            "--dir",
            f"cannot use {directory} as the demo's folder ({exc.strerror})",
            hint="pass --dir with a new or existing folder",
        ) from exc
    log_file = directory / "demo-logs.jsonl"
    database = directory / "demo.db"
    for stale in (database, database.with_suffix(".db-wal"), database.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    write_synthetic(log_file, messages=messages, seed=seed)
    db = f"sqlite:///{database}"
    summary = ingest_logs([log_file], db=db)
    policies = load_policies([settings.policies_dir])
    run = run_check(policies, db=db, start=DEMO_WINDOW.start, end=DEMO_WINDOW.end)
    report = directory / "audit-evidence.pdf"
    report.write_bytes(render_evidence_pack(db, run.run_id, ReportFormat.PDF, settings)[0])
    json_file = directory / "results.json"
    json_file.write_bytes(render_report(run, ReportFormat.JSON, settings))
    return DemoResult(log_file, database, report, json_file, summary, run)
