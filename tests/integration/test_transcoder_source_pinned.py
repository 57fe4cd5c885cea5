"""The source that was checked is the one transcoded, when the key is overwritten after
its upload event and before the probe and the transcoder read it.

moto plays S3 and EventBridge: the event is the one S3 sends (its `detail.object`
carries the `version-id`), handed to the probe as the workflow's ReadEvent and Probe
states do, and the planned job runs in the real transcoder process.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from lambdas.core.settings import Settings
from lambdas.pipeline.contract import JobResult, VideoRendition, result_key
from lambdas.pipeline.probe import ProbeRequest, UnpinnedSource, plan_jobs, probe_source
from tests.support.media import make_clip
from tests.support.moto_server import aws_env

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from tests.integration.conftest import Buckets, TranscoderRun

VIDEO_ID = "vid-pinned"
SOURCE_KEY = f"{VIDEO_ID}/source"


def upload_events(moto_url: str, s3: S3Client, bucket: str) -> Callable[[], list[Any]]:
    """S3 -> EventBridge -> a queue, as deployed (the rule's target is the workflow there);
    returns a function that drains the queue's 'Object Created' events."""
    env = aws_env(moto_url)
    session = boto3.session.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
    )
    sqs = session.client("sqs", endpoint_url=moto_url)
    events = session.client("events", endpoint_url=moto_url)
    queue_url = sqs.create_queue(QueueName=f"{bucket}-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    pattern = {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [bucket]}},
    }
    events.put_rule(Name=f"{bucket}-uploads", EventPattern=json.dumps(pattern))
    events.put_targets(Rule=f"{bucket}-uploads", Targets=[{"Id": "queue", "Arn": queue_arn}])
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )

    def drain() -> list[Any]:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in messages.get("Messages", [])]

    return drain


def probe_request(event: dict[str, Any]) -> ProbeRequest:
    """What the workflow's ReadEvent and Probe states pass the probe Lambda."""
    s3_object = event["detail"]["object"]
    return ProbeRequest.model_validate(
        {
            "video_id": s3_object["key"].split("/")[0],
            "source_key": s3_object["key"],
            "source_object": s3_object,
        }
    )


def probe_settings(buckets: Buckets) -> Settings:
    return Settings(
        videos_table_name="videos",
        uploads_bucket=buckets.uploads,
        media_bucket=buckets.media,
        x264_preset="veryfast",
    )


def test_an_overwrite_after_the_upload_event_does_not_reach_the_probe_or_the_transcoder(
    moto_url: str,
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    run_transcoder: TranscoderRun,
    tmp_path: Path,
) -> None:
    # Given a 640x360, 2 s upload and its S3 event
    first = make_clip(tmp_path / "first.mp4", width=640, height=360, seconds=2.0)
    second = make_clip(tmp_path / "second.mp4", width=1280, height=720, seconds=1.0)
    buckets = make_buckets()
    drain = upload_events(moto_url, s3, buckets.uploads)
    uploaded = s3.put_object(Bucket=buckets.uploads, Key=SOURCE_KEY, Body=first.read_bytes())
    (event,) = drain()
    assert event["detail"]["object"]["version-id"] == uploaded["VersionId"]

    # When the key is overwritten (1280x720, 1 s) before the probe and the transcoder read it
    s3.put_object(Bucket=buckets.uploads, Key=SOURCE_KEY, Body=second.read_bytes())
    settings = probe_settings(buckets)
    request = probe_request(event)
    source = probe_source(s3, settings, request)
    plan = plan_jobs(request, source, settings)
    top = next(job for job in plan.jobs if isinstance(job.rendition, VideoRendition))
    run = run_transcoder(top.model_dump_json(), buckets)

    # Then the probe checked the first version, every job is pinned to it, and the top
    # rung is encoded from it: its size and length, not the overwrite's
    assert (source.display_width, source.display_height) == (640, 360)
    assert {job.source_version for job in plan.jobs} == {uploaded["VersionId"]}
    assert top.name == "360p"
    assert run.returncode == 0, run.stderr[-3000:]
    body = s3.get_object(Bucket=buckets.media, Key=result_key(VIDEO_ID, top.name))["Body"]
    result = JobResult.model_validate_json(body.read())
    assert (result.width, result.height) == (640, 360)
    assert result.duration_seconds == pytest.approx(2.0, abs=0.1)


def test_an_event_that_names_no_version_is_refused_before_anything_is_read(
    s3: S3Client, make_buckets: Callable[[], Buckets], tmp_path: Path
) -> None:
    # Given an event as an unversioned bucket would send it (moto: "version-id": null)
    buckets = make_buckets()
    clip = make_clip(tmp_path / "clip.mp4", width=320, height=180, seconds=1.0, audio=False)
    s3.put_object(Bucket=buckets.uploads, Key=SOURCE_KEY, Body=clip.read_bytes())
    event = {"detail": {"object": {"key": SOURCE_KEY, "version-id": None}}}

    # Then the probe refuses it, naming the cause, rather than read whatever the key holds
    with pytest.raises(UnpinnedSource, match="must be versioned"):
        probe_source(s3, probe_settings(buckets), probe_request(event))


def test_the_probe_keeps_the_source_it_reads_from_the_unfinished_upload_rule(
    moto_url: str, s3: S3Client, make_buckets: Callable[[], Buckets], tmp_path: Path
) -> None:
    # Given a source stored as the presigned PUT stores it: tagged as a pending upload
    buckets = make_buckets()
    clip = make_clip(tmp_path / "clip.mp4", width=320, height=180, seconds=1.0, audio=False)
    drain = upload_events(moto_url, s3, buckets.uploads)
    stored = s3.put_object(
        Bucket=buckets.uploads, Key=SOURCE_KEY, Body=clip.read_bytes(), Tagging="upload=pending"
    )
    (event,) = drain()

    # When the probe reads it (its client never called complete)
    probe_source(s3, probe_settings(buckets), probe_request(event))

    # Then the tag the lifecycle rule expires by is gone from the version it read
    tags = s3.get_object_tagging(
        Bucket=buckets.uploads, Key=SOURCE_KEY, VersionId=stored["VersionId"]
    )
    assert tags["TagSet"] == []
