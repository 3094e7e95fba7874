"""JUnit output is valid for the CI servers that read it: it validates against the JUnit schema
(`tests/assets/junit.xsd`, the common ground of Jenkins' junit-10 and the Ant format), and a
JUnit parser sees the counts the JSON has."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import xmlschema
from junitparser import Error, Failure, JUnitXml, Skipped

from iso_social import pipeline
from iso_social.config import Settings
from iso_social.evidence.models import RecordedRun
from iso_social.report import ReportFormat

SCHEMA = xmlschema.XMLSchema(Path(__file__).parents[1] / "assets" / "junit.xsd")


@pytest.fixture
def demo_run(demo_check: tuple[str, RecordedRun]) -> RecordedRun:
    return demo_check[1]


def junit(run: RecordedRun) -> bytes:
    return pipeline.render_report(run, ReportFormat.JUNIT, Settings())


def test_validates_against_the_junit_schema(demo_run: RecordedRun) -> None:
    SCHEMA.validate(io.BytesIO(junit(demo_run)))


def test_a_junit_parser_reads_the_same_counts_as_the_json(demo_run: RecordedRun) -> None:
    document = json.loads(pipeline.render_report(demo_run, ReportFormat.JSON, Settings()))
    verdicts = [c["verdict"] for c in document["controls"]]
    parsed = JUnitXml.fromstring(junit(demo_run).decode("utf-8"))
    cases = [case for suite in parsed for case in suite]
    assert len(cases) == len(verdicts)
    results = [type(r) for case in cases for r in case.result]
    assert results.count(Failure) == sum(
        v in ("major_nonconformity", "minor_nonconformity") for v in verdicts
    )
    assert results.count(Skipped) == sum(v in ("not_evaluated", "waived") for v in verdicts)
    assert Error not in results
    assert {"major_nonconformity", "minor_nonconformity"} <= set(verdicts)  # both exercised


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda x: x.replace(b"<testsuites ", b'<testsuites skipped="1" ', 1), "attribute"),
        (lambda x: x.replace(b'timestamp="', b'timestamp="x', 1), "timestamp"),
        (lambda x: x.replace(b"<testcase ", b"<testcase bogus='1' ", 1), "attribute"),
        (lambda x: x.replace(b'tests="', b'tests="-', 1), "count"),
    ],
)
def test_the_schema_refuses_what_ci_servers_refuse(
    demo_run: RecordedRun, change: object, reason: str
) -> None:
    """The schema bites: small departures from the format are refused."""
    assert callable(change)
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        SCHEMA.validate(io.BytesIO(change(junit(demo_run))))
