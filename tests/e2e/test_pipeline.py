"""The workflow on the offline stack: failure handling, the DLQ, retries, duplicates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from local import engine_hooks
from local.client import ApiClient
from local.stack import OfflineStack
from tests.support.media import make_not_a_video


def upload(
    stack: OfflineStack, path: Path, user: str = "pat", **plan: Any
) -> tuple[ApiClient, str]:
    client = ApiClient(stack.api_url, stack.token(user))
    created = client.create_video(path, path.stem, "video/mp4")
    video_id: str = created["video"]["id"]
    if plan:
        fault_plan = Path(__import__("os").environ["STREAMFORGE_FAULT_PLAN"])
        plans = json.loads(fault_plan.read_text())
        plans[video_id] = plan
        fault_plan.write_text(json.dumps(plans))
    client.upload(created["upload"], path)
    return client, video_id


def dead_letters(stack: OfflineStack) -> list[dict[str, Any]]:
    """Reads (and leaves) every message in the DLQ: each one read is hidden until all are
    read (a receive with no visibility timeout would return the same first ten again),
    then made visible again."""
    assert stack.deployed is not None
    sqs = stack.client("sqs")
    url = stack.deployed.dead_letter_queue_url
    seen: dict[str, dict[str, Any]] = {}
    receipts: list[str] = []
    while batch := sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60
    ).get("Messages", []):
        for message in batch:
            seen[message["MessageId"]] = json.loads(message["Body"])
            receipts.append(message["ReceiptHandle"])
    for start in range(0, len(receipts), 10):
        entries = [
            {"Id": str(index), "ReceiptHandle": receipt, "VisibilityTimeout": 0}
            for index, receipt in enumerate(receipts[start : start + 10])
        ]
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)
    return list(seen.values())


def history(stack: OfflineStack, video_id: str) -> list[dict[str, Any]]:
    """The events of the video's (first) execution."""
    execution = next(e for e in stack.executions() if e["name"].startswith(video_id))
    events: list[dict[str, Any]] = stack.client("stepfunctions").get_execution_history(
        executionArn=execution["executionArn"]
    )["events"]
    return events


def media_keys(stack: OfflineStack, video_id: str) -> list[str]:
    listed = stack.client("s3").list_objects_v2(
        Bucket=stack.config.names.media_bucket, Prefix=f"{video_id}/"
    )
    return [item["Key"] for item in listed.get("Contents", [])]


def test_not_a_video_fails_once_into_the_dlq_and_publishes_nothing(
    offline_stack: OfflineStack, tmp_path: Path
) -> None:
    client, video_id = upload(offline_stack, make_not_a_video(tmp_path / "notes.mp4"))
    video = client.wait_until_done(video_id, timeout_seconds=120)
    offline_stack.wait_for_executions(timeout_seconds=120)

    assert video["status"] == "FAILED"
    assert video["error"]["code"] == "NOT_A_VIDEO"
    assert "Upload a video file" in video["error"]["message"]
    letters = [m for m in dead_letters(offline_stack) if m["video_id"] == video_id]
    assert len(letters) == 1
    assert letters[0]["error"]["Error"] == "NotAVideo"
    assert media_keys(offline_stack, video_id) == []


def test_a_transcoder_that_crashes_on_its_first_attempt_is_retried(
    offline_stack: OfflineStack, clip_720p: Path
) -> None:
    client, video_id = upload(offline_stack, clip_720p, job="480p", fault="crash", attempts=1)
    video = client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)

    assert video["status"] == "COMPLETED", video.get("error")
    assert {r["name"] for r in video["renditions"]} == {"720p", "480p", "360p", "240p", "audio"}
    events = history(offline_stack, video_id)
    failed_tasks = [e for e in events if e["type"] == "TaskFailed"]
    assert len(failed_tasks) == 1  # the crash, then the retry succeeded
    assert "ExitCode" in failed_tasks[0]["taskFailedEventDetails"]["cause"]
    assert not [m for m in dead_letters(offline_stack) if m["video_id"] == video_id]


