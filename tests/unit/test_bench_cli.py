"""python -m bench's arguments: --only names control-plane parts, and the command that
produced the results says so."""

from __future__ import annotations

import pytest

from bench.__main__ import parse


def test_only_selects_the_named_parts_and_the_command_records_them() -> None:
    options, parts = parse(["--only", "api, lifecycle"])
    assert parts == ["api", "lifecycle"]
    assert options.command == "python -m bench --only api, lifecycle"
    assert options.load_threads == 8  # the full run's load, not the smoke run's


def test_without_only_the_whole_benchmark_runs() -> None:
    options, parts = parse([])
    assert parts is None and options.command == "make bench"


@pytest.mark.parametrize("value", ["pipeline", "api,nope", ","])
def test_an_unknown_or_empty_part_is_refused(value: str) -> None:
    with pytest.raises(SystemExit):
        parse(["--only", value])
