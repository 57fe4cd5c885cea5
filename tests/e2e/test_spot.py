"""Failures told apart on the offline stack: interrupted tasks, refused RunTasks, FFmpeg
refusing the input, and the Spot fallback. Faults come from the local ECS hook
(local/tasks.py, TaskFaults) and the transcoder wrapper (tests/support/faults.py), both
reading the session's fault plan."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from local import engine_hooks
from local.stack import OfflineStack
from local.tasks import LocalTask
from tests.e2e.test_pipeline import history, upload


def tasks_of(video_id: str, job: str) -> list[LocalTask]:
    def job_of(task: LocalTask) -> dict[str, object]:
        value = task.overrides["ContainerOverrides"][0]["Environment"][0]["Value"]
        parsed: dict[str, object] = json.loads(value)
        return parsed

    return [
        task
        for task in engine_hooks.launched_tasks()
        if job_of(task)["video_id"] == video_id and job_of(task)["rendition"]["name"] == job  # type: ignore[index]
    ]


def test_a_task_interrupted_three_times_is_retried_and_the_video_completes(
    offline_stack: OfflineStack, clip_720p: Path
) -> None:
    client, video_id = upload(offline_stack, clip_720p, job="480p", fault="interrupt", attempts=3)
    video = client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)

    assert video["status"] == "COMPLETED", video.get("error")
    ran = tasks_of(video_id, "480p")
    assert [t.stop_code for t in ran] == ["TerminationNotice"] * 3 + ["EssentialContainerExited"]
    assert all(t.describe()["Containers"][0]["ExitCode"] == 143 for t in ran[:3])
    entered = [
        e["stateEnteredEventDetails"]["name"]
        for e in history(offline_stack, video_id)
        if "stateEnteredEventDetails" in e
    ]
    assert entered.count("CountInterruption") == 3
    assert "CountOtherFailure" not in entered


def test_a_media_failure_fails_the_video_after_two_attempts_with_ffmpegs_reason(
    offline_stack: OfflineStack, clip_720p: Path
) -> None:
    client, video_id = upload(offline_stack, clip_720p, job="480p", fault="media", attempts=9)
    video = client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)

    assert video["status"] == "FAILED"
    assert video["error"]["code"] == "TRANSCODE_FAILED"
    assert "FFmpeg could not encode the 480p rendition" in video["error"]["message"]
    assert "not divisible by 2" in video["error"]["message"]  # libx264's own words
    ran = tasks_of(video_id, "480p")
    assert len(ran) == 2
    assert all(t.describe()["Containers"][0]["ExitCode"] == 3 for t in ran)


@pytest.mark.slow
def test_a_runtask_refused_for_capacity_twice_waits_and_the_video_completes(
    offline_stack: OfflineStack, clip_720p: Path
) -> None:
    client, video_id = upload(offline_stack, clip_720p, job="360p", fault="refuse", attempts=2)
    video = client.wait_until_done(video_id, timeout_seconds=400)
    offline_stack.wait_for_executions(timeout_seconds=120)

    assert video["status"] == "COMPLETED", video.get("error")
    assert len(tasks_of(video_id, "360p")) == 1  # refused RunTasks start nothing
    failed = [e for e in history(offline_stack, video_id) if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == ["AmazonECS.Unknown"] * 2
    assert "Capacity is unavailable" in failed[0]["taskFailedEventDetails"]["cause"]


@pytest.fixture
def spot_stack(offline_stack: OfflineStack) -> Iterator[OfflineStack]:
    """The session's stack with its workflow as fargate_spot and spot_fallback deploy it
    (the two placeholders' values), then back."""
    assert offline_stack.deployed is not None
    sfn = offline_stack.client("stepfunctions")
    arn = offline_stack.deployed.state_machine_arn
    original = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    spot = original.replace('"capacity_provider": "FARGATE"', '"capacity_provider": "FARGATE_SPOT"')
    spot = spot.replace('"spot_fallback": "false"', '"spot_fallback": "true"')
    assert spot.count("FARGATE_SPOT") == 1 and '"spot_fallback": "true"' in spot
    sfn.update_state_machine(stateMachineArn=arn, definition=spot)
    yield offline_stack
    sfn.update_state_machine(stateMachineArn=arn, definition=original)


def test_the_spot_fallback_runs_the_last_attempt_on_demand(
    spot_stack: OfflineStack, clip_720p: Path
) -> None:
    client, video_id = upload(spot_stack, clip_720p, job="480p", fault="interrupt", attempts=4)
    video = client.wait_until_done(video_id, timeout_seconds=300)
    spot_stack.wait_for_executions(timeout_seconds=120)

    assert video["status"] == "COMPLETED", video.get("error")
    ran = tasks_of(video_id, "480p")
    assert [t.capacity_provider for t in ran] == ["FARGATE_SPOT"] * 4 + ["FARGATE"]
    assert [t.stop_code for t in ran[:4]] == ["SpotInterruption"] * 4
    assert ran[-1].describe()["CapacityProviderName"] == "FARGATE"


def test_a_reprocess_after_a_failure_runs_only_the_jobs_left_unfinished(
    offline_stack: OfflineStack, clip_720p: Path
) -> None:
    # Given a video that failed: its 480p crashed on every attempt (and only then)
    client, video_id = upload(offline_stack, clip_720p, job="480p", fault="crash", attempts=3)
    assert client.wait_until_done(video_id, timeout_seconds=300)["status"] == "FAILED"
    offline_stack.wait_for_executions(timeout_seconds=120)
    listed = offline_stack.client("s3").list_objects_v2(
        Bucket=offline_stack.config.names.media_bucket, Prefix=f"{video_id}/jobs/"
    )
    finished = {
        item["Key"].rsplit("/", 1)[1].removesuffix(".json") for item in listed.get("Contents", [])
    }
    assert finished and "480p" not in finished  # what the failed run completed stayed
    first_run = len(_tasks_of_video(video_id))

    # When it is reprocessed
    client.reprocess(video_id)
    video = client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)

    # Then it completes, and only the jobs without a result ran again
    assert video["status"] == "COMPLETED", video.get("error")
    rerun = [_job_name(t) for t in _tasks_of_video(video_id)[first_run:]]
    assert "480p" in rerun
    assert not set(rerun) & finished
    assert len(rerun) == len(set(rerun))
    assert set(rerun) | finished == {"720p", "480p", "360p", "240p", "audio", "thumbnails"}
    assert {r["name"] for r in video["renditions"]} == {"720p", "480p", "360p", "240p", "audio"}
    # and the processing log says what was kept
    (kept_note,) = [
        e["message"]
        for e in video["processingLog"]
        if e["stage"] == "probe" and "kept" in e["message"]
    ]
    assert all(name in kept_note for name in finished), kept_note


def _tasks_of_video(video_id: str) -> list[LocalTask]:
    return [t for t in engine_hooks.launched_tasks() if video_id in json.dumps(t.overrides)]


def _job_name(task: LocalTask) -> str:
    value = task.overrides["ContainerOverrides"][0]["Environment"][0]["Value"]
    name: str = json.loads(value)["rendition"]["name"]
    return name
