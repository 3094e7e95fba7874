"""Policy documents: the contract file loads as written; errors name file, line and field."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict

from iso_social import controls
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


class _BrandParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    brand: str


class _Plugin:
    """A third party's control type, as an `iso_social.controls` entry point loads it."""

    type_name = "mentions_brand"
    summary = "replies that name the brand"
    params_model = _BrandParams

    def evaluate(self, data: Any, params: Any) -> Any:  # never called here
        raise NotImplementedError


class _Shadow(_Plugin):
    type_name = "first_response_time"  # a plug-in may not replace a built-in


class _EntryPoint:
    def __init__(self, cls: type) -> None:
        self.cls = cls

    def load(self) -> type:
        return self.cls


@pytest.fixture
def plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Installed plug-ins (the entry points asked for, by group), with the registry's caches
    emptied around the test."""
    asked: list[str] = []

    def entry_points(*, group: str) -> list[_EntryPoint]:
        asked.append(group)
        return [_EntryPoint(_Plugin), _EntryPoint(_Shadow)]

    monkeypatch.setattr(controls, "entry_points", entry_points)
    controls.control_types.cache_clear()
    yield asked
    controls.control_types.cache_clear()


def test_a_plugin_control_type_is_validated_and_a_builtin_is_not_replaced(
    tmp_path: Path, plugins: list[str]
) -> None:
    # a policy of built-in types alone never reads the installed packages' entry points
    load_policy(write(tmp_path, EXAMPLE_POLICY))
    assert plugins == []
    plugin = EXAMPLE_POLICY.replace("type: first_response_time", "type: mentions_brand").replace(
        "params: {deadline: 1h, calendar: always, target: 0.95}", "params: {brand: Acme}"
    )
    (control,) = load_policy(write(tmp_path, plugin, "plugin.yaml")).controls
    assert control.params.brand == "Acme"  # type: ignore[attr-defined]
    assert plugins == ["iso_social.controls"]
    with pytest.raises(PolicyErrors) as caught:
        load_policy(write(tmp_path, plugin.replace("brand: Acme", "brnd: Acme"), "bad.yaml"))
    locations = {e.location for e in caught.value.errors}  # validated by the plug-in's model
    assert locations == {"controls[0].params.brnd", "controls[0].params.brand"}
    with pytest.raises(PolicyErrors) as caught:
        load_policy(write(tmp_path, plugin.replace("mentions_brand", "mention_brand"), "t.yaml"))
    (error,) = caught.value.errors
    assert error.hint is not None and "did you mean 'mentions_brand'" in error.hint
    types = controls.control_types()
    assert isinstance(types["mentions_brand"], _Plugin)
    assert not isinstance(types["first_response_time"], _Shadow)
    assert controls.control_type("first_response_time") is types["first_response_time"]
