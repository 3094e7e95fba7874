"""Reading a ledger of large runs: `evidence list`, a management review and `evidence verify`
as the number of recorded runs grows (no target in an issue; the ninth session's fix).

A run over a million messages has a document of about 50 MB (every nonconforming case), 5.5
MB as stored. `evidence list` and a management review read each run's row and result rows
and parse the latest document at most, so their time and memory should not grow with the
number of runs; `verify` reads every document, one at a time, so its time grows with the runs
and its memory should not.

Generates N synthetic messages (cached), ingests them into a temporary SQLite database,
records one check run over them, times each command in a fresh process (seconds and peak
memory), records R - 1 more runs and times them again.

Run: python benchmarks/ledger.py [--messages 200000] [--runs 6]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

from _data import WINDOW, generated

CLI = [sys.executable, "-m", "iso_social"]


def timed(command: list[str]) -> tuple[float, float]:
    """Seconds and peak memory (MB) of one command in a child process of its own."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}")
    return elapsed, usage.ru_maxrss / 1024


def measure(db: str, folder: Path, runs: int) -> None:
    commands = {
        "evidence list": [*CLI, "evidence", "list", "--db", db],
        "management review (HTML)": [
            *CLI,
            "report",
            "--kind",
            "management-review",
            "--db",
            db,
            "-o",
            str(folder / "review.html"),
        ],
        "evidence verify": [*CLI, "evidence", "verify", "--db", db],
    }
    print(f"with {runs} recorded run{'s' if runs > 1 else ''}")
    for name, command in commands.items():
        seconds, peak = timed(command)
        print(f"  {name:28s} {seconds:6.2f} s   peak {peak:6,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=6)
    args = parser.parse_args()

    source = generated(args.messages, args.seed)
    window = ["--from", WINDOW[0].isoformat(), "--to", WINDOW[1].isoformat()]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "ledger.db"
        db = f"sqlite:///{path}"
        subprocess.run([*CLI, "ingest", str(source), "--db", db, "--quiet"], check=True)
        print(f"iso-social ledger benchmark, {args.messages:,} synthetic messages")
        for recorded in range(1, args.runs + 1):
            # in a process of its own, as every command here: this one stays small, and a
            # child's peak memory counts what it shares with its parent when forked
            start = time.perf_counter()
            checked = subprocess.run([*CLI, "check", "--db", db, *window], capture_output=True)
            if checked.returncode not in (0, 1):  # 1: nonconformities found
                raise SystemExit(checked.stderr.decode("utf-8", "replace"))
            if recorded == 1:
                with sqlite3.connect(path) as connection:
                    (stored,) = connection.execute(
                        "SELECT document_zlib FROM audit_run ORDER BY seq DESC LIMIT 1"
                    ).fetchone()
                print(
                    f"a run: a document of {len(zlib.decompress(stored)) / 1e6:.1f} MB, "
                    f"{len(stored) / 1e6:.1f} MB as stored "
                    f"(checked and recorded in {time.perf_counter() - start:.1f} s)"
                )
                measure(db, folder, 1)
        measure(db, folder, args.runs)


if __name__ == "__main__":
    main()
