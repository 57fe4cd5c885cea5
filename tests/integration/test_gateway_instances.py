"""The gateway's Lambda instances (local/lambda_instances.py): concurrent invocations run
on separate worker processes up to the concurrency, each with its own module state; an
idle instance is reused; errors come back as FunctionError; stop leaves no process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from local.config import REPO_ROOT
from local.lambda_instances import FunctionError, FunctionInstances, FunctionSpec

SPEC = FunctionSpec(
    handler="tests.support.instance_probe.lambda_handler",
    name="instance-probe",
    arn="arn:aws:lambda:us-east-1:123456789012:function:instance-probe",
    timeout_seconds=30,
)


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def make_instances() -> Iterator[Any]:
    made: list[FunctionInstances] = []

    def make(concurrency: int) -> FunctionInstances:
        made.append(FunctionInstances(SPEC, environment, concurrency))
        return made[-1]

    yield make
    for instances in made:
        instances.stop()


def test_two_concurrent_invocations_overlap_on_two_instances_each_cold(
    make_instances: Any, tmp_path: Path
) -> None:
    instances = make_instances(2)
    event = {"rendezvous": str(tmp_path), "count": 2}
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: instances.invoke(event), range(2)))
    # Both saw the other arrive while they waited: they ran at the same time.
    assert [reply["met"] for reply in replies] == [True, True]
    assert len({reply["pid"] for reply in replies}) == 2
    assert [reply["served"] for reply in replies] == [1, 1]  # each module imported afresh
    assert {reply["function"] for reply in replies} == {SPEC.name}
    assert replies[0]["stdout_is_stderr"]  # the handler's prints stay off the replies


def test_beyond_the_concurrency_an_invocation_waits_for_a_busy_instance(
    make_instances: Any, tmp_path: Path
) -> None:
    instances = make_instances(1)
    event = {"rendezvous": str(tmp_path), "count": 2, "wait_seconds": 1}
    with ThreadPoolExecutor(2) as pool:
        replies = list(pool.map(lambda _: instances.invoke(event), range(2)))
    assert sorted(reply["met"] for reply in replies) == [False, True]  # one after the other
    assert len({reply["pid"] for reply in replies}) == 1
    assert sorted(reply["served"] for reply in replies) == [1, 2]


def test_an_idle_instance_is_reused_warm(make_instances: Any) -> None:
    instances = make_instances(4)
    first, second = instances.invoke({}), instances.invoke({})
    assert second["pid"] == first["pid"]
    assert (first["served"], second["served"]) == (1, 2)
    assert instances.pids() == [first["pid"]]


def test_a_handler_error_is_a_function_error_and_the_instance_serves_on(
    make_instances: Any,
) -> None:
    instances = make_instances(1)
    with pytest.raises(FunctionError, match="RuntimeError: asked to fail"):
        instances.invoke({"fail": True})
    assert instances.invoke({})["served"] == 2


def test_stop_leaves_no_instance_process(make_instances: Any, tmp_path: Path) -> None:
    instances = make_instances(3)
    event = {"rendezvous": str(tmp_path), "count": 3}
    with ThreadPoolExecutor(3) as pool:
        replies = list(pool.map(lambda _: instances.invoke(event), range(3)))
    pids = {reply["pid"] for reply in replies}
    assert len(pids) == 3 and all(running(pid) for pid in pids)
    instances.stop()
    assert not any(running(pid) for pid in pids)
    with pytest.raises(FunctionError, match="stopping"):
        instances.invoke({})


def test_a_handler_that_cannot_be_imported_fails_the_invocation_and_its_instance_is_gone() -> None:
    spec = FunctionSpec(
        handler="tests.support.no_such_module.lambda_handler",
        name="broken",
        arn="arn:aws:lambda:us-east-1:123456789012:function:broken",
        timeout_seconds=30,
    )
    instances = FunctionInstances(spec, environment, 1)
    try:
        with pytest.raises(FunctionError, match="init: ModuleNotFoundError"):
            instances.invoke({})
        assert instances.pids() == []
    finally:
        instances.stop()
