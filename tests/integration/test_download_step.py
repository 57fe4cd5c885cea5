"""The download step after COMPLETED (lambdas/pipeline/finalise.py make_video_download),
against the offline stack's DynamoDB and S3: its failure leaves the video playing, and a
video deleted while its MP4 was made gets none."""

from __future__ import annotations

from typing import Any

import pytest

from lambdas.core import videos
from lambdas.core.models import VideoRecord
from lambdas.pipeline import finalise
from lambdas.pipeline.clients import pipeline_adapters
from lambdas.pipeline.finalise import FinaliseRequest, make_video_download
from local.stack import OfflineStack
from tests.integration.test_api import VALID, call
from tests.unit.test_bench_balanced import INFO


def _completed_with_download_to_make(stack: OfflineStack, user: str) -> str:
    video_id: str = call(stack, "POST", "/videos", user=user, json=VALID).json()["video"]["id"]
    record = VideoRecord.get(video_id, "VIDEO")
    record.update(actions=[VideoRecord.status.set("PROCESSING")], add_version_condition=False)
    videos.mark_completed(
        video_id,
        renditions=[],
        master_playlist_key=f"{video_id}/hls/master.m3u8",
        download_planned=True,
    )
    return video_id


def _request(video_id: str, **fields: Any) -> FinaliseRequest:
    return FinaliseRequest(stage="download", video_id=video_id, source=INFO, waves=[], **fields)


def test_a_download_step_out_of_retries_marks_it_failed_and_the_video_still_plays(
    offline_stack: OfflineStack,
) -> None:
    # Given a COMPLETED video whose download step timed out on every attempt
    video_id = _completed_with_download_to_make(offline_stack, "erin")
    settings, s3 = pipeline_adapters()
    error = {"Error": "States.Timeout", "Cause": "the task timed out"}
    # When the state machine's RecordDownloadFailure runs the step with that error
    outcome = make_video_download(s3, settings, _request(video_id, download_error=error))
    # Then the download is FAILED, saying why, and the video is COMPLETED with playback
    assert outcome.failure == "the download step failed: States.Timeout: the task timed out"
    video = call(offline_stack, "GET", f"/videos/{video_id}", user="erin").json()
    assert (video["status"], video["downloadStatus"]) == ("COMPLETED", "FAILED")
    assert video["playback"]["hlsUrl"] and video["playback"]["downloadUrl"] is None
    # and running it again changes nothing
    assert make_video_download(s3, settings, _request(video_id)).record is None


def test_a_video_deleted_while_its_download_is_made_keeps_no_mp4(
    offline_stack: OfflineStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a COMPLETED video, deleted by its owner while its MP4 is being uploaded
    video_id = _completed_with_download_to_make(offline_stack, "erin")
    settings, s3 = pipeline_adapters()
    key = f"{video_id}/download/video.mp4"

    def remux_while_deleted(*args: Any, **kwargs: Any) -> str:
        s3.put_object(Bucket=settings.media_bucket, Key=key, Body=b"mp4")
        assert call(offline_stack, "DELETE", f"/videos/{video_id}", user="erin").status_code == 204
        return key

    monkeypatch.setattr(finalise, "make_download", remux_while_deleted)
    # When the step finishes
    outcome = make_video_download(s3, settings, _request(video_id))
    # Then nothing is marked and the MP4 is gone again
    assert outcome.record is None
    listed = s3.list_objects_v2(Bucket=settings.media_bucket, Prefix=f"{video_id}/download/")
    assert "Contents" not in listed
    assert VideoRecord.get(video_id, "VIDEO").download_status is None
