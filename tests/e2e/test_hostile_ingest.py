"""A hostile upload through the offline stack: an HLS playlist uploaded as a video ends
FAILED NOT_A_VIDEO naming it, with one dead-letter message, nothing published, and not one
request to the server its segment URL names."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from local.client import ApiClient
from local.stack import OfflineStack
from tests.e2e.test_pipeline import dead_letters, media_keys
from tests.support.hostile import REFUSED, counting_server


@pytest.mark.slow
@pytest.mark.parametrize("case", ["HLS media playlist"])
def test_a_playlist_uploaded_as_a_video_fails_named_and_fetches_nothing(
    offline_stack: OfflineStack, tmp_path: Path, case: str
) -> None:
    hostile = REFUSED[case]
    with counting_server() as remote:
        source = hostile.make(tmp_path / hostile.file_name, remote.url)
        client = ApiClient(offline_stack.api_url, offline_stack.token("hostile"))
        created = client.create_video(source, case, "video/mp4", size_bytes=source.stat().st_size)
        video_id = created["video"]["id"]
        upload = created["upload"]
        requests.put(upload["url"], data=source.read_bytes(), headers=upload["headers"], timeout=60)
        client.wait_until_done(video_id, timeout_seconds=300)
        offline_stack.wait_for_executions(timeout_seconds=120)

    video = client.get_video(video_id)
    letters = [m for m in dead_letters(offline_stack) if m["video_id"] == video_id]
    assert video["status"] == "FAILED"
    assert video["error"]["code"] == "NOT_A_VIDEO"
    assert video["error"]["message"].startswith(f"The uploaded file is {hostile.named}, not")
    assert len(letters) == 1
    assert media_keys(offline_stack, video_id) == []
    assert remote.requests == []
