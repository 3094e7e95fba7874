"""JUnit XML for CI servers: one test suite per policy document, one test case per control.

Major and minor nonconformities are failures whose message is the finding's statement and whose
text lists the nonconforming cases (bounded, the full list is in the JSON); observations pass
with their statement in `system-out`; controls not evaluated or waived are skipped with the
reason. Names use control ids and titles, never customer text.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any, ClassVar

from iso_social.evidence.models import RecordedRun
from iso_social.report.base import ReportOptions

FAILURES = ("major_nonconformity", "minor_nonconformity")
SKIPS = ("not_evaluated", "waived")


def _case(suite: ET.Element, control: dict[str, Any], max_rows: int) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=control["policy_id"],
        name=f"{control['id']}: {control['title']}",
        time="0",
    )
    verdict = control["verdict"]
    if verdict in FAILURES:
        failure = ET.SubElement(case, "failure", type=verdict, message=control["statement"])
        lines = [f"{e['conversation_id']}: {e['detail']}" for e in control["evidence"][:max_rows]]
        hidden = len(control["evidence"]) - len(lines)
        failure.text = "\n".join(lines + ([f"... and {hidden} more"] if hidden > 0 else []))
    elif verdict in SKIPS:
        ET.SubElement(case, "skipped", message=f"{verdict}: {control['statement']}")
    elif verdict == "observation":
        ET.SubElement(case, "system-out").text = f"observation: {control['statement']}"


class JUnitReporter:
    """JUnit XML (the format Jenkins, GitLab and GitHub test reporters read)."""

    name: ClassVar[str] = "junit"
    suffix: ClassVar[str] = ".xml"

    def render(self, run: RecordedRun, options: ReportOptions) -> bytes:
        """One `testsuite` per policy document."""
        doc = run.document
        by_policy: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for control in doc["controls"]:
            by_policy[control["policy_id"]].append(control)
        root = ET.Element(
            "testsuites",
            name=f"iso-social run {run.run_id}",
            tests=str(len(doc["controls"])),
            failures=str(sum(c["verdict"] in FAILURES for c in doc["controls"])),
            errors="0",
            time="0",
        )  # no `skipped` here: the JUnit schema CI servers use has it on suites only
        for policy_id, controls in sorted(by_policy.items()):
            suite = ET.SubElement(
                root,
                "testsuite",
                name=policy_id,
                tests=str(len(controls)),
                failures=str(sum(c["verdict"] in FAILURES for c in controls)),
                skipped=str(sum(c["verdict"] in SKIPS for c in controls)),
                errors="0",
                time="0",
                timestamp=doc["created_at"][:19],  # Ant's form: seconds, no zone (UTC)
            )
            for control in controls:
                _case(suite, control, options.max_rows)
        ET.indent(root)
        xml: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        return xml + b"\n"