def test_a_duplicate_upload_event_runs_the_pipeline_once(
    offline_stack: OfflineStack, clip_720p: Path
) -> None:
    client, video_id = upload(offline_stack, clip_720p, user="quinn")
    # The same object written again: a second ObjectCreated event for the same video.
    client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.client("s3").copy_object(
        Bucket=offline_stack.config.names.uploads_bucket,
        Key=f"{video_id}/source",
        CopySource={
            "Bucket": offline_stack.config.names.uploads_bucket,
            "Key": f"{video_id}/source",
        },
        MetadataDirective="REPLACE",
    )
    executions = offline_stack.wait_for_executions(timeout_seconds=120)
    mine = [e for e in executions if e["name"].startswith(video_id)]
    assert len(mine) == 2
    assert all(e["status"] == "SUCCEEDED" for e in mine)
    assert client.get_video(video_id)["status"] == "COMPLETED"
    transcoded = [
        t
        for t in offline_stack.client("ecs").list_tasks(
            cluster="streamforge", desiredStatus="STOPPED"
        )["taskArns"]
    ]
    assert transcoded  # tasks ran, and the second execution ended at the claim:
    second = sorted(mine, key=lambda e: e["startDate"])[1]
    events = offline_stack.client("stepfunctions").get_execution_history(
        executionArn=second["executionArn"]
    )["events"]
    entered = [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]
    assert entered == ["ReadEvent", "Claim", "AlreadyClaimed"]


def test_a_transcoder_failing_every_attempt_fails_the_video_naming_the_rendition(
    offline_stack: OfflineStack, clip_720p: Path
) -> None:
    client, video_id = upload(offline_stack, clip_720p, job="480p", fault="crash", attempts=9)
    video = client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)

    assert video["status"] == "FAILED"
    assert video["error"]["code"] == "TRANSCODE_FAILED"
    assert "480p rendition failed on every attempt (exit code 137" in video["error"]["message"]
    letters = [m for m in dead_letters(offline_stack) if m["video_id"] == video_id]
    assert len(letters) == 1 and letters[0]["error"]["Error"] == "TranscoderFailed"
    # nothing of the failed rendition; the finished jobs' outputs stay for a reprocess
    assert not [key for key in media_keys(offline_stack, video_id) if "480p" in key]


@pytest.mark.slow
def test_a_hung_transcoder_is_stopped_by_the_timeout_and_retried(
    offline_stack: OfflineStack, clip_720p: Path
) -> None:
    client, video_id = upload(offline_stack, clip_720p, job="360p", fault="hang", attempts=1)
    video = client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)

    assert video["status"] == "COMPLETED", video.get("error")
    events = history(offline_stack, video_id)
    assert [e["type"] for e in events].count("TaskTimedOut") == 1
    hung = [
        task
        for task in engine_hooks.launched_tasks()
        if video_id in json.dumps(task.overrides) and "360p" in json.dumps(task.overrides)
    ]
    assert len(hung) == 2  # the hung attempt and the retry
    assert hung[0].process.returncode is not None  # the hung process was killed, not left behind


