"""DASH in a browser, and the watch page's extras: one 4 s clip processed on the offline
stack, its `manifest.mpd` played by dash.js in Chromium (a bare page, and the web app's
`?format=dash`), the watch page's Download button (and its note while the MP4 is being
prepared) and poster, with no console error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import Browser, expect

from lambdas.core.models import VideoRecord
from lambdas.core.status import DownloadStatus
from local.client import ApiClient
from local.media import download_media
from local.stack import OfflineStack
from tests.support.media import make_clip
from tests.support.static_site import serve_player_page

if TYPE_CHECKING:
    from tests.e2e.web_fixtures import BrowserSession

# One registration of the browser fixtures for the whole session (never import `browser`).
pytest_plugins = ["tests.e2e.web_fixtures"]

USER = "web-dash"
DASH_JS = (
    Path(__file__).resolve().parents[2] / "web/node_modules/dashjs/dist/modern/umd/dash.all.min.js"
)
DASH_PAGE = """<!doctype html><html><body><video muted playsinline></video>
<script src="dash.all.min.js"></script><script>
  window.dashErrors = [];
  window.player = dashjs.MediaPlayer().create();
  window.player.on(dashjs.MediaPlayer.events.ERROR, (e) => window.dashErrors.push(
    String(e.error && (e.error.message || e.error.code))));
  window.player.initialize(document.querySelector("video"), "media/dash/manifest.mpd", true);
