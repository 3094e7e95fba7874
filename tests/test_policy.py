"""Policy documents: the contract file loads as written; errors name file, line and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from iso_social.config import resource_dir
from iso_social.errors import PolicyErrors
from iso_social.policy import load_policies, load_policy
from tests.conftest import EXAMPLE_POLICY


def write(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_foundation_example_loads_as_written(example_policy: Path) -> None:
    policy = load_policy(example_policy)
    assert policy.document.id == "POL-CS-01"
    assert policy.document.version == "1.0"
    (control,) = policy.controls
    assert control.spec.id == "TW-FRT-01"
    assert control.params.deadline == timedelta(hours=1)  # type: ignore[attr-defined]
    assert set(policy.calendars()) == {"always", "madrid_office"}
    assert len(policy.sha256) == 64


def test_shipped_policies_validate() -> None:
    policies = load_policies([resource_dir("policies")])
    assert {p.document.id for p in policies} >= {"POL-CS-01", "POL-CS-02", "POL-CS-03"}


def test_typo_in_a_param_names_file_line_field_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE_POLICY.replace("deadline: 1h", "deadlin: 1h"))
    with pytest.raises(PolicyErrors) as caught:
        load_policy(path)
    (error,) = caught.value.errors
    assert error.line == 21
    assert error.location == "controls[0].params.deadlin"
    assert f"{path}:21: controls[0].params.deadlin: unknown field 'deadlin'" == error.message
    assert error.hint is not None and "did you mean 'deadline'" in error.hint


def test_typo_in_a_document_field(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE_POLICY.replace("approved_by:", "aproved_by:"))
    with pytest.raises(PolicyErrors) as caught:
        load_policy(path)
    messages = [e.message for e in caught.value.errors]
    assert f"{path}:5: aproved_by: unknown field 'aproved_by'" in messages
    assert any("approved_by: required field is missing" in m for m in messages)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = EXAMPLE_POLICY.replace("severity: major", "severity: huge").replace(
        "target: 0.95", "target: 1.5"
    )
    with pytest.raises(PolicyErrors) as caught:
        load_policy(write(tmp_path, text))
    locations = {e.location for e in caught.value.errors}
    assert locations == {"controls[0].severity", "controls[0].params.target"}


def test_unknown_control_type_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE_POLICY.replace("first_response_time", "first_respons_time"))
    with pytest.raises(PolicyErrors) as caught:
        load_policy(path)
    (error,) = caught.value.errors
    assert error.location == "controls[0].type" and error.line == 16
    assert error.hint is not None and "first_response_time" in error.hint


def test_unknown_calendar(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE_POLICY.replace("calendar: always", "calendar: office"))
    with pytest.raises(PolicyErrors, match=r"controls\[0\]\.params\.calendar: unknown calendar"):
        load_policy(path)


def test_unquoted_version_gets_a_hint(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE_POLICY.replace('version: "1.0"', "version: 1.0"))
    with pytest.raises(PolicyErrors) as caught:
        load_policy(path)
    assert caught.value.errors[0].line == 3
    assert 'version: "1.0"' in (caught.value.errors[0].hint or "")


def test_duplicate_keys_are_errors_not_silent_overrides(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        EXAMPLE_POLICY.replace("owner: Quality manager", "owner: Quality manager\nowner: Someone"),
    )
    with pytest.raises(PolicyErrors, match="duplicate key"):
        load_policy(path)


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE_POLICY.replace("channels: [twitter]", "channels: [twitter"))
    with pytest.raises(PolicyErrors) as caught:
        load_policy(path)
    assert caught.value.errors[0].line is not None
    assert "YAML syntax error" in caught.value.errors[0].message


def test_unsafe_yaml_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "!!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(PolicyErrors, match="YAML"):
        load_policy(path)


def test_control_ids_are_unique_across_documents(tmp_path: Path) -> None:
    write(tmp_path, EXAMPLE_POLICY, "a.yaml")
    write(tmp_path, EXAMPLE_POLICY.replace("POL-CS-01", "POL-CS-09"), "b.yaml")
    with pytest.raises(PolicyErrors, match="control id 'TW-FRT-01' is already defined"):
        load_policies([tmp_path])


def test_a_missing_policy_folder_is_explained(tmp_path: Path) -> None:
    with pytest.raises(PolicyErrors, match="no such file or folder"):
        load_policies([tmp_path / "nope"])