def test_simultaneous_duplicate_events_run_the_transcoders_once(
    offline_stack: OfflineStack, clip_720p: Path
) -> None:
    """A multipart completion can deliver its event twice at once: only one execution may
    pass the claim, however the executions interleave."""
    client, video_id = upload(offline_stack, clip_720p, user="twins")
    assert offline_stack.deployed is not None
    event = {
        "detail": {
            "bucket": {"name": offline_stack.config.names.uploads_bucket},
            "object": {"key": f"{video_id}/source"},
        }
    }
    sfn = offline_stack.client("stepfunctions")

    def start(n: int) -> None:
        sfn.start_execution(
            stateMachineArn=offline_stack.deployed.state_machine_arn,  # type: ignore[union-attr]
            name=f"{video_id}-twin-{n}",
            input=json.dumps(event),
        )

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(start, range(3)))
    video = client.wait_until_done(video_id, timeout_seconds=300)
    executions = offline_stack.wait_for_executions(timeout_seconds=120)

    assert video["status"] == "COMPLETED"
    mine = [e for e in executions if e["name"].startswith(video_id)]
    assert len(mine) == 4  # the upload's own event and the three duplicates
    probed = []
    for execution in mine:
        events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
        entered = [
            e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
        ]
        if "Probe" in entered:
            probed.append(execution["name"])
        else:
            assert entered[-1] == "AlreadyClaimed", entered
    assert len(probed) == 1
    launched = [t for t in engine_hooks.launched_tasks() if video_id in json.dumps(t.overrides)]
    jobs = {
        json.loads(t.overrides["ContainerOverrides"][0]["Environment"][0]["Value"])["rendition"][
            "name"
        ]
        for t in launched
    }
    assert len(launched) == len(jobs)  # every job ran exactly once


@pytest.fixture
def balanced_stack(offline_stack: OfflineStack) -> Iterator[OfflineStack]:
    """The session stack with JOB_STRATEGY=balanced for one test, per_rung again after."""
    offline_stack.use_job_strategy("balanced")
    try:
        yield offline_stack
    finally:
        offline_stack.use_job_strategy("per_rung")


def test_the_balanced_strategy_runs_cheap_rungs_and_audio_in_one_task(
    balanced_stack: OfflineStack, clip_720p: Path
) -> None:
    client, video_id = upload(balanced_stack, clip_720p, user="balanced")
    video = client.wait_until_done(video_id, timeout_seconds=300)
    balanced_stack.wait_for_executions(timeout_seconds=120)

    assert video["status"] == "COMPLETED", video.get("error")
    renditions = {r["name"]: r for r in video["renditions"]}
    assert sorted(renditions) == ["240p", "360p", "480p", "720p", "audio"]
    launched = [t for t in engine_hooks.launched_tasks() if video_id in json.dumps(t.overrides)]
    jobs = sorted(
        "+".join([job["rendition"]["name"], *(member["name"] for member in job.get("group", []))])
        for job in (
            json.loads(t.overrides["ContainerOverrides"][0]["Environment"][0]["Value"])
            for t in launched
        )
    )
    assert jobs == ["480p+360p+240p+audio", "720p", "thumbnails"]
    shared = {renditions[name]["taskArn"] for name in ("480p", "360p", "240p", "audio")}
    assert len(shared) == 1 and renditions["720p"]["taskArn"] not in shared
    keys = media_keys(balanced_stack, video_id)
    for name in renditions:
        assert f"{video_id}/hls/{name}/index.m3u8" in keys
        assert f"{video_id}/jobs/{name}.json" in keys


def test_a_failed_grouped_task_names_every_rendition_of_its_group(
    balanced_stack: OfflineStack, clip_720p: Path
) -> None:
    # The fault wrapper names a job by its first rendition: 480p heads the shared task.
    client, video_id = upload(
        balanced_stack, clip_720p, user="balanced", job="480p", fault="crash", attempts=9
    )
    video = client.wait_until_done(video_id, timeout_seconds=300)
    balanced_stack.wait_for_executions(timeout_seconds=120)

    assert video["status"] == "FAILED"
    assert video["error"]["code"] == "TRANSCODE_FAILED"
    assert (
        "Transcoding the 480p, 360p, 240p and audio renditions (one task) failed on every attempt"
        in video["error"]["message"]
    )
    # nothing is published and nothing of the failed group is left; the finished jobs'
    # outputs (the 720p rung, the thumbnails) stay for a reprocess
    left = media_keys(balanced_stack, video_id)
    assert not [key for key in left if key.endswith(("master.m3u8", "manifest.mpd"))]
    failed_group = ("480p", "360p", "240p", "audio")
    assert not [key for key in left if any(part in key for part in failed_group)]
