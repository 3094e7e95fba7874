"""Evidence packages an auditor can check offline: results, evidence CSV, policies, SHA-256 sums.

The package holds `results.json` (the run document with its integrity block), `evidence.csv`
(one row per nonconforming case), the policy files exactly as the run used them, `ledger.json`
(the run's place in the hash chain) and `SHA256SUMS`, which `sha256sum -c SHA256SUMS` checks.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from iso_social.errors import EvidenceError
from iso_social.evidence.models import RecordedRun

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

README = """\
iso-social evidence package for run {run_id}

results.json   the run's results as recorded (schema version {schema}), with its digest
evidence.csv   one row per nonconforming case
policies/      the policy documents exactly as the run used them
ledger.json    the run's sequence number, digest and the previous run's digest
SHA256SUMS     SHA-256 of every file above

Check the package:   sha256sum -c SHA256SUMS
Check the ledger:    iso-social evidence verify --db <database>
The run digest is SHA-256(previous digest + "\\n" + sequence + "\\n" + canonical JSON of the
run document), where the canonical JSON is results.json without its "integrity" block,
serialised with sorted keys and no spaces, in UTF-8 without escaping other characters:
in Python, json.dumps(document, sort_keys=True, separators=(",", ":"),
ensure_ascii=False).encode().
"""


def safe_cell(value: object) -> str:
    """A CSV cell that spreadsheet software will not execute as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def evidence_csv(run: RecordedRun) -> bytes:
    """One row per nonconforming case of every control."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["run_id", "control_id", "verdict", "conversation_id", "message_ids", "value", "detail"]
    )
    for control in run.document["controls"]:
        for item in control["evidence"]:
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        run.run_id,
                        control["id"],
                        control["verdict"],
                        item["conversation_id"],
                        " ".join(item["message_ids"]),
                        item["value"],
                        item["detail"],
                    )
                ]
            )
    return buffer.getvalue().encode("utf-8")


def _policy_name(path: str, taken: set[str]) -> str:
    """A safe file name for a policy copy: the recorded file's name with anything but letters,
    digits, `.`, `_` and `-` replaced, never hidden, never `..` (the name comes from the run's
    document, and a crafted database must not steer where the package writes)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", PurePosixPath(path.replace("\\", "/")).name)
    name = name.lstrip(".") or "policy.yaml"
    stem, dot, suffix = name.rpartition(".")
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}{dot}{suffix}" if dot else f"{name}-{n}"
    taken.add(candidate)
    return candidate


def results_json(run: RecordedRun) -> bytes:
    """The run's results as the package's `results.json` holds them: keys sorted, so the bytes
    (and their SHA-256, which OSCAL exports cite) are the same whether the run was just recorded
    or read back from the ledger."""
    text = json.dumps(run.output_document(), indent=2, ensure_ascii=False, sort_keys=True)
    return (text + "\n").encode("utf-8")


def policy_paths(run: RecordedRun) -> list[str]:
    """Where the package keeps each policy document of the run, in the document's order."""
    taken: set[str] = set()
    return [f"policies/{_policy_name(p['path'], taken)}" for p in run.document["policies"]]


def package_files(run: RecordedRun, snapshot: Callable[[str], str | None]) -> dict[str, bytes]:
    """Every file of the package by its relative path, SHA256SUMS last."""
    files: dict[str, bytes] = {
        "README.txt": README.format(
            run_id=run.run_id, schema=run.document["schema_version"]
        ).encode(),
        "results.json": results_json(run),
        "evidence.csv": evidence_csv(run),
        "ledger.json": (
            json.dumps(
                {
                    "run_id": run.run_id,
                    "sequence": run.seq,
                    "run_sha256": run.digest,
                    "previous_run_sha256": run.previous_digest,
                },
                indent=2,
            )
            + "\n"
        ).encode(),
    }
    for policy, name in zip(run.document["policies"], policy_paths(run), strict=True):
        content = snapshot(policy["sha256"])
        if content is None:
            raise EvidenceError(
                f"the policy file {policy['path']} used by run {run.run_id} "
                "is not in the store's snapshots",
                hint="runs recorded before snapshots existed cannot be exported",
            )
        data = content.encode("utf-8")
        if hashlib.sha256(data).hexdigest() != policy["sha256"]:
            data = ("\ufeff" + content).encode("utf-8")  # the original had a byte-order mark
        files[name] = data
    return package_files_with_sums(files)


def package_files_with_sums(files: dict[str, bytes]) -> dict[str, bytes]:
    """The files plus `SHA256SUMS` over all of them, in `sha256sum -c` format."""
    sums = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n"
        for name, data in sorted(files.items())
        if name != "SHA256SUMS"
    )
    return {**{k: v for k, v in files.items() if k != "SHA256SUMS"}, "SHA256SUMS": sums.encode()}


def _check_names(files: dict[str, bytes]) -> None:
    for name in files:
        parts = PurePosixPath(name).parts
        if (
            not parts
            or name.startswith("/")
            or "\\" in name
            or any(p in ("..", ".") for p in parts)
        ):
            raise EvidenceError(
                f"refusing to write '{name}': a package file must stay inside the package",
                hint="the run's recorded document is damaged; run `iso-social evidence verify`",
            )


def write_package(files: dict[str, bytes], target: Path) -> Path:
    """Write the package to a folder, or to a ZIP file when `target` ends in `.zip`; every file
    stays inside it."""
    _check_names(files)
    if target.suffix.lower() == ".zip":
        if target.is_dir():
            raise EvidenceError(f"{target} is a folder", hint="give a .zip file name")
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
        return target
    if target.exists() and any(target.iterdir()):
        raise EvidenceError(
            f"{target} exists and is not empty", hint="choose a new folder, or a .zip file name"
        )
    for name, data in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return target
