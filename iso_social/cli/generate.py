"""`iso-social generate`: synthetic logs in the canonical format, for trials and benchmarks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def generate(
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="FILE", help="JSONL file to write.")
    ],
    messages: Annotated[int, typer.Option(metavar="N", min=1, help="How many messages.")] = 10_000,
    seed: Annotated[
        int, typer.Option(metavar="N", help="Random seed; the same seed gives the same file.")
    ] = 1,
) -> None:
    """Write synthetic conversations (calibrated on real Twitter reply times) as canonical JSONL.

    Example: iso-social generate --messages 100000 --seed 1 --output sample.jsonl
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary

    with error_boundary():
        count = pipeline.write_synthetic(output, messages=messages, seed=seed)
    print(f"wrote {count} records ({messages} messages) to {output}", file=sys.stderr)
