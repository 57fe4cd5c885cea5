"""Reading a Step Functions execution history of the pipeline (pure functions of its events):
when each transcoder process ran, which job it was, what the Probe planned, and where the
time outside the transcoders went."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench.costs import union_seconds
from transcoder.contract import TranscodeJob

_ECS_RESOURCE = "runTask.sync"


@dataclass(frozen=True)
class TaskInterval:
    task_arn: str
    started: float  # seconds since the epoch
    stopped: float

    @property
    def seconds(self) -> float:
        return self.stopped - self.started


def _epoch(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


def _task_arn(details: Mapping[str, Any]) -> str | None:
    output = json.loads(details.get("output") or "{}")
    if "Tasks" in output:  # TaskSubmitted: the RunTask response
        output = (output["Tasks"] or [{}])[0]
    arn = output.get("TaskArn")
    return str(arn) if arn else None


def task_intervals(events: Sequence[Mapping[str, Any]]) -> list[TaskInterval]:
    """Each transcoder process's life from the history: submitted (started) to succeeded or
    failed (stopped), matched by task ARN."""
    started: dict[str, float] = {}
    intervals = []
    for event in events:
        kind = event["type"]
        key = {
            "TaskSubmitted": "taskSubmittedEventDetails",
            "TaskSucceeded": "taskSucceededEventDetails",
            "TaskFailed": "taskFailedEventDetails",
        }.get(kind)
        details = event.get(key or "", {})
        if not key or details.get("resource") != _ECS_RESOURCE:
            continue
        if kind == "TaskFailed":
            cause = json.loads(details.get("cause") or "{}")
            arn = cause.get("TaskArn")
        else:
            arn = _task_arn(details)
        if not arn:
            continue
        if kind == "TaskSubmitted":
            started[arn] = _epoch(event["timestamp"])
        elif arn in started:
            intervals.append(TaskInterval(arn, started.pop(arn), _epoch(event["timestamp"])))
    return intervals


def planned_jobs(events: Sequence[Mapping[str, Any]]) -> list[TranscodeJob]:
    """The jobs the Probe planned, as the Map state received them."""
    for event in events:
        details = event.get("stateEnteredEventDetails", {})
        if event["type"] == "MapStateEntered":
            plan = json.loads(details["input"])
            # The first Map is the plan's waves (a Map of jobs, before waves, took the plan)
            waves = plan.get("waves") or [{"jobs": plan["jobs"]}]
            return [TranscodeJob.model_validate(job) for wave in waves for job in wave["jobs"]]
    raise ValueError("the execution never reached the Map state")


def job_name_by_task(events: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Task ARN -> job name, from the container override in each RunTask response."""
    names = {}
    for event in events:
        details = event.get("taskSubmittedEventDetails", {})
        if event["type"] != "TaskSubmitted" or details.get("resource") != _ECS_RESOURCE:
            continue
        task = (json.loads(details["output"]).get("Tasks") or [{}])[0]
        for override in task.get("Overrides", {}).get("ContainerOverrides", []):
            for variable in override.get("Environment", []):
                if variable.get("Name") == "STREAMFORGE_JOB":
                    job = TranscodeJob.model_validate_json(variable["Value"])
                    names[task["TaskArn"]] = job.name
    return names


def claimed_execution(
    histories: Sequence[Sequence[Mapping[str, Any]]],
) -> Sequence[Mapping[str, Any]]:
    """Of a video's executions, the one that got past the Claim and ran the Map."""
    working = [h for h in histories if any(e["type"] == "MapStateEntered" for e in h)]
    if len(working) != 1:
        raise ValueError(
            f"expected one execution that ran the transcoders, found {len(working)} "
            f"of {len(histories)}"
        )
    return working[0]


def start_of_execution(events: Sequence[Mapping[str, Any]]) -> float:
    return next(_epoch(e["timestamp"]) for e in events if e["type"] == "ExecutionStarted")


def end_of_execution(events: Sequence[Mapping[str, Any]]) -> float:
    final = [
        e for e in events if e["type"].startswith("Execution") and e["type"] != "ExecutionStarted"
    ]
    if not final:
        raise ValueError("the execution has not ended")
    return _epoch(final[-1]["timestamp"])


def completed_at(events: Sequence[Mapping[str, Any]]) -> float:
    """When Finalise marked the video COMPLETED (its state's exit); the MP4 download is made
    after that. The execution's end if it never finalised."""
    for event in events:
        if event["type"].endswith("StateExited") and _state_name(event) == "Finalise":
            return _epoch(event["timestamp"])
    return end_of_execution(events)


def state_seconds(events: Sequence[Mapping[str, Any]], name: str) -> float | None:
    """How long the first run of the state called `name` took, entered to exited."""
    entered = None
    for event in events:
        if _state_name(event) != name:
            continue
        if event["type"].endswith("StateEntered") and entered is None:
            entered = _epoch(event["timestamp"])
        elif event["type"].endswith("StateExited") and entered is not None:
            return _epoch(event["timestamp"]) - entered
    return None


def _state_name(event: Mapping[str, Any]) -> str:
    details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
    return str(details.get("name", ""))


# Parts of the overhead that are one state each, and the download after it: (key, state name)
_STATE_PARTS = (
    ("claim", "Claim"),
    ("probe", "Probe"),
    ("finalise", "Finalise"),
    ("download_after_completed", "MakeDownload"),
)


def overhead_breakdown(
    events: Sequence[Mapping[str, Any]], uploaded_at: float, intervals: Sequence[TaskInterval]
) -> dict[str, float]:
    """Where the pipeline's wall, from the upload to COMPLETED, goes outside the transcoders:
    before the first one starts (upload event, claim, probe), between them (the Map starting
    the next task), and after the last one (Finalise); these four add up to the overhead.
    Beside them, what the states in them took: `claim` and `probe` (in the first part;
    `map_to_first_task` is its rest after the Probe), and `finalise` (in the last); and
    `download_after_completed`, the MP4 download's state, after COMPLETED and not part of
    the overhead."""
    started = start_of_execution(events)
    ended = completed_at(events)
    states = {key: state_seconds(events, name) for key, name in _STATE_PARTS}
    details = {key: round(seconds, 3) for key, seconds in states.items() if seconds is not None}
    if not intervals:
        return {
            "upload_to_execution_start": round(started - uploaded_at, 3),
            "execution_start_to_first_task": round(ended - started, 3),
            "between_tasks": 0.0,
            "last_task_to_completed": 0.0,
            **details,
        }
    first = min(i.started for i in intervals)
    last = max(i.stopped for i in intervals)
    between = (last - first) - union_seconds([(i.started, i.stopped) for i in intervals])
    before_map = sum(states[key] or 0.0 for key in ("claim", "probe"))
    if states["probe"] is not None:
        details["map_to_first_task"] = round(first - started - before_map, 3)
    return {
        "upload_to_execution_start": round(started - uploaded_at, 3),
        "execution_start_to_first_task": round(first - started, 3),
        "between_tasks": round(between, 3),
        "last_task_to_completed": round(ended - last, 3),
        **details,
    }


# The parts of overhead_breakdown that add up to the overhead
OVERHEAD_TOTAL_PARTS = (
    "upload_to_execution_start",
    "execution_start_to_first_task",
    "between_tasks",
    "last_task_to_completed",
)
