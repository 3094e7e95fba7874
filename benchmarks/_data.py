"""The synthetic data every benchmark reads: generated once per size and seed, then cached."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from iso_social.synthetic import GENERATOR_VERSION

# the month `iso-social generate` writes its conversations in: the window every check reads
WINDOW = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))


def cached(messages: int, seed: int, suffix: str) -> Path:
    """Where the benchmarks keep what they make of the generated data, in the temp folder:
    named after the generator's version too, so data an older generator wrote is not taken
    for today's."""
    name = f"iso-social-bench-{messages}-{seed}-v{GENERATOR_VERSION}{suffix}"
    return Path(tempfile.gettempdir()) / name


def generated(messages: int, seed: int) -> Path:
    """`iso-social generate --messages N --seed S` in the temp folder, made if missing."""
    cache = cached(messages, seed, ".jsonl")
    if not cache.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "iso_social",
                "generate",
                "--messages",
                str(messages),
                "--seed",
                str(seed),
                "--output",
                str(cache),
            ],
            check=True,
        )
    return cache
