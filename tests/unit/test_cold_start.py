"""The handlers' imports run with the cyclic collector paused, and what they built is frozen
out of its generations afterwards: every Lambda handler module does so."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from bench.imports import handler_modules
from lambdas.core.cold_start import collection_paused
from local.resources import LAMBDA_HANDLERS


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


@pytest.mark.parametrize("module", handler_modules(LAMBDA_HANDLERS.values()))
def test_each_handler_is_imported_with_collection_paused(module: str) -> None:
    """In a fresh interpreter, as Lambda starts one: after the import, what it built is frozen
    and the collector runs again."""
    code = f"import gc, {module}; print(gc.get_freeze_count(), gc.isenabled())"
    completed = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=60,
    )
    frozen, enabled = completed.stdout.split()

    assert int(frozen) > 10_000
    assert enabled == "True"
