"""The player's audio-track menu in headless Chromium against the offline stack: a video
with an English and a French track offers both, and choosing one switches hls.js to it
while playback goes on."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from playwright.sync_api import expect

from local.stack import OfflineStack
from tests.e2e.test_media_quality import upload_and_wait
from tests.support.media import make_clip

if TYPE_CHECKING:
    from tests.e2e.web_fixtures import BrowserSession

pytest_plugins = ["tests.e2e.web_fixtures"]

USER = "web-audio"


def test_the_player_offers_every_audio_track_and_switches_to_the_one_chosen(
    new_session: Callable[..., BrowserSession], offline_stack: OfflineStack, tmp_path: Path
) -> None:
    # Given a video of two audio tracks, English (default) and French
    clip = make_clip(
        tmp_path / "dubbed.mp4", width=320, height=180, seconds=4, audio_streams=2,
        audio_languages=("eng", "fra"),
    )  # fmt: skip
    video = upload_and_wait(offline_stack, clip, user=USER)
    assert video["status"] == "COMPLETED", video.get("error")

    # When its owner opens it, the player lists both tracks, English playing
    viewer = new_session()
    viewer.sign_in(USER)
    viewer.open(f"/watch/{video['id']}")
    page = viewer.page
    player = page.locator(".player")
    expect(player).to_have_attribute("data-audio-tracks", "2", timeout=15_000)
    menu = page.get_by_label("Audio track")
    expect(menu).to_be_visible()
    assert menu.locator("option").all_text_contents() == ["English", "French"]
    expect(menu).to_have_value("0")
    page.get_by_role("button", name="Play video").click()
    page.wait_for_function("() => document.querySelector('video').currentTime > 0.5")

    # Then choosing French switches hls.js to that track, and playback goes on
    menu.select_option(label="French")
    expect(page.locator(".player-status")).to_contain_text("Audio: French")
    expect(player).to_have_attribute("data-audio-track", "1", timeout=15_000)
    chosen = page.evaluate("() => document.querySelector('video').currentTime")
    page.wait_for_function(
        "(chosen) => { const v = document.querySelector('video');"
        " return (v.currentTime > chosen + 0.3 || v.ended) && !v.error }",
        arg=chosen,
    )
    offline_stack.wait_for_executions(timeout_seconds=60)
