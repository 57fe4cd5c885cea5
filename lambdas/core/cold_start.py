"""A handler's cold start without the garbage collector's passes over what it imports.

Importing a handler builds tens of thousands of long-lived objects (modules, classes,
pydantic validators); the cyclic collector runs over them again and again as they pile up,
and finds nothing to free. Paused while the handler module loads, then frozen: what the
import built is moved out of the collector's generations, so the collections a request
triggers scan only what requests make.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collection_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
