"""Where a full check's time goes: each shipped control over the benchmark window's
conversations, read once (no target of its own: `run.py` holds the check to its target).

Prints the read's time, then each control's (calls-only controls over the window's calls).
With `--every K` only every K-th conversation and call of the window is evaluated: a sample
with the window's mix of channels, kept in the temp folder after its first run and small
enough for valgrind's callgrind, whose instruction counts do not drift with the machine as
times do (docs/performance.md, "Timing on this machine"). Compare two versions of the code by
their counts, minus those of `--types none` (imports and loading alone):

    python benchmarks/controls.py --every 8            # once, to make the sample
    valgrind --tool=callgrind python benchmarks/controls.py --every 8 --types escalation_path

With `--kept` the text scanners' findings are taken as a repeated check takes them from the
store (`Scans`; noted by an untimed first pass, held in memory: the store's read of them is
`run.py`'s to time), not scanned.

Run: python benchmarks/controls.py [--messages N] [--seed S] [--every K] [--types T1,T2] [--kept]
"""

from __future__ import annotations

import argparse
import gc
import pickle
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _data import WINDOW, cached, generated


def database(messages: int, seed: int) -> str:
    """The generated messages ingested into a SQLite file in the temp folder, made if missing."""
    path = cached(messages, seed, ".db")
    if not path.exists():
        partial = path.with_suffix(".partial.db")
        partial.unlink(missing_ok=True)
        source = generated(messages, seed)
        command = [sys.executable, "-m", "iso_social", "ingest", str(source), "--quiet"]
        subprocess.run([*command, "--db", f"sqlite:///{partial}"], check=True)
        partial.rename(path)
    return f"sqlite:///{path}"


def window_input(db: str, every: int, cache: Path) -> tuple[tuple[list[Any], list[Any]], float]:
    """The window's conversations and calls (every `every`-th of each), read from `db` or
    from the sample kept at `cache`, and the seconds the read took."""
    from iso_social.domain import Window
    from iso_social.store import repository
    from iso_social.store.database import opened_engine

    start = time.perf_counter()
    if every > 1 and cache.exists():
        with cache.open("rb") as kept:
            return pickle.load(kept), time.perf_counter() - start  # noqa: S301 (our own file)
    with opened_engine(db) as engine, engine.connect() as connection:
        window = Window(*WINDOW)
        read = (
            repository.conversations_in(connection, window)[::every],
            repository.calls_in(connection, window)[::every],
        )
    seconds = time.perf_counter() - start
    if every > 1:
        with cache.open("wb") as kept:
            pickle.dump(read, kept)
    return read, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every", type=int, default=1, help="evaluate every K-th conversation")
    parser.add_argument("--types", default="", help="only these control types (comma-separated)")
    parser.add_argument("--kept", action="store_true", help="read the scanners' findings as kept")
    args = parser.parse_args()
    from iso_social.check import evaluate_control
    from iso_social.config import resource_dir
    from iso_social.domain import Window
    from iso_social.policy import load_policies

    db = database(args.messages, args.seed)
    cache = Path(db.removeprefix("sqlite:///")).with_suffix(f".every{args.every}.pickle")
    gc.disable()  # as the pipeline runs a check (pipeline._many_objects)
    (conversations, calls), seconds = window_input(db, args.every, cache)
    print(
        f"{len(conversations):,} conversations and {len(calls):,} calls of the window, "
        f"read in {seconds:.2f} s"
    )
    wanted = set(filter(None, args.types.split(",")))
    policies = sorted(load_policies([resource_dir("policies")]), key=lambda p: p.document.id)
    jobs = [
        (policy, control)
        for policy in policies
        for control in policy.controls
        if not wanted or control.spec.type in wanted
    ]
    scans = kept_scans(jobs, conversations, calls) if args.kept else None
    for policy, control in jobs:
        start = time.perf_counter()
        evaluate_control(control, policy, Window(*WINDOW), conversations, calls, scans=scans)
        elapsed = time.perf_counter() - start
        print(f"  {control.spec.id:12s} {control.spec.type:28s} {elapsed:6.2f} s")


def kept_scans(jobs: list[Any], conversations: list[Any], calls: list[Any]) -> Any:
    """The scanners' findings in the conversations as a repeated check reads them (`Scans`
    over what a first, untimed pass noted, as the store keeps them: JSON)."""
    from iso_social.check import evaluate_control
    from iso_social.controls.base import Scans
    from iso_social.domain import Window

    first = Scans({})
    for policy, control in jobs:
        evaluate_control(control, policy, Window(*WINDOW), conversations, calls, scans=first)
    kept: dict[str, dict[str, Any]] = {}
    for key, cid, fingerprint, found in first.new:
        kept.setdefault(key, {})[cid] = (fingerprint, found)
    print(f"  ({len(first.new):,} kept rows read: a scanner's findings in a conversation each)")
    return Scans(kept)


if __name__ == "__main__":
    main()
