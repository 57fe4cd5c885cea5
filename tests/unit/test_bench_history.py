"""Reading a Step Functions execution history: the transcoder tasks' lives, their job names,
the planned jobs, and where the orchestration overhead goes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.history import (
    OVERHEAD_TOTAL_PARTS,
    TaskInterval,
    claimed_execution,
    completed_at,
    end_of_execution,
    job_name_by_task,
    overhead_breakdown,
    planned_jobs,
    task_intervals,
)
from tests.unit.test_bench_models import LADDER_1080

T0 = datetime(2026, 11, 21, 8, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def submitted(seconds: float, arn: str, job_name: str) -> dict[str, Any]:
    job = next(j for j in LADDER_1080 if j.name == job_name)
    task = {
        "TaskArn": arn,
        "Overrides": {
            "ContainerOverrides": [
                {
                    "Name": "transcoder",
                    "Environment": [{"Name": "STREAMFORGE_JOB", "Value": job.model_dump_json()}],
                }
            ]
        },
    }
    return {
        "timestamp": at(seconds),
        "type": "TaskSubmitted",
        "taskSubmittedEventDetails": {
            "resource": "runTask.sync",
            "output": json.dumps({"Tasks": [task]}),
        },
    }


def succeeded(seconds: float, arn: str) -> dict[str, Any]:
    return {
        "timestamp": at(seconds),
        "type": "TaskSucceeded",
        "taskSucceededEventDetails": {
            "resource": "runTask.sync",
            "output": json.dumps({"TaskArn": arn, "LastStatus": "STOPPED"}),
        },
    }


def state(seconds: float, kind: str, name: str) -> dict[str, Any]:
    key = "stateEnteredEventDetails" if kind.endswith("Entered") else "stateExitedEventDetails"
    return {"timestamp": at(seconds), "type": kind, key: {"name": name}}


HISTORY: list[dict[str, Any]] = [
    {"timestamp": at(1.0), "type": "ExecutionStarted"},
    state(1.05, "TaskStateEntered", "Claim"),
    state(1.15, "TaskStateExited", "Claim"),
    state(1.15, "TaskStateEntered", "Probe"),
    {
        "timestamp": at(1.5),
        "type": "TaskSucceeded",  # the probe: a Lambda, not a transcoder
        "taskSucceededEventDetails": {"resource": "invoke", "output": "{}"},
    },
    state(1.55, "TaskStateExited", "Probe"),
    {
        "timestamp": at(1.6),
        "type": "MapStateEntered",
        "stateEnteredEventDetails": {
            "input": json.dumps({"jobs": [j.model_dump(mode="json") for j in LADDER_1080[:2]]})
        },
    },
    submitted(2.0, "arn:task/a", "1080p"),
    succeeded(12.0, "arn:task/a"),
    submitted(12.5, "arn:task/b", "720p"),
    {
        "timestamp": at(17.0),
        "type": "TaskFailed",
        "taskFailedEventDetails": {
            "resource": "runTask.sync",
            "cause": json.dumps({"TaskArn": "arn:task/b"}),
        },
    },
    state(17.2, "TaskStateEntered", "Finalise"),
    state(17.9, "TaskStateExited", "Finalise"),
    state(17.95, "ChoiceStateEntered", "DownloadToMake"),
    state(18.0, "TaskStateEntered", "MakeDownload"),
    state(18.8, "TaskStateExited", "MakeDownload"),
    {"timestamp": at(19.0), "type": "ExecutionSucceeded"},
]


def test_each_transcoder_lives_from_submitted_to_its_end_matched_by_task_arn() -> None:
    intervals = task_intervals(HISTORY)
    assert [(i.task_arn, i.seconds) for i in intervals] == [
        ("arn:task/a", pytest.approx(10.0)),
        ("arn:task/b", pytest.approx(4.5)),
    ]


def test_tasks_are_named_after_the_job_in_their_container_override() -> None:
    assert job_name_by_task(HISTORY) == {"arn:task/a": "1080p", "arn:task/b": "720p"}


def test_the_planned_jobs_are_the_map_states_input() -> None:
    assert [job.name for job in planned_jobs(HISTORY)] == ["1080p", "720p"]
    with pytest.raises(ValueError, match="Map"):
        planned_jobs(HISTORY[:1])


def test_the_execution_ends_at_its_last_execution_event_the_video_completes_with_finalise() -> None:
    assert end_of_execution(HISTORY) == pytest.approx(at(19.0).timestamp())
    assert completed_at(HISTORY) == pytest.approx(at(17.9).timestamp())
    unfinalised = [e for e in HISTORY if _name(e) not in {"Finalise", "MakeDownload"}]
    assert completed_at(unfinalised) == pytest.approx(at(19.0).timestamp())


def _name(event: dict[str, Any]) -> str:
    return str(
        event.get("stateExitedEventDetails", event.get("stateEnteredEventDetails", {})).get("name")
    )


def test_overhead_is_split_into_before_between_and_after_the_transcoders() -> None:
    uploaded = at(0.0).timestamp()
    parts = overhead_breakdown(HISTORY, uploaded, task_intervals(HISTORY))
    assert parts == {
        "upload_to_execution_start": pytest.approx(1.0),
        "execution_start_to_first_task": pytest.approx(1.0),
        "between_tasks": pytest.approx(0.5),
        "last_task_to_completed": pytest.approx(0.9),
        # of which: the states in them
        "claim": pytest.approx(0.1),
        "probe": pytest.approx(0.4),
        "map_to_first_task": pytest.approx(0.5),
        "finalise": pytest.approx(0.7),
        "download_after_completed": pytest.approx(0.8),  # after COMPLETED: not in the sum
    }
    # wall to COMPLETED 17.9 s = 3.4 s of overhead + 14.5 s of transcoders
    overhead = sum(parts[key] for key in OVERHEAD_TOTAL_PARTS)
    assert overhead + sum(i.seconds for i in task_intervals(HISTORY)) == pytest.approx(17.9)
    assert parts["claim"] + parts["probe"] + parts["map_to_first_task"] == pytest.approx(
        parts["execution_start_to_first_task"]
    )


def test_overlapping_transcoders_leave_no_gap_between_them() -> None:
    intervals = [TaskInterval("a", 2.0, 10.0), TaskInterval("b", 3.0, 12.0)]
    events = [
        {"timestamp": 1.0, "type": "ExecutionStarted"},
        {"timestamp": 13.0, "type": "ExecutionSucceeded"},
    ]
    parts = overhead_breakdown(events, 0.0, intervals)
    assert parts["between_tasks"] == 0.0
    assert parts["last_task_to_completed"] == pytest.approx(1.0)


def test_of_two_executions_for_one_video_the_one_that_ran_the_map_is_measured() -> None:
    duplicate = [
        {"timestamp": at(1.1), "type": "ExecutionStarted"},
        {"timestamp": at(1.2), "type": "ExecutionSucceeded"},
    ]
    assert claimed_execution([duplicate, HISTORY]) is HISTORY
    with pytest.raises(ValueError, match="found 0 of 1"):
        claimed_execution([duplicate])
