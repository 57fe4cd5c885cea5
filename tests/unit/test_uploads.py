"""The upload plan as pure arithmetic: which parts exist, how large each one is signed for, and
which part lists can complete an upload."""

from __future__ import annotations

import pytest

from lambdas.core.errors import FieldError
from lambdas.core.uploads import (
    check_part_list,
    part_count_for,
    part_size_for,
    planned_part_bytes,
)

MIB = 1024 * 1024
PART = 16 * MIB


def test_every_part_but_the_last_is_the_part_size_and_the_last_is_the_rest() -> None:
    size = 2 * PART + 123
    assert part_count_for(size, PART) == 3
    sizes = [planned_part_bytes(size, PART, n) for n in (1, 2, 3)]
    assert sizes == [PART, PART, 123]
    assert sum(sizes) == size


def test_a_size_that_fills_its_parts_exactly_has_no_short_last_part() -> None:
    assert part_count_for(2 * PART, PART) == 2
    assert planned_part_bytes(2 * PART, PART, 2) == PART


def test_a_source_smaller_than_one_part_is_one_part_of_its_own_size() -> None:
    assert part_count_for(10, PART) == 1
    assert planned_part_bytes(10, PART, 1) == 10


def test_the_planned_parts_of_the_largest_upload_add_up_to_its_size() -> None:
    size = 50 * 1024**3 + 7
    part = part_size_for(size, PART)
    count = part_count_for(size, part)
    assert count <= 10_000
    assert (count - 1) * part + planned_part_bytes(size, part, count) == size


@pytest.mark.parametrize("number", [0, -1, 4, 10_000])
def test_a_part_number_outside_the_plan_is_refused_naming_the_field(number: int) -> None:
    with pytest.raises(FieldError) as refused:
        planned_part_bytes(2 * PART + 1, PART, number)
    assert refused.value.field == "part_number"
    assert "parts 1 to 3" in refused.value.detail


def test_the_complete_list_of_planned_parts_passes_in_any_order() -> None:
    check_part_list(3, [3, 1, 2])  # no error


@pytest.mark.parametrize(
    ("numbers", "said"),
    [
        ([1, 3], "missing parts 2:"),
        ([1, 2, 3, 4], "not in it: 4"),
        ([1, 2, 2, 3], "each PartNumber may appear once"),
        ([], "missing parts 1, 2, 3:"),
    ],
)
def test_any_other_part_list_is_refused_saying_what_is_wrong(numbers: list[int], said: str) -> None:
    with pytest.raises(FieldError) as refused:
        check_part_list(3, numbers)
    assert refused.value.field == "parts"
    assert said in refused.value.detail


def test_a_long_list_of_missing_parts_is_cut_short() -> None:
    with pytest.raises(FieldError) as refused:
        check_part_list(1000, [1])
    assert "missing parts 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 989 more:" in refused.value.detail
