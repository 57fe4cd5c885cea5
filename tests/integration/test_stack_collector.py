"""What the offline stack builds at start-up is frozen out of the garbage collector's
generations (local/stack.py), so a full collection under load does not walk it."""

from __future__ import annotations

import gc

from local.stack import OfflineStack


def test_what_the_stack_built_at_start_is_out_of_the_collectors_generations(
    offline_stack: OfflineStack,
) -> None:
    built_at_start = offline_stack.deployed
    assert gc.is_tracked(built_at_start)

    in_generations = (obj for generation in range(3) for obj in gc.get_objects(generation))

    assert not any(obj is built_at_start for obj in in_generations)