</script></body></html>"""
PLAYING = """() => {
  const video = document.querySelector("video");
  return !video.error && video.currentTime > 1.0;
}"""

Sessions = Callable[..., "BrowserSession"]


@pytest.fixture(scope="module")
def processed(
    offline_stack: OfflineStack, tmp_path_factory: pytest.TempPathFactory
) -> tuple[dict[str, Any], Path]:
    """The COMPLETED video (its owner's view) and a copy of its published media."""
    folder = tmp_path_factory.mktemp("dash")
    clip = make_clip(folder / "clip.mp4", width=640, height=360, seconds=4.0)
    client = ApiClient(offline_stack.api_url, offline_stack.token(USER))
    created = client.create_video(clip, "Dash harbour", "video/mp4")
    client.upload(created["upload"], clip)
    video = client.wait_until_done(created["video"]["id"], timeout_seconds=300)
    assert video["status"] == "COMPLETED", video.get("error")
    media = folder / "media"
    download_media(offline_stack.client("s3"), offline_stack.config.names.media_bucket,
                   video["id"], media)  # fmt: skip
    return video, media


@pytest.fixture
def dash_site(processed: tuple[dict[str, Any], Path], tmp_path: Path) -> Iterator[str]:
    """dash.js's own distribution file and the media, served from one origin."""
    with serve_player_page(
        tmp_path / "site", DASH_PAGE, DASH_JS, "dash.all.min.js", processed[1]
    ) as url:
        yield url


def test_dash_js_plays_the_manifest_with_its_audio_and_video_tracks(
    browser: Browser, dash_site: str, processed: tuple[dict[str, Any], Path]
) -> None:
    video, _ = processed
    rungs = sorted(r["height"] for r in video["renditions"] if r["kind"] == "video")
    page = browser.new_page()
    try:
        page.goto(dash_site)
        # Then the playhead moves ...
        page.wait_for_function(PLAYING, timeout=30_000)
        # ... with a current audio and a current video track, the video's every rung
        tracks = page.evaluate(
            """() => ["video", "audio"].map((type) => ({
                type,
                count: window.player.getTracksFor(type).length,
                current: window.player.getCurrentTrackFor(type)?.codec ?? null,
            }))"""
        )
        assert [(t["type"], t["count"]) for t in tracks] == [("video", 1), ("audio", 1)]
        assert tracks[0]["current"].startswith('video/mp4;codecs="avc1')
        assert tracks[1]["current"].startswith('audio/mp4;codecs="mp4a')
        heights = page.evaluate(
            "() => window.player.getRepresentationsByType('video').map((r) => r.height)"
        )
        assert sorted(heights) == rungs
        # ... and the audio really arrives: its buffer holds what was played
        buffered = page.evaluate(
            """() => {
                const video = document.querySelector("video");
                const audio = window.player.getDashMetrics().getCurrentBufferLevel("audio");
                return {audio, played: video.currentTime};
            }"""
        )
        assert buffered["audio"] > 0, buffered
        assert page.evaluate("() => window.dashErrors") == []
    finally:
        page.close()


def test_the_watch_page_plays_dash_when_asked_and_offers_the_download(
    new_session: Sessions, processed: tuple[dict[str, Any], Path]
) -> None:
    video, _ = processed
    owner = new_session()
    owner.sign_in(USER)
    # Given the watch page asked for DASH
    owner.open(f"/watch/{video['id']}?format=dash")
    player = owner.page.locator(".player")
    expect(player).to_have_attribute("data-engine", "dash")
    # Then dash.js (through the signed MPD and hls/ segments) loads both tracks and plays
    expect(player).to_have_attribute("data-tracks", "video:1,audio:1", timeout=20_000)
    owner.page.locator(".big-play").click()
    owner.page.wait_for_function(PLAYING, timeout=30_000)
    # ... and the Download button links the signed MP4
    download = owner.page.get_by_role("link", name="Download MP4")
    expect(download).to_be_visible()
    href = download.get_attribute("href") or ""
    assert href.split("?", 1)[0].endswith(f"/{video['id']}/download/video.mp4")
    assert "Key-Pair-Id=" in href
    owner.screenshot("20-watch-dash")


def test_the_watch_page_loads_its_poster_from_the_cdn_without_a_console_error(
    new_session: Sessions, processed: tuple[dict[str, Any], Path]
) -> None:
    video, _ = processed
    viewer = new_session()
    viewer.sign_in(USER)
    viewer.open(f"/watch/{video['id']}")
    expect(viewer.page.locator(".player")).to_have_attribute("data-engine", "hls")
    poster = viewer.page.locator("video").get_attribute("poster") or ""
    assert f"/{video['id']}/thumbs/poster.jpg?" in poster
    # The poster was fetched and decoded (a failed poster image leaves no entry with a size)
    viewer.page.wait_for_function(
        """() => performance.getEntriesByType("resource").some(
            (e) => e.name.includes("/thumbs/poster.jpg") && e.responseEnd > 0)""",
        timeout=10_000,
    )
    loaded = viewer.page.evaluate(
        """async (url) => {
            const image = new Image();
            image.src = url;
            await image.decode();
            return image.naturalWidth;
        }""",
        poster,
    )
    assert loaded > 0
    # new_session fails the test on any console error (CORS refusals included)


def test_while_the_download_is_prepared_the_watch_page_plays_and_says_so(
    new_session: Sessions, processed: tuple[dict[str, Any], Path]
) -> None:
    # Given the COMPLETED video as it is between Finalise and its download step
    video, _ = processed
    record = VideoRecord.get(video["id"], "VIDEO")
    ready = (record.download_key, record.download_status)
    record.update(
        actions=[
            VideoRecord.download_key.remove(),
            VideoRecord.download_status.set(DownloadStatus.PREPARING.value),
        ],
        add_version_condition=False,
    )
    try:
        owner = new_session()
        owner.sign_in(USER)
        # When its owner opens it, then it plays and the page says the MP4 is coming
        owner.open(f"/watch/{video['id']}")
        expect(owner.page.locator(".player")).to_be_visible()
        expect(owner.page.locator("#download-preparing")).to_contain_text("being prepared")
        expect(owner.page.get_by_role("link", name="Download MP4")).to_have_count(0)
    finally:
        record.update(
            actions=[
                VideoRecord.download_key.set(ready[0]),
                VideoRecord.download_status.set(ready[1]),
            ],
            add_version_condition=False,
        )
