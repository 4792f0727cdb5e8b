"""Process-wide settings for runs in this process."""

from __future__ import annotations

import gc

import pytest

from flows.engine.runtime import long_lived_objects_frozen


def test_long_lived_objects_frozen_for_the_block_only() -> None:
    assert gc.get_freeze_count() == 0

    with pytest.raises(RuntimeError), long_lived_objects_frozen():
        # what the process held is out of the collector's passes while the block runs
        assert gc.get_freeze_count() > 0
        raise RuntimeError("the run failed")

    assert gc.get_freeze_count() == 0  # given back, even after a failure


def test_long_lived_objects_frozen_blocks_overlap_and_leave_a_callers_freeze() -> None:
    with long_lived_objects_frozen():
        frozen = gc.get_freeze_count()
        with long_lived_objects_frozen():  # a second run at once: the freeze stays
            pass
        assert gc.get_freeze_count() == frozen > 0
    assert gc.get_freeze_count() == 0

    gc.freeze()  # the process froze its own objects (a server before it forks)
    try:
        before = gc.get_freeze_count()
        with long_lived_objects_frozen():
            pass
        assert gc.get_freeze_count() == before  # not unfrozen by the run
    finally:
        gc.unfreeze()
