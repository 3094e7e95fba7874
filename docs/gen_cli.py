"""Regenerate docs/cli.md from the commands' --help: `python docs/gen_cli.py`.

`tests/test_docs.py` fails when docs/cli.md is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from typer.testing import CliRunner

from iso_social.cli import app

COMMANDS = [
    [],
    ["ingest"],
    ["check"],
    ["report"],
    ["policy"],
    ["policy", "validate"],
    ["policy", "show"],
    ["policy", "types"],
    ["evidence"],
    ["evidence", "list"],
    ["demo"],
    ["generate"],
]
OUTPUT = Path(__file__).with_name("cli.md")


def render() -> str:
    """The CLI reference as Markdown."""
    runner = CliRunner(env={"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"})
    parts = [
        "# Command-line reference\n",
        "Generated from `--help` by `python docs/gen_cli.py`; do not edit by hand.\n",
    ]
    for words in COMMANDS:
        result = runner.invoke(app, [*words, "--help"], prog_name="iso-social")
        if result.exit_code != 0:
            raise SystemExit(f"iso-social {' '.join(words)} --help failed")
        title = " ".join(["iso-social", *words])
        parts.append(f"## `{title}`\n\n```text\n{result.stdout.rstrip()}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    OUTPUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUTPUT}\n")
