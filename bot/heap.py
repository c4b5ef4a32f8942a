"""Keeping the garbage collector's full passes short in a long-running process.

At start-up a serving process holds some 370,000 objects that live as long as it does
(the NLU model, aiogram's and pydantic's models, SQLAlchemy's mappers). Every full
collection walked them all: about 275 ms with the event loop stopped, twice in a
five-second benchmark. Frozen once start-up is done (`gc.freeze`, as CPython's
documentation suggests for servers), they are left out of every later collection; what
the process allocates afterwards is collected as usual.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Call once, when start-up is done: collect what start-up left, freeze the rest."""
    gc.collect()
    gc.freeze()
