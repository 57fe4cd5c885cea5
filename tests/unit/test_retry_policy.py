"""How the workflow tells a failed transcoder task's class, and what each class may retry,
read from stepfunctions/pipeline.asl.json. The Choice rules are evaluated here by a small
evaluator of the operators they use, on task descriptions shaped as ECS returns them."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdas.pipeline import failure
from lambdas.pipeline.failure import StepError, describe_failure, ffmpeg_reason_key
from transcoder.__main__ import EXIT_MEDIA, EXIT_TERMINATED
from transcoder.contract import ChunkSpec, TranscodeJob
from transcoder.ffmpeg_process import MediaError
from transcoder.runner import failure_key

ASL = Path(__file__).resolve().parents[2] / "stepfunctions" / "pipeline.asl.json"


def processor_states() -> dict[str, Any]:
    def maps(states: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for state in states.values():
            if state["Type"] == "Map":
                yield state
                yield from maps(state["ItemProcessor"]["States"])

    definition = json.loads(ASL.read_text())
    (inner,) = [
        m for m in maps(definition["States"]) if "RunTranscoder" in m["ItemProcessor"]["States"]
    ]
    found: dict[str, Any] = inner["ItemProcessor"]["States"]
    return found


def lookup(data: Any, path: str) -> Any:
    """A JSONPath of names and [n] indexes; KeyError when absent."""
    value = data
    for name, index in re.findall(r"\.(\w+)|\[(\d+)\]", path.removeprefix("$")):
        value = value[int(index)] if index else value[name]
    return value


def holds(rule: dict[str, Any], data: Any) -> bool:
    if "And" in rule:
        return all(holds(each, data) for each in rule["And"])
    if "Or" in rule:
        return any(holds(each, data) for each in rule["Or"])
    try:
        value = lookup(data, rule["Variable"])
    except (KeyError, IndexError):
        return rule.get("IsPresent") is False
    if "IsPresent" in rule:
        return bool(rule["IsPresent"])
    if "IsNumeric" in rule:
        return isinstance(value, int | float) and not isinstance(value, bool)
    operators = {
        "StringEquals": lambda a, b: a == b,
        "NumericEquals": lambda a, b: a == b,
        "NumericGreaterThanEquals": lambda a, b: a >= b,
    }
    (operator,) = [name for name in operators if name in rule]
    return bool(operators[operator](value, rule[operator]))


def choose(state_name: str, data: Any) -> str:
    state = processor_states()[state_name]
    chosen = next((c["Next"] for c in state["Choices"] if holds(c, data)), state["Default"])
    return str(chosen)


def stopped_task(
    exit_code: int | None, stop_code: str = "EssentialContainerExited"
) -> dict[str, Any]:
    return {
        "TaskArn": "arn:aws:ecs:us-east-1:123456789012:task/streamforge/abc",
        "StopCode": stop_code,
        "Containers": [{"Name": "transcoder", "ExitCode": exit_code}],
    }


def classify(task: dict[str, Any]) -> str:
    """ReadTaskFailure and ReadContainer, then the Choice."""
    return choose(
        "ClassifyTaskFailure", {"failed": {"task": task, "container": task["Containers"][0]}}
    )


@pytest.mark.parametrize(
    ("task", "budget"),
    [
        (stopped_task(143, "SpotInterruption"), "InterruptionBudget"),
        (stopped_task(None, "SpotInterruption"), "InterruptionBudget"),  # killed before it exited
        (stopped_task(137, "TerminationNotice"), "InterruptionBudget"),
        (stopped_task(EXIT_TERMINATED), "InterruptionBudget"),  # SIGTERM from anywhere else
        (stopped_task(EXIT_MEDIA), "MediaBudget"),
        (stopped_task(137), "OtherBudget"),  # a crash
        (stopped_task(1), "OtherBudget"),
    ],
)
def test_a_failed_task_is_classified_by_its_stop_code_and_exit_code(
    task: dict[str, Any], budget: str
) -> None:
    assert classify(task) == budget
    # RecordFailure's message tells the same class apart
    assert failure.is_interruption(task) == (budget == "InterruptionBudget")


def attempts_until_failed(budget: str, count: str, **state: Any) -> int:
    """Runs the budget Choice with the counter growing as its Count state grows it."""
    attempts = 1
    counts = {"interrupted": 0, "media": 0, "other": 0}
    while True:
        data = {"attempts": {"counts": counts, "spot_fallback": "false", **state}}
        chosen = choose(budget, data)
        if processor_states()[chosen]["Type"] == "Fail":
            return attempts
        counts[count] += 1
        attempts += 1


def test_each_class_has_its_own_attempt_budget() -> None:
    assert attempts_until_failed("InterruptionBudget", "interrupted") == 5
    assert attempts_until_failed("MediaBudget", "media") == 2  # FFmpeg gets one more try
    assert attempts_until_failed("OtherBudget", "other") == 3  # as every failure had before


def wait_schedule(count_state: str) -> list[int]:
    waits = processor_states()[count_state]["Parameters"]
    if "wait_seconds" in waits:
        return [int(waits["wait_seconds"])]
    array = re.search(r"States\.Array\(([\d, ]+)\)", waits["wait_seconds.$"])
    assert array is not None
    return [int(n) for n in array.group(1).split(",")]


def test_interruptions_wait_longer_each_time_and_every_class_waits_before_retrying() -> None:
    interruption = wait_schedule("CountInterruption")
    assert len(interruption) == 4  # one wait per retry of the budget
    assert all(b >= 2 * a for a, b in itertools.pairwise(interruption))
    assert wait_schedule("CountMediaFailure") == [2]
    assert wait_schedule("CountOtherFailure") == [2, 4]
    for name in ("CountInterruption", "CountMediaFailure", "CountOtherFailure"):
        assert processor_states()[name]["Next"] == "WaitToRetry"
    assert processor_states()["WaitToRetry"]["Next"] == "RunTranscoder"


def test_the_spot_fallback_moves_only_the_last_interrupted_attempt_to_on_demand() -> None:
    def after(interruptions: int, fallback: str) -> str:
        counts = {"interrupted": interruptions, "media": 0, "other": 0}
        return choose(
            "InterruptionBudget", {"attempts": {"counts": counts, "spot_fallback": fallback}}
        )

    assert [after(n, "true") for n in range(4)] == ["CountInterruption"] * 3 + [
        "FallBackToOnDemand"
    ]
    assert [after(n, "false") for n in range(4)] == ["CountInterruption"] * 4
    on_demand = processor_states()["FallBackToOnDemand"]
    assert (on_demand["Result"], on_demand["ResultPath"]) == (
        "FARGATE",
        "$.attempts.capacity_provider",
    )
    strategy = processor_states()["RunTranscoder"]["Parameters"]["CapacityProviderStrategy"]
    assert strategy == [{"CapacityProvider.$": "$.attempts.capacity_provider", "Weight": 1}]


def test_a_spent_budget_fails_the_iteration_with_the_last_task_as_the_cause() -> None:
    fail = processor_states()["TaskFailedForGood"]
    assert fail["CausePath"] == "$.failure.Cause"  # the task's description, as Catch got it
    task = stopped_task(EXIT_MEDIA)
    described = describe_failure(StepError(Error=fail["Error"], Cause=json.dumps(task)), "", "bad")
    assert described.code == "TRANSCODE_FAILED" and "bad" in described.message


def test_an_interrupted_video_says_so_and_asks_for_a_reprocess() -> None:
    cause = json.dumps(stopped_task(143, "SpotInterruption"))
    described = describe_failure(StepError(Error="TranscoderFailed", Cause=cause))
    assert described.code == "TRANSCODE_INTERRUPTED"
    assert "SpotInterruption" in described.message and "reprocess" in described.message


def test_the_transcoder_and_recordfailure_agree_where_ffmpegs_reason_is() -> None:
    job = TranscodeJob.model_validate(
        {
            "video_id": "v1",
            "source_key": "v1/source",
            "source_version": "3",
            "output_prefix": "v1/hls/480p/",
            "rendition": {
                "kind": "video", "name": "480p", "width": 854, "height": 480, "frame_rate": 25,
                "crf": 22, "max_bitrate_kbps": 1500,
            },
            "chunk": ChunkSpec(
                index=2, count=3, start_seconds=8, duration_seconds=4, first_segment_number=2
            ).model_dump(),
        }
    )  # fmt: skip
    task = stopped_task(EXIT_MEDIA)
    task["Overrides"] = {
        "ContainerOverrides": [
            {"Environment": [{"Name": "STREAMFORGE_JOB", "Value": job.model_dump_json()}]}
        ]
    }
    assert ffmpeg_reason_key(task) == failure_key(job) == "v1/jobs/480p/chunk-0002.failed.json"


def test_ffmpegs_reason_is_its_last_two_errors_without_addresses() -> None:
    error = MediaError(
        "ffmpeg exited with 1",
        [
            "[h264 @ 0x55f5] [warning] something recoverable",
            "[libx264 @ 0x55c07ae74000] [error] width not divisible by 2 (855x480)",
            "[error] Error initializing output stream 0:0",
        ],
    )
    assert error.reason == (
        "[libx264] [error] width not divisible by 2 (855x480); "
        "[error] Error initializing output stream 0:0"
    )
