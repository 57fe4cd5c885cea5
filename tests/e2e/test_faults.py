"""Transient AWS errors, a finaliser that runs twice, and nothing lost under load.

Transient errors are injected into moto's own backends (they run in this process), so the
code under test sees exactly what it would see from AWS: an error response."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from moto.dynamodb.exceptions import DynamodbException
from moto.dynamodb.models import DynamoDBBackend
from moto.s3.exceptions import S3ClientError
from moto.s3.models import S3Backend

from lambdas.core.models import VideoRecord
from local.client import ApiClient
from local.engine_hooks import LocalLambdaContext
from local.stack import OfflineStack
from tests.e2e.test_pipeline import history


def fail_once(
    monkeypatch: pytest.MonkeyPatch,
    owner: type,
    method: str,
    matches: Callable[..., bool],
    error: Exception,
) -> list[int]:
    """Makes `owner.method` raise `error` the first time `matches(*args, **kwargs)`."""
    original = getattr(owner, method)
    failures: list[int] = []
    lock = threading.Lock()

    def flaky(self: Any, *args: Any, **kwargs: Any) -> Any:
        with lock:
            should_fail = not failures and matches(*args, **kwargs)
            if should_fail:
                failures.append(1)
        if should_fail:
            raise error
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, method, flaky)
    return failures


def start(stack: OfflineStack, clip: Path, user: str) -> tuple[ApiClient, str, dict[str, Any]]:
    """Creates a video; returns the client, its id and the upload instructions."""
    client = ApiClient(stack.api_url, stack.token(user))
    created = client.create_video(clip, clip.stem, "video/mp4")
    return client, created["video"]["id"], created["upload"]


def test_a_throttled_claim_is_retried_by_the_workflow(
    offline_stack: OfflineStack, clip_720p: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, video_id, upload = start(offline_stack, clip_720p, "throttled")
    throttled = fail_once(
        monkeypatch,
        DynamoDBBackend,
        "update_item",
        # the workflow's Claim: the one update that records the execution
        lambda table, key, update_expression, *rest, **extra: (
            key["pk"]["S"] == video_id and "execution_arn" in update_expression
        ),
        DynamodbException("ProvisionedThroughputExceededException", "Rate of requests exceeds"),
    )
    client.upload(upload, clip_720p)
    video = client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)

    assert throttled, "the fault was never injected"
    assert video["status"] == "COMPLETED"
    failed = [e for e in history(offline_stack, video_id) if e["type"] == "TaskFailed"]
    assert [e["taskFailedEventDetails"]["error"] for e in failed] == [
        "DynamoDB.ProvisionedThroughputExceededException"
    ]


def test_a_transient_s3_error_while_finalising_is_retried(
    offline_stack: OfflineStack, clip_720p: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, video_id, upload = start(offline_stack, clip_720p, "slowdown")
    slowed = fail_once(
        monkeypatch,
        S3Backend,
        "get_object",
        lambda bucket, key, *a, **k: key == f"{video_id}/jobs/720p.json",
        S3ClientError("SlowDown", "Please reduce your request rate."),
    )
    client.upload(upload, clip_720p)
    video = client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)

    assert slowed, "the fault was never injected"
    assert video["status"] == "COMPLETED", video.get("error")


def test_a_finaliser_that_runs_twice_gives_the_same_result(
    offline_stack: OfflineStack, clip_720p: Path
) -> None:
    client, video_id, upload = start(offline_stack, clip_720p, "twice")
    client.upload(upload, clip_720p)
    first = client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)
    media = offline_stack.client("s3")
    bucket = offline_stack.config.names.media_bucket
    master_key = f"{video_id}/hls/master.m3u8"
    master_before = media.get_object(Bucket=bucket, Key=master_key)["Body"].read()

    finalise_input = next(
        json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]
        for e in history(offline_stack, video_id)
        if e["type"] == "TaskScheduled"
        and "finalise" in e["taskScheduledEventDetails"]["parameters"]
    )
    from lambdas.pipeline.finalise_handler import lambda_handler

    context = LocalLambdaContext(function_name="finalise", invoked_function_arn="arn:local")
    again = lambda_handler(finalise_input, context)

    assert again["status"] == "COMPLETED"
    second = client.get_video(video_id)
    assert second["renditions"] == first["renditions"]
    assert second["status"] == "COMPLETED" and second["processedAt"] == first["processedAt"]
    assert media.get_object(Bucket=bucket, Key=master_key)["Body"].read() == master_before


@pytest.mark.slow
def test_bursts_of_api_calls_and_parallel_uploads_lose_nothing(
    offline_stack: OfflineStack, clip_720p: Path
) -> None:
    users = [f"load-{n}" for n in range(4)]
    clients = {user: ApiClient(offline_stack.api_url, offline_stack.token(user)) for user in users}

    def burst(user: str) -> list[str]:
        """Creates ten videos, reading each back and listing after each; returns their ids."""
        client = clients[user]
        created: list[str] = []
        for n in range(10):
            video_id = client.create_video(clip_720p, f"{user}-{n}", "video/mp4")["video"]["id"]
            created.append(video_id)
            assert client.get_video(video_id)["title"] == f"{user}-{n}"
            listed = [video["id"] for video in client.list_videos(limit=100)["items"]]
            assert sorted(listed) == sorted(created), (user, n)  # all of its own, no one else's
        return created

    with ThreadPoolExecutor(max_workers=len(users)) as pool:
        created_ids = list(pool.map(burst, users))  # re-raises a burst's failed assertion
    assert [len(set(ids)) for ids in created_ids] == [10] * len(users)

    # Several uploads processed at once (the Map runs at most two transcoders at a time).
    processing = [start(offline_stack, clip_720p, user) for user in users[:3]]
    for client, _video_id, upload in processing:
        client.upload(upload, clip_720p)
    for client, video_id, _ in processing:
        assert client.wait_until_done(video_id, timeout_seconds=600)["status"] == "COMPLETED"
    offline_stack.wait_for_executions(timeout_seconds=120)

    # Nothing lost: every video is terminal or awaiting its upload, and storage agrees.
    s3 = offline_stack.client("s3")
    names = offline_stack.config.names
    for user in users:
        for record in VideoRecord.by_owner.query(user):
            status = record.status
            sources = s3.list_objects_v2(Bucket=names.uploads_bucket, Prefix=f"{record.pk}/")
            media = s3.list_objects_v2(Bucket=names.media_bucket, Prefix=f"{record.pk}/hls/master")
            assert status in {"PENDING_UPLOAD", "COMPLETED", "FAILED"}, (record.pk, status)
            if status == "PENDING_UPLOAD":
                assert sources.get("KeyCount", 0) == 0 and media.get("KeyCount", 0) == 0
            if status == "COMPLETED":
                assert media.get("KeyCount", 0) == 1
    assert requests.get(f"{offline_stack.api_url}/openapi.json", timeout=30).status_code == 200
