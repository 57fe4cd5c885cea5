"""Playable early: a long source's cheapest rung and audio are published as a provisional
master while the rest still encodes, and the final master replaces it without changing what
a player that started on it already has.

The session's offline stack chunks at 120 s, so the clip is 124 s (chunks 0-120, 120-124)
at 640x360 (rungs 360p and 240p); the 360p rung is slowed by the fault-injecting transcoder
(tests/support/faults.py, "slow") so the provisional window is wide enough to observe."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import m3u8
import pytest
import requests

from local.stack import OfflineStack
from tests.e2e.test_pipeline import upload
from tests.support.media import make_clip

POLL_SECONDS = 0.5


def fetch(url: str) -> str:
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return response.text


def rung_playlist_url(master_url: str, master: m3u8.M3U8, name: str) -> str:
    (uri,) = [p.uri for p in master.playlists if p.uri.startswith(f"{name}/")]
    base, query = master_url.split("?", 1)
    return f"{base.rsplit('/', 1)[0]}/{uri}?{query}"


@pytest.mark.slow
def test_a_provisional_master_plays_the_cheapest_rung_before_completed(
    offline_stack: OfflineStack, tmp_path: Path
) -> None:
    # Given a source two chunks long whose top rung is slow
    clip = make_clip(tmp_path / "long.mp4", width=640, height=360, seconds=124.0, fps=25)
    client, video_id = upload(offline_stack, clip, "early", job="360p", fault="slow", attempts=9)

    # When it is polled while it processes
    provisional: dict[str, Any] | None = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        video = client.get_video(video_id)
        if video["status"] != "PROCESSING" and video["status"] != "UPLOADED":
            break
        if video["status"] == "PROCESSING" and video["playback"]:
            provisional = video
            break
        time.sleep(POLL_SECONDS)

    # Then it was playable while still PROCESSING, from a master of the 240p rung and audio
    assert provisional is not None, f"never playable while processing: {video}"
    assert provisional["playableAt"] and provisional["processedAt"] is None
    early_url = provisional["playback"]["hlsUrl"]
    early = m3u8.loads(fetch(early_url))
    assert [p.stream_info.resolution for p in early.playlists] == [(426, 240)]
    assert [m.group_id for m in early.media] == ["audio"]
    early_240p = fetch(rung_playlist_url(early_url, early, "240p"))
    assert early_240p.count("#EXTINF") == 31  # 124 s in 4 s segments, across the join

    # And the final master lists every rung; the 240p playlist a player holds is unchanged
    done = client.wait_until_done(video_id, timeout_seconds=600)
    assert done["status"] == "COMPLETED"
    assert done["playableAt"] == provisional["playableAt"] <= done["processedAt"]
    final_url = done["playback"]["hlsUrl"]
    final = m3u8.loads(fetch(final_url))
    assert sorted(p.stream_info.resolution for p in final.playlists) == [(426, 240), (640, 360)]
    assert fetch(rung_playlist_url(final_url, final, "240p")) == early_240p
