"""Ingest speed and peak memory for canonical JSON Lines (targets from issues #4 and #9).

Generates N synthetic messages (cached by size and seed), ingests them into a fresh SQLite
database in a child process, and prints records per second and the child's peak memory next to
the targets, with raw `sqlite3.executemany` of the same number of rows as the reference.

Run: python benchmarks/ingest.py --messages 1000000
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _data import generated

TARGET_RATE = 100_000  # messages per second, end to end
TARGET_PEAK_MB = 400  # for 1,000,000 messages


def raw_executemany(rows: int, folder: Path) -> float:
    """Seconds for sqlite3.executemany of `rows` message-like rows in one transaction."""
    connection = sqlite3.connect(folder / "raw.db")
    connection.execute(
        "CREATE TABLE m (id TEXT PRIMARY KEY, c TEXT, ch TEXT, d TEXT, a TEXT, "
        "r TEXT, v TEXT, t TEXT, x TEXT)"
    )
    data = [
        (
            f"m{i}",
            f"c{i // 5}",
            "twitter",
            "inbound",
            "@a",
            "customer",
            "public",
            "2026-10-01 10:00:00.000000",
            "some text of a tweet",
        )
        for i in range(rows)
    ]
    start = time.perf_counter()
    with connection:
        connection.executemany("INSERT INTO m VALUES (?,?,?,?,?,?,?,?,?)", data)
    elapsed = time.perf_counter() - start
    connection.close()
    return elapsed


def main() -> None:
    """Generate, ingest, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cache = generated(args.messages, args.seed)
    records = sum(1 for _ in cache.open("rb"))
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{Path(folder) / 'bench.db'}"
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "iso_social", "ingest", str(cache), "--db", db, "--quiet"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        reference = raw_executemany(records, Path(folder))
    rate = records / elapsed
    print(f"ingest {records:,} records ({args.messages:,} messages) into SQLite")
    print(
        f"  end to end      {elapsed:6.1f} s  {rate:10,.0f} records/s   target "
        f">= {TARGET_RATE:,}/s  {'ok' if rate >= TARGET_RATE else 'BELOW TARGET'}"
    )
    print(
        f"  peak memory     {peak_mb:6.0f} MB                      target "
        f"< {TARGET_PEAK_MB} MB   {'ok' if peak_mb < TARGET_PEAK_MB else 'ABOVE TARGET'}"
    )
    print(
        f"  reference: raw sqlite3.executemany of {records:,} rows {reference:.1f} s "
        f"({records / reference:,.0f} rows/s); ratio {elapsed / reference:.1f}x"
    )


if __name__ == "__main__":
    main()
