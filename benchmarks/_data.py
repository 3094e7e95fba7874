"""The synthetic data every benchmark reads: generated once per size and seed, then cached."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path


def generated(messages: int, seed: int) -> Path:
    """`iso-social generate --messages N --seed S` in the temp folder, made if missing."""
    cache = Path(tempfile.gettempdir()) / f"iso-social-bench-{messages}-{seed}.jsonl"
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
