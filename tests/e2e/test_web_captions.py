"""Captions in the web app, in headless Chromium: the owner uploads a SubRip file on the watch
page, the player lists the track (hls.js subtitle tracks), and the chosen track's cue is
active on the video at its time. A file with a broken cue shows the API's message naming
the line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from local.client import ApiClient
from local.stack import OfflineStack
from tests.support.media import make_clip

if TYPE_CHECKING:
    from tests.e2e.web_fixtures import BrowserSession

pytest_plugins = ["tests.e2e.web_fixtures"]

Sessions = Callable[..., "BrowserSession"]
CUE = "Harbour lights at dusk"
SRT = f"1\n00:00:01,000 --> 00:00:02,500\n{CUE}\n"
BROKEN_SRT = "1\n00:00:00,000 --> 00:00:01,000\nfine\n\n2\n00:00:0x,000 --> 00:00:02,000\nbad\n"


def test_the_owner_adds_captions_and_the_player_shows_the_cue(
    new_session: Sessions, offline_stack: OfflineStack, tmp_path: Path
) -> None:
    # Given a COMPLETED video of the signed-in owner (uploaded through the API: quicker)
    user = "web-captions"
    client = ApiClient(offline_stack.api_url, offline_stack.token(user))
    clip = make_clip(tmp_path / "dusk.mp4", width=640, height=360, seconds=4.0)
    created = client.create_video(clip, "Dusk", "video/mp4")
    video_id = created["video"]["id"]
    client.upload(created["upload"], clip)
    assert client.wait_until_done(video_id, timeout_seconds=300)["status"] == "COMPLETED"
    owner = new_session()
    owner.sign_in(user)
    owner.open(f"/watch/{video_id}")
    page = owner.page
    player = page.locator(".player")
    expect(player).not_to_have_attribute("data-levels", "0", timeout=15_000)
    expect(player).to_have_attribute("data-captions", "0")
    expect(player.get_by_label("Captions", exact=True)).to_be_hidden()

    # When a file with a broken cue is sent, the form shows the API's message with its line
    owner.expect_console_error(r"status of 422 .*/captions/en/complete\]")
    broken = tmp_path / "broken.srt"
    broken.write_text(BROKEN_SRT)
    card = page.locator(".captions-card")
    card.get_by_label("Language").fill("en")
    card.get_by_label("WebVTT or SubRip file").set_input_files(str(broken))
    card.get_by_role("button", name="Add captions").click()
    expect(card.get_by_role("alert")).to_contain_text("line 5:")

    # And when a good one is, the page reloads with the track in the player's menu
    good = tmp_path / "dusk.srt"
    good.write_text(SRT)
    card.get_by_label("Label (optional)").fill("English")
    card.get_by_label("WebVTT or SubRip file").set_input_files(str(good))
    card.get_by_role("button", name="Add captions").click()
    expect(page.locator(".captions-list li[data-language='en']")).to_contain_text("1 cues")
    expect(player).to_have_attribute("data-captions", "1", timeout=15_000)
    menu = player.get_by_label("Captions", exact=True)
    assert menu.locator("option").all_text_contents() == ["Captions off", "English"]

    # Then choosing it shows the cue while the video plays over its time
    menu.select_option(label="English")
    expect(page.locator(".player-status")).to_contain_text("Captions: English")
    page.get_by_role("button", name="Play video").click()
    # (its WebVTT says 1.0 to 2.5 s: the X-TIMESTAMP-MAP puts it on the video's own clock)
    active = page.wait_for_function(
        """(text) => {
            const video = document.querySelector('video')
            for (const track of video.textTracks) {
                if (track.mode !== 'showing') continue
                for (const cue of track.activeCues || []) {
                    if (cue.text === text) {
                        return {start: cue.startTime, end: cue.endTime, at: video.currentTime}
                    }
                }
            }
            return null
        }""",
        arg=CUE,
        timeout=20_000,
    ).json_value()
    assert active["start"] == pytest.approx(1.0, abs=0.05), active
    assert active["end"] == pytest.approx(2.5, abs=0.05), active
    assert 0.9 <= active["at"] <= 2.6, active
    page.evaluate("document.querySelector('video').pause()")
    owner.screenshot("20-player-captions", full_page=False)
