"""The pipeline's handling of the garbage collector around a check (`_many_objects`)."""

from __future__ import annotations

import gc
import weakref

import pytest

from iso_social import pipeline


def _in_generation(item: object, generation: int) -> bool:
    return any(o is item for o in gc.get_objects(generation=generation))


def test_what_a_check_allocated_goes_to_the_oldest_generation_unwalked() -> None:
    """Else the first collection after the check walked all of it as young objects (a
    quarter of a second after a check of a million messages)."""
    gc.unfreeze()  # what earlier tests froze (their incremental states) is collectable again
    with pipeline._many_objects():
        assert not gc.isenabled()
        kept = [[] for _ in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert _in_generation(kept, 2) and _in_generation(kept[0], 2)


def test_a_kept_state_stays_frozen() -> None:
    """A scheduler's incremental state is frozen out of the collector's walks: a check without
    state in the same process must not thaw it."""
    state = [[] for _ in range(1000)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with pipeline._many_objects():
            [[] for _ in range(1000)]
        assert gc.get_freeze_count() == frozen and not _in_generation(state, 2)
        with pipeline._many_objects(keep=True):
            kept = [[] for _ in range(1000)]
        assert gc.get_freeze_count() > frozen and not _in_generation(kept, 2)
    finally:
        gc.unfreeze()


class Node:
    """A reference cycle, as a check may leave a few behind (SQLAlchemy expressions)."""

    def __init__(self) -> None:
        self.me = self


def test_cycles_a_kept_check_leaves_are_collected_within_a_bounded_number_of_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A check with an incremental state freezes what it allocated unwalked; the garbage it
    froze is collected at the latest `FULL_COLLECTION_EVERY` such checks later."""
    monkeypatch.setattr(pipeline, "FULL_COLLECTION_EVERY", 3)
    monkeypatch.setattr(pipeline, "_unwalked_checks", 0)
    try:
        with pipeline._many_objects(keep=True):
            cycle = weakref.ref(Node())
            kept = [[] for _ in range(1000)]
        assert cycle() is not None  # frozen with the rest, not walked
        for _ in range(2):
            with pipeline._many_objects(keep=True):
                pass
            assert cycle() is not None
        with pipeline._many_objects(keep=True):  # the fourth: a full collection first
            pass
        assert cycle() is None and kept[0] == [] and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
