"""Every control type keeps the contract: registry, module name, docs, tests and a policy use."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from iso_social.config import resource_dir
from iso_social.controls import BUILTIN_CONTROL_TYPES, ControlInput, ControlType, control_types
from iso_social.domain import Outcome
from iso_social.policy import load_policies
from tests.conftest import ROOT, T0
from tests.controls.test_first_response_time import WINDOW

TYPES = [cls.type_name for cls in BUILTIN_CONTROL_TYPES]


@pytest.mark.parametrize("name", TYPES)
def test_type_contract(name: str) -> None:
    control_type = control_types()[name]
    assert isinstance(control_type, ControlType)
    module = importlib.import_module(type(control_type).__module__)
    assert module.__name__.rsplit(".", 1)[-1] == name
    assert module.__doc__ and type(control_type).__doc__
    assert type(control_type).__name__ == "".join(p.title() for p in name.split("_"))
    assert type(control_type).params_model.__name__.endswith("Params")


@pytest.mark.parametrize("name", TYPES)
def test_default_params_and_empty_input_give_not_evaluated(name: str) -> None:
    control_type = control_types()[name]
    params = control_type.params_model()
    outcome = control_type.evaluate(ControlInput(window=WINDOW), params)
    assert isinstance(outcome, Outcome) and outcome.conforms is None and outcome.statement
    assert T0 in WINDOW


@pytest.mark.parametrize("name", TYPES)
def test_type_is_documented_tested_and_used(name: str) -> None:
    docs = (ROOT / "docs" / "controls.md").read_text(encoding="utf-8")
    assert f"## `{name}`" in docs
    assert (Path(__file__).parent / f"test_{name}.py").exists()
    used = {c.spec.type for p in load_policies([resource_dir("policies")]) for c in p.controls}
    assert name in used
