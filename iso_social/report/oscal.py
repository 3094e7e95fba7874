"""OSCAL `assessment-results` (NIST OSCAL 1.2): the run as GRC tools import it.

One OSCAL result per run: the audit window is its start and end, every control is a reviewed
control, each control's measurement is an observation (method TEST) and each evaluated control a
finding whose objective status is `satisfied` or `not-satisfied`. Evidence is linked, not copied:
observations point at back-matter resources for the run's `results.json` and the policy
documents, named as `iso-social evidence export` names them and carrying their SHA-256, plus the
input files with theirs. Our own JSON stays the source of truth; this is a translation of it.

UUIDs are derived from the run's digest, so the same run always gives the same document.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any, ClassVar

from iso_social.evidence.export import policy_paths, results_json
from iso_social.evidence.models import RecordedRun
from iso_social.report.base import ReportOptions

OSCAL_VERSION = "1.2.1"
NS = "https://github.com/iso-social/iso-social/ns/oscal"
_ROOT = uuid.UUID("5a0c9d8e-2f41-4c8b-9a3e-7d1f0b6c4e21")
_STATE = {
    "conforms": ("satisfied", "pass"),
    "observation": ("satisfied", "pass"),
    "minor_nonconformity": ("not-satisfied", "fail"),
    "major_nonconformity": ("not-satisfied", "fail"),
    "waived": ("not-satisfied", "other"),
}


def _uuid(run: RecordedRun, *parts: str) -> str:
    return str(uuid.uuid5(_ROOT, ":".join((run.digest, *parts))))


def _prop(name: str, value: object) -> dict[str, str]:
    return {"name": name, "ns": NS, "value": str(value)}


def _resources(run: RecordedRun) -> list[dict[str, Any]]:
    doc = run.document
    resources = [
        {
            "uuid": _uuid(run, "resource", "results"),
            "title": f"iso-social results of run {run.run_id}",
            "description": "The run's results as recorded in the evidence ledger "
            "(`iso-social evidence export` writes this file).",
            "props": [_prop("run-sha256", run.digest), _prop("sequence", run.seq)],
            "rlinks": [
                {
                    "href": "results.json",
                    "media-type": "application/json",
                    "hashes": [
                        {
                            "algorithm": "SHA-256",
                            "value": hashlib.sha256(results_json(run)).hexdigest(),
                        }
                    ],
                }
            ],
        }
    ]
    for policy, href in zip(doc["policies"], policy_paths(run), strict=True):
        resources.append(
            {
                "uuid": _uuid(run, "resource", "policy", policy["id"]),
                "title": f"{policy['id']} {policy['title']} (version {policy['version']})",
                "description": f"Policy document approved by {policy['approved_by']} on "
                f"{policy['approved_on']}, effective from {policy['effective_from']}.",
                "rlinks": [
                    {
                        "href": href,
                        "media-type": "application/yaml",
                        "hashes": [{"algorithm": "SHA-256", "value": policy["sha256"]}],
                    }
                ],
            }
        )
    for number, item in enumerate(doc["inputs"]):
        resources.append(
            {
                "uuid": _uuid(run, "resource", "input", str(number), item["sha256"]),
                "title": f"Input log {item['path']} ({item['format']})",
                "description": f"{item['records_read']} records read, {item['stored']} stored, "
                f"{item['rejected']} rejected.",
                "rlinks": [
                    {
                        "href": item["path"],
                        "hashes": [{"algorithm": "SHA-256", "value": item["sha256"]}],
                    }
                ],
            }
        )
    return resources


def _observation(
    run: RecordedRun, control: dict[str, Any], evidence: list[dict[str, str]], max_rows: int
) -> dict[str, Any]:
    shown = control["evidence"][:max_rows]
    props = [
        _prop("verdict", control["verdict"]),
        _prop("population", control["population"]),
        _prop("conforming", control["conforming"]),
        _prop("nonconforming", control["nonconforming"]),
        *([_prop("rate", control["rate"])] if control["rate"] is not None else []),
        *([_prop("target", control["target"])] if control["target"] is not None else []),
        *(_prop("nonconforming-case", e["conversation_id"]) for e in shown),
    ]
    nonconforming = control["verdict"] in ("minor_nonconformity", "major_nonconformity")
    return {
        "uuid": _uuid(run, "observation", control["id"]),
        "title": f"{control['id']}: {control['title']}",
        "description": control["statement"],
        "props": props,
        "methods": ["TEST"],
        "types": ["finding" if nonconforming else "control-objective"],
        "relevant-evidence": evidence,
        "collected": run.document["created_at"],
        **(
            {"remarks": f"{len(control['evidence']) - max_rows} more cases in results.json."}
            if len(control["evidence"]) > max_rows
            else {}
        ),
    }


def _finding(run: RecordedRun, control: dict[str, Any]) -> dict[str, Any] | None:
    if control["verdict"] not in _STATE:
        return None  # not evaluated: nothing was measured, the observation says why
    state, reason = _STATE[control["verdict"]]
    clauses = "; ".join(control["clauses"])
    finding: dict[str, Any] = {
        "uuid": _uuid(run, "finding", control["id"]),
        "title": f"{control['id']}: {control['verdict'].replace('_', ' ')}",
        "description": control["statement"],
        "props": [_prop("grade", control["verdict"]), _prop("policy", control["policy_id"])],
        "target": {
            "type": "objective-id",
            "target-id": control["id"],
            "description": f"{control['title']} ({clauses})" if clauses else control["title"],
            "status": {"state": state, "reason": reason},
        },
        "related-observations": [{"observation-uuid": _uuid(run, "observation", control["id"])}],
    }
    if control["verdict"] == "waived" and control["waivers"]:
        waiver = control["waivers"][0]
        finding["remarks"] = (
            f"Waived: {waiver['justification']} (approved by {waiver['approved_by']} on "
            f"{waiver['approved_on']}, expires {waiver['expires']})."
        )
    return finding


def assessment_results(run: RecordedRun, options: ReportOptions) -> dict[str, Any]:
    """The run as an OSCAL `assessment-results` document."""
    doc = run.document
    resources = _resources(run)
    by_policy = {
        policy["id"]: resource["uuid"]
        for policy, resource in zip(doc["policies"], resources[1:], strict=False)
    }
    findings = [f for c in doc["controls"] if (f := _finding(run, c)) is not None]
    observations = []
    for control in doc["controls"]:
        evidence = [
            {"href": f"#{resources[0]['uuid']}", "description": "The run's recorded results."},
            {
                "href": f"#{by_policy[control['policy_id']]}",
                "description": f"The policy document {control['policy_id']} that defines the "
                "control.",
            },
        ]
        observations.append(_observation(run, control, evidence, options.max_rows))
    return {
        "assessment-results": {
            "uuid": _uuid(run, "assessment-results"),
            "metadata": {
                "title": f"Customer-service quality audit — run {run.run_id}",
                "last-modified": doc["created_at"],
                "version": run.run_id,
                "oscal-version": OSCAL_VERSION,
                "props": [_prop("tool-version", doc["tool_version"])],
                "parties": [
                    {
                        "uuid": _uuid(run, "party", options.organisation),
                        "type": "organization",
                        "name": options.organisation,
                    }
                ],
            },
            "import-ap": {
                "href": f"#{resources[1]['uuid'] if len(resources) > 1 else resources[0]['uuid']}",
                "remarks": "The assessment plan is the set of policy documents in back-matter.",
            },
            "results": [
                {
                    "uuid": _uuid(run, "result"),
                    "title": f"Check run {run.run_id}",
                    "description": f"Every control of {len(doc['policies'])} policy documents "
                    f"evaluated over the audit window {doc['window']['from']} to "
                    f"{doc['window']['to']} (half-open).",
                    "start": doc["window"]["from"],
                    "end": doc["window"]["to"],
                    "reviewed-controls": {
                        "control-selections": [
                            {"include-controls": [{"control-id": c["id"]} for c in doc["controls"]]}
                        ]
                    },
                    "observations": observations,
                    **({"findings": findings} if findings else {}),
                }
            ],
            "back-matter": {"resources": resources},
        }
    }


class OscalReporter:
    """OSCAL assessment-results JSON."""

    name: ClassVar[str] = "oscal"
    suffix: ClassVar[str] = ".json"

    def render(self, run: RecordedRun, options: ReportOptions) -> bytes:
        """The document, indented, UTF-8."""
        text = json.dumps(assessment_results(run, options), indent=2, ensure_ascii=False)
        return (text + "\n").encode("utf-8")
