"""What the limit on active videos counts (videos.count_active_videos, the sparse
active_by_owner index), through every status change a video goes through, against the
offline stack's DynamoDB."""

from __future__ import annotations

from lambdas.core import videos
from lambdas.core.models import VideoRecord
from local.stack import OfflineStack
from tests.integration.test_api import VALID, call


def _active(owner: str) -> int:
    return videos.count_active_videos(owner)


def test_a_video_counts_as_active_from_its_upload_until_it_settles(
    offline_stack: OfflineStack,
) -> None:
    owner = "counting-cleo"
    # Waiting for its source: not active
    video_id = call(offline_stack, "POST", "/videos", owner, json=VALID).json()["video"]["id"]
    assert _active(owner) == 0
    # Uploaded, then processing: active (and not counted against itself)
    videos.mark_uploaded(videos.get_video(video_id))
    assert _active(owner) == 1
    assert videos.count_active_videos(owner, besides=video_id) == 0
    record = VideoRecord.get(video_id, "VIDEO")
    record.update(actions=[VideoRecord.status.set("PROCESSING")], add_version_condition=False)
    assert _active(owner) == 1
    # Failed: settled; reprocessed: active again; completed: settled
    videos.mark_failed(video_id, error_code="X", error_message="x")
    assert _active(owner) == 0
    videos.reset_for_reprocessing(videos.get_video(video_id))
    assert _active(owner) == 1
    record = VideoRecord.get(video_id, "VIDEO")
    record.update(actions=[VideoRecord.status.set("PROCESSING")], add_version_condition=False)
    videos.mark_completed(video_id, renditions=[], master_playlist_key=f"{video_id}/m.m3u8")
    assert _active(owner) == 0
    assert VideoRecord.get(video_id, "VIDEO").active_owner_id is None
    # Other people's videos are never counted
    assert _active("someone-else") == 0


def test_a_flag_left_behind_does_not_count_a_settled_video(offline_stack: OfflineStack) -> None:
    # Given a COMPLETED video still carrying the active flag (a write that missed it)
    owner = "counting-dara"
    video_id = call(offline_stack, "POST", "/videos", owner, json=VALID).json()["video"]["id"]
    record = VideoRecord.get(video_id, "VIDEO")
    record.update(
        actions=[VideoRecord.status.set("COMPLETED"), VideoRecord.active_owner_id.set(owner)],
        add_version_condition=False,
    )
    # Then the count, which checks the status too, does not hold the owner back
    assert _active(owner) == 0
