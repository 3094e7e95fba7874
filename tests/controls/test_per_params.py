"""`per_params` builds once per parameters object, by identity, and stays bounded."""

from __future__ import annotations

from iso_social.controls.base import per_params
from iso_social.controls.escalation_path import EscalationPathParams


def test_built_once_per_object_and_again_for_an_equal_one() -> None:
    built: list[EscalationPathParams] = []

    @per_params
    def levels(params: EscalationPathParams) -> tuple[str, ...]:
        built.append(params)
        return tuple(params.levels)

    first, twin = EscalationPathParams(), EscalationPathParams()
    assert levels(first) == levels(first) == levels(twin) == tuple(first.levels)
    assert [id(p) for p in built] == [id(first), id(twin)]
    others = [EscalationPathParams() for _ in range(100)]
    for params in others:
        levels(params)
    assert len(built) == 102
    levels(others[-1])  # the newest are still known after the memo was emptied
    assert len(built) == 102
