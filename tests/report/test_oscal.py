"""OSCAL assessment-results: valid against NIST's OSCAL 1.2 model (compliance-trestle's
pydantic classes, generated from NIST's JSON schemas), deterministic, and its evidence links
carry the SHA-256 of the files an evidence export writes."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from trestle.oscal.assessment_results import Model

from iso_social import pipeline
from iso_social.config import Settings
from iso_social.evidence.models import RecordedRun
from iso_social.report import ReportFormat


@pytest.fixture
def checked(demo_check: tuple[str, RecordedRun]) -> tuple[str, RecordedRun]:
    return demo_check


def oscal(run: RecordedRun) -> dict[str, Any]:
    return json.loads(pipeline.render_report(run, ReportFormat.OSCAL, Settings()))


def _normalised(value: Any) -> Any:
    """Datetimes compared as instants (the model re-spells them), everything else as is."""
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalised(v) for v in value]
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and value[10] == "T":
        try:
            return datetime.fromisoformat(value).replace(microsecond=0)
        except ValueError:
            return value
    return value


def test_valid_oscal_assessment_results(checked: tuple[str, RecordedRun]) -> None:
    document = oscal(checked[1])
    model = Model.model_validate(document, by_alias=True, by_name=False)
    again = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    assert _normalised(again) == _normalised(document)  # nothing dropped, nothing renamed


def test_controls_findings_and_observations(checked: tuple[str, RecordedRun]) -> None:
    run = checked[1]
    controls = run.document["controls"]
    (result,) = oscal(run)["assessment-results"]["results"]
    selected = result["reviewed-controls"]["control-selections"][0]["include-controls"]
    assert [c["control-id"] for c in selected] == [c["id"] for c in controls]
    assert len(result["observations"]) == len(controls)
    evaluated = [c for c in controls if c["verdict"] != "not_evaluated"]
    states = {f["target"]["target-id"]: f["target"]["status"]["state"] for f in result["findings"]}
    assert set(states) == {c["id"] for c in evaluated}
    for control in evaluated:
        failed = control["verdict"] in ("minor_nonconformity", "major_nonconformity", "waived")
        assert states[control["id"]] == ("not-satisfied" if failed else "satisfied")
    assert "not-satisfied" in states.values() and "satisfied" in states.values()


def test_evidence_links_carry_the_hashes_of_the_exported_files(
    checked: tuple[str, RecordedRun], tmp_path: Path
) -> None:
    db, run = checked
    package = pipeline.export_evidence(db, run.run_id, tmp_path / "package")
    document = oscal(run)["assessment-results"]
    resources = {r["uuid"]: r for r in document["back-matter"]["resources"]}
    in_package = set()
    for resource in resources.values():
        for rlink in resource["rlinks"]:
            (digest,) = rlink["hashes"]
            assert digest["algorithm"] == "SHA-256"
            path = package / rlink["href"]  # an input's href is its own (absolute) path
            actual = hashlib.sha256(path.read_bytes()).hexdigest()
            assert actual == digest["value"], rlink["href"]
            if not Path(rlink["href"]).is_absolute():
                in_package.add(rlink["href"])
    assert in_package == {"results.json"} | {
        str(p.relative_to(package)) for p in (package / "policies").iterdir()
    }
    for observation in document["results"][0]["observations"]:
        for evidence in observation["relevant-evidence"]:
            assert evidence["href"].removeprefix("#") in resources


def test_the_same_run_gives_the_same_document(checked: tuple[str, RecordedRun]) -> None:
    run = checked[1]
    assert pipeline.render_report(run, ReportFormat.OSCAL, Settings()) == pipeline.render_report(
        run, ReportFormat.OSCAL, Settings()
    )


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d["results"][0]["findings"][0]["target"].update(type="control-id"),
        lambda d: d["results"][0]["observations"][0].update(collected="yesterday"),
        lambda d: d["metadata"].update(oscal_version="1.2.1"),
        lambda d: d["results"][0].pop("start"),
    ],
)
def test_the_model_refuses_invalid_documents(checked: tuple[str, RecordedRun], damage: Any) -> None:
    """The validation bites: a wrong enum value, an unknown field or a missing one fail."""
    document = oscal(checked[1])
    damage(document["assessment-results"])
    with pytest.raises(ValidationError):
        Model.model_validate(document, by_alias=True, by_name=False)
