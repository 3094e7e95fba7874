"""Evidence-pack rendering speed for a large run (targets from issue #6).

Builds (once, cached in the temp folder) a database with N synthetic messages checked against
the shipped policies, then renders the run's evidence pack as PDF/A-3b the way
`iso-social report` does, and prints the time, the pages and pages per second next to the
targets: the pack of a 1,000,000-message run in under 20 s; at least 4 pages/s for a long
report (the same pack listing 1,000 cases per control instead of 50).

Run: python benchmarks/report.py --messages 1000000
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _data import cached, generated

TARGET_SECONDS = 20.0
TARGET_PAGES_PER_SECOND = 4.0


def checked_database(messages: int, seed: int) -> str:
    """A database holding `messages` synthetic messages and one recorded run (cached)."""
    folder = Path(tempfile.gettempdir())
    log = generated(messages, seed)
    database = cached(messages, seed, "-checked.db")
    url = f"sqlite:///{database}"
    cli = [sys.executable, "-m", "iso_social"]
    if not database.exists():
        partial = database.with_suffix(".partial.db")
        partial.unlink(missing_ok=True)
        partial_url = f"sqlite:///{partial}"
        subprocess.run([*cli, "ingest", str(log), "--db", partial_url, "--quiet"], check=True)
        results = folder / "iso-social-bench-results.json"
        check = ["check", "--db", partial_url, "--fail-on", "never", "-f", "json", "-o"]
        subprocess.run([*cli, *check, str(results)], check=True, stdout=subprocess.DEVNULL)
        partial.rename(database)
    return url


def render(db: str, rows: int) -> tuple[float, int, int]:
    """Seconds, pages and bytes of the latest run's evidence pack with `rows` cases a control."""
    import pypdf

    from iso_social import pipeline
    from iso_social.config import Settings
    from iso_social.report import ReportFormat

    settings = Settings(report_rows=rows)
    start = time.perf_counter()
    data, _ = pipeline.render_evidence_pack(db, "latest", ReportFormat.PDF, settings)
    elapsed = time.perf_counter() - start
    return elapsed, len(pypdf.PdfReader(io.BytesIO(data)).pages), len(data)


def main() -> None:
    """Build or reuse the data, render twice, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    db = checked_database(args.messages, args.seed)
    print(f"evidence pack of a run over {args.messages:,} messages (PDF/A-3b, results attached)")
    seconds, pages, size = render(db, 50)
    print(
        f"  default pack    {seconds:6.1f} s  {pages:4d} pages  {pages / seconds:5.1f} pages/s  "
        f"{size / 1e6:5.1f} MB   target < {TARGET_SECONDS:.0f} s  "
        f"{'ok' if seconds < TARGET_SECONDS else 'ABOVE TARGET'}"
    )
    seconds, pages, size = render(db, 1000)
    rate = pages / seconds
    print(
        f"  long report     {seconds:6.1f} s  {pages:4d} pages  {rate:5.1f} pages/s  "
        f"{size / 1e6:5.1f} MB   target >= {TARGET_PAGES_PER_SECOND:.0f} pages/s  "
        f"{'ok' if rate >= TARGET_PAGES_PER_SECOND else 'BELOW TARGET'}"
    )


if __name__ == "__main__":
    main()
