"""A DynamoDB write that lands but whose answer is a 500: the SDK sends it again, the retry
fails its condition on the first attempt's own write, and the API must still call the
write a success (videos.update_once), as it must on AWS, where DynamoDB documents that a
500 may follow a write that was applied."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto.dynamodb.responses import DynamoHandler

from lambdas.core import videos
from lambdas.core.errors import UploadAlreadyCompleted
from lambdas.core.models import VideoRecord
from local.stack import OfflineStack
from tests.integration.test_api import VALID, call

INTERNAL_ERROR = json.dumps(
    {
        "__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
        "message": "Internal server error",
    }
)


class LostAnswers:
    """moto applies the next UpdateItem of one video, then answers it with a 500."""

    def __init__(self) -> None:
        self.video_id: str | None = None
        self.lost = 0

    def arm(self, video_id: str) -> None:
        self.video_id = video_id

    def after(self, handler: DynamoHandler, answer: Any) -> Any:
        key = (getattr(handler, "body", None) or {}).get("Key", {})
        target = handler.headers.get("X-Amz-Target", "")
        if (
            self.video_id
            and target.endswith(".UpdateItem")
            and key.get("pk", {}).get("S") == (self.video_id)
        ):
            self.video_id = None
            self.lost += 1
            return 500, {"x-amzn-ErrorType": "InternalServerError"}, INTERNAL_ERROR
        return answer


@pytest.fixture
def lost_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[LostAnswers]:
    faults = LostAnswers()
    answer = DynamoHandler.call_action  # the offline stack's (one request at a time)

    def call_action(self: DynamoHandler) -> Any:
        return faults.after(self, answer(self))

    monkeypatch.setattr(DynamoHandler, "call_action", call_action)
    yield faults


def test_an_upload_completion_whose_answer_was_lost_still_completes(
    offline_stack: OfflineStack, lost_answers: LostAnswers
) -> None:
    # Given a video waiting for its source, and a DynamoDB that will lose the next answer
    video_id = call(offline_stack, "POST", "/videos", user="finn", json=VALID).json()["video"]["id"]
    lost_answers.arm(video_id)
    # When its upload is marked complete (the retried write fails its condition)
    record = videos.mark_uploaded(videos.get_video(video_id))
    # Then the completion succeeded once, and the record says so
    assert lost_answers.lost == 1
    assert record.status == "UPLOADED" and record.uploaded_at
    assert videos.get_video(video_id).uploaded_at == record.uploaded_at
    # and a second completion is still a conflict
    with pytest.raises(UploadAlreadyCompleted):
        videos.mark_uploaded(videos.get_video(video_id))


def test_a_download_marked_ready_whose_answer_was_lost_is_ready(
    offline_stack: OfflineStack, lost_answers: LostAnswers
) -> None:
    # Given a COMPLETED video whose MP4 was just made (the step removes it if not marked)
    video_id = call(offline_stack, "POST", "/videos", user="finn", json=VALID).json()["video"]["id"]
    record = VideoRecord.get(video_id, "VIDEO")
    record.update(actions=[VideoRecord.status.set("PROCESSING")], add_version_condition=False)
    videos.mark_completed(
        video_id, renditions=[], master_playlist_key=f"{video_id}/hls/m.m3u8", download_planned=True
    )
    lost_answers.arm(video_id)
    # When it is marked READY and DynamoDB loses that answer
    key = f"{video_id}/download/video.mp4"
    marked = videos.mark_download(videos.get_video(video_id), None, key)
    # Then the step knows the mark landed (so it keeps the MP4)
    assert lost_answers.lost == 1
    assert marked is not None and marked.download_status == "READY"
    assert VideoRecord.get(video_id, "VIDEO").download_key == key
