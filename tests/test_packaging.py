"""A non-editable install carries templates/, policies/ and schemas/ inside the package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import ROOT


def test_wheel_ships_templates_policies_and_schemas(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("iso_social-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "iso_social/_data/templates/report.html.j2",
        "iso_social/_data/templates/report.css",
        "iso_social/_data/policies/social.yaml",
        "iso_social/_data/schemas/check-result.schema.json",
        "iso_social/cli/__init__.py",
    ):
        assert required in names, required
    # and the installed package resolves them from there
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    code = (
        "from iso_social.config import resource_dir; "
        "print(resource_dir('templates')); print(resource_dir('policies'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target)},
        cwd=tmp_path,  # not the checkout: `python -c` puts the working folder first on sys.path
    ).stdout.split()
    assert all(line.startswith(str(target / "iso_social" / "_data")) for line in out), out
