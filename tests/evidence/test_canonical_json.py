"""The run digest's canonical JSON: orjson's speed, Python's `json.dumps` bytes (the form
docs/evidence.md publishes for an auditor's own check)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from iso_social.evidence.models import canonical_json


def published(document: Any) -> bytes:
    """The form docs/evidence.md gives, as an auditor would compute it."""
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=-1e-4, max_value=1e-4, allow_nan=False)
    | st.text()
    | st.sampled_from(["e-mail", "re-open 1e-5", "0.00001", "2e-", "9.0000", "\u2028\x7f\x00"])
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=40,
)


@given(st.dictionaries(st.text(max_size=8), DOCUMENTS, max_size=6))
@example({"value": 1e-05})
@example({"value": 2.5e-07, "detail": "e-mail"})
@example({"rate": 0.0001, "measures": {"p90": 1e16, "small": -3e-300}})
@example({"z": 1, "é": 2, "a": [3, {"b": None, "A": True}], "\U0001f600": "\U0001f600"})
def test_the_same_bytes_as_json_dumps(document: dict[str, Any]) -> None:
    assert canonical_json(document) == published(document)


class Grade(StrEnum):
    MAJOR = "major"


@pytest.mark.parametrize(
    "document",
    [{"grade": Grade.MAJOR}, {"ids": ("m1", "m2")}, {10: "a", 9: "b"}, {"big": 2**70}],
    ids=["str-subclass", "tuple", "int-keys", "big-int"],
)
def test_what_orjson_writes_otherwise_is_written_as_json_writes_it(
    document: dict[Any, Any],
) -> None:
    assert canonical_json(document) == published(document)


@dataclass
class Case:
    conversation_id: str


@pytest.mark.parametrize("value", [datetime(2026, 11, 1, tzinfo=UTC), Case("c1")])
def test_what_json_refuses_is_refused(value: object) -> None:
    with pytest.raises(TypeError):
        canonical_json({"at": value})


def test_a_float_that_is_not_finite_is_written_as_null() -> None:
    """json refuses it (allow_nan=False); a run is not lost to it, and the stored document
    reads back as the null it was hashed as."""
    body = canonical_json({"rate": float("nan"), "value": float("inf")})
    assert body == b'{"rate":null,"value":null}'
    assert canonical_json(json.loads(body)) == published(json.loads(body)) == body
