"""Hostile policy documents: whatever the bytes, loading ends in a `Policy` or in `PolicyErrors`
naming the file (and the line where one is known); never a traceback, never code run."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iso_social.errors import PolicyErrors
from iso_social.policy import parse_policy
from tests.conftest import EXAMPLE_POLICY, ROOT

FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
SHIPPED = sorted((ROOT / "policies").glob("*.yaml"))
PATH = Path("policies/fuzzed.yaml")


def load(source: bytes) -> None:
    try:
        parse_policy(source, PATH)
    except PolicyErrors as exc:
        assert exc.errors
        for error in exc.errors:
            assert error.message.startswith(str(PATH)), error.message


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.dates(),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)
field_names = st.sampled_from(
    ["id", "title", "version", "owner", "approved_by", "approved_on", "effective_from",
     "controls", "calendars", "schedule", "waivers", "corrective_action", "params", "type",
     "channels", "severity", "grading", "deadline", "target", "hours", "timezone"]
)  # fmt: skip


@FUZZ
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes(data: bytes) -> None:
    load(data)


@FUZZ
@given(document=documents)
def test_arbitrary_yaml_structures(document: object) -> None:
    load(yaml.safe_dump(document).encode())


@FUZZ
@given(
    replacements=st.dictionaries(field_names, documents, min_size=1, max_size=3),
    shipped=st.sampled_from(SHIPPED),
)
def test_shipped_policies_with_fields_replaced(
    replacements: dict[str, object], shipped: Path
) -> None:
    """Real policies with fields (top level, first control, its params) set to anything."""
    data = yaml.safe_load(shipped.read_text(encoding="utf-8"))
    control = data["controls"][0]
    params = control.setdefault("params", {})
    for name, value in replacements.items():
        target = data if name in data else control if name in control else params
        target[name] = value
    load(yaml.safe_dump(data).encode())


@FUZZ
@given(cut=st.floats(min_value=0, max_value=1), junk=st.sampled_from(["", "\t", ":", "- ", "&a"]))
def test_truncated_policy(cut: float, junk: str) -> None:
    text = EXAMPLE_POLICY[: int(len(EXAMPLE_POLICY) * cut)] + junk
    load(text.encode())


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(b"[" * 50_000 + b"]" * 50_000, id="deep flow sequence"),
        pytest.param(b"[" * 8_000 + b"]" * 8_000, id="deep but short (libyaml)"),
        pytest.param(b"a:\n" + b"".join(b"  " * i + b"- \n" for i in range(1, 3000)), id="deep"),
        pytest.param(
            b'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
            + b"".join(
                f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n".encode()
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            )
            + b"controls: *i\n",
            id="billion laughs",
        ),
        pytest.param(b"id: !!python/object/apply:os.system ['true']\n", id="python tag"),
        pytest.param(b"\xff\xfe" + "id: x\n".encode("utf-16-le"), id="utf-16"),
        pytest.param(b"id: x\n" * 100_000, id="duplicate keys"),
        pytest.param(b"id: '" + b"x" * 5_000_000 + b"'\n", id="huge scalar"),
        pytest.param(b"\x00\x01\x02", id="control bytes"),
    ],
)
def test_hostile_documents(source: bytes) -> None:
    load(source)
