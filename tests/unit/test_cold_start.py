"""The handlers' imports run with the cyclic collector paused, and what they built is frozen
out of its generations afterwards."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from lambdas.core.cold_start import collection_paused


@pytest.fixture
def collector() -> Iterator[None]:
    enabled = gc.isenabled()
    yield  # what a test froze stays frozen: unfreezing would free what a stack up holds too
    (gc.enable if enabled else gc.disable)()


@pytest.mark.usefixtures("collector")
def test_collection_is_paused_inside_and_what_was_built_is_frozen() -> None:
    gc.enable()
    frozen_before = gc.get_freeze_count()

    with collection_paused():
        assert not gc.isenabled()
        built = [[index] for index in range(5000)]

    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen_before + len(built)


@pytest.mark.usefixtures("collector")
def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()

    with collection_paused():
        pass

    assert not gc.isenabled()
