"""The docs stay true: CLI reference current, examples valid, README and CI in step."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

from iso_social.policy import load_policy
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "docs"))
import gen_cli

CONTROL_HEADER = """\
id: DOC-EXAMPLE
title: Example from docs/controls.md
version: "1"
owner: docs
approved_by: docs
approved_on: 2026-11-01
effective_from: 2026-11-01
calendars:
  madrid_office:
    timezone: Europe/Madrid
    hours: {mon-fri: ["09:00-14:00", "15:00-19:00"]}
controls:
"""


def test_cli_reference_is_current() -> None:
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == gen_cli.render(), (
        "docs/cli.md is stale: run `python docs/gen_cli.py`"
    )


@pytest.mark.parametrize("words", [w for w in gen_cli.COMMANDS if w])
def test_every_command_has_help_and_a_runnable_example(words: list[str]) -> None:
    from typer.testing import CliRunner

    from iso_social.cli import app

    result = CliRunner().invoke(app, [*words, "--help"])
    assert result.exit_code == 0
    is_group = words in (["policy"], ["evidence"], ["nc"], ["baseline"], ["schedule"])
    assert is_group or "Example: iso-social " in result.stdout


def test_control_examples_in_the_docs_validate(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "controls.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    examples = [b for b in blocks if b.lstrip().startswith("- id:")]
    assert len(examples) >= 2
    for index, block in enumerate(examples):
        path = tmp_path / f"example{index}.yaml"
        path.write_text(CONTROL_HEADER + block, encoding="utf-8")
        assert load_policy(path).controls
    calendars = [b for b in blocks if b.startswith("calendars:")]
    for block in calendars:
        assert yaml.safe_load(block)["calendars"]


def test_readme_quickstart_and_ci_agree() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    demo = 'pip install -e ".[dev]" && iso-social demo'
    tests = 'pip install -e ".[dev]" && pytest'
    assert demo in readme and tests in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert tests in ci
