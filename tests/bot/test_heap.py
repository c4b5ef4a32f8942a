"""Start-up's long-lived objects are frozen out of later full collections (bot/heap.py)."""

import gc
import weakref

from bot import heap


class Cycle:
    """Garbage only the collector can free."""

    def __init__(self) -> None:
        self.me = self


def test_settling_collects_start_ups_garbage_and_freezes_the_rest():
    gone = weakref.ref(Cycle())
    kept = Cycle()
    try:
        gc.disable()  # nothing collects behind the test's back
        assert gone() is not None
        heap.settle()
        assert gone() is None, "start-up's garbage is collected, not frozen"
        frozen = gc.get_freeze_count()
        assert frozen > 10_000, "the process's live objects are frozen"
        gc.collect()
        assert gc.get_freeze_count() == frozen and kept.me is kept, \
            "full collections leave the frozen objects alone"
    finally:
        gc.unfreeze()
        gc.enable()
