"""The web app in headless Chromium against the offline stack: sign in, upload through
Uppy, follow processing in the library, play with hls.js (signed URLs, quality levels,
storyboard previews), and privacy between two users. Screenshots go to test-artifacts/web/.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Locator, Page, expect

from local.stack import OfflineStack
from tests.support.media import make_clip

if TYPE_CHECKING:
    from tests.e2e.web_fixtures import BrowserSession

# The fixtures of the browser tests (webapp, browser, new_session) build on offline_stack.
pytest_plugins = ["tests.e2e.web_fixtures"]

# A title that would run script if the app ever put user text into HTML.
HOSTILE_TITLE = "<img src=x onerror=alert(1)> Harbour at dusk"
PROCESSING_TIMEOUT_MS = 120_000

Sessions = Callable[..., "BrowserSession"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """720p (so the ladder has three rungs) and short (so processing takes seconds)."""
    return make_clip(tmp_path_factory.mktemp("web") / "harbour.mp4", seconds=4.0)


def upload_through_ui(page: Page, clip: Path, title: str, *, tags: str = "") -> None:
    page.locator(".uppy-Dashboard-input").first.set_input_files(str(clip))
    # The details form opens by itself for the new file (Dashboard autoOpen: metaEditor),
    # with the title taken from the file name.
    title_field = page.locator("#uppy-Dashboard-FileCard-input-title")
    expect(title_field).to_have_value("harbour")
    # One field at a time, as a person types: each change re-renders the form.
    for selector, value in [
        ("#uppy-Dashboard-FileCard-input-title", title),
        ("#uppy-Dashboard-FileCard-input-description", "Boats coming in.\nLine two."),
        ("#uppy-Dashboard-FileCard-input-tags", tags),
    ]:
        page.locator(selector).fill(value)
        expect(page.locator(selector)).to_have_value(value)
    page.locator("#uppy-Dashboard-FileCard-input-visibility").select_option("private")
    page.get_by_role("button", name="Save changes").click()
    page.locator(".uppy-StatusBar-actionBtn--upload").click()


def wait_for_poster(card: Locator) -> None:
    """The signed poster URL loads from the CDN (an image that failed is replaced)."""
    card.locator(".poster img").scroll_into_view_if_needed()
    card.locator(".poster img").evaluate("img => img.decode()", timeout=10_000)


def test_catalog_and_sign_in(new_session: Sessions) -> None:
    # Given someone who is not signed in
    visitor = new_session()
    visitor.open("/")
    expect(visitor.page.get_by_role("heading", name="Discover")).to_be_visible()
    visitor.screenshot("01-catalog-anonymous")

    # When they open their library, they are asked to sign in first
    visitor.open("/library")
    expect(visitor.page.get_by_role("heading", name="Sign in to StreamForge")).to_be_visible()
    visitor.screenshot("02-sign-in")

    # Then signing in brings them to their (empty) library
    visitor.sign_in("web-carol")
    expect(visitor.page.get_by_role("heading", name="Your videos")).to_be_visible()
    expect(visitor.page.get_by_text("No videos yet")).to_be_visible()
    visitor.screenshot("03-library-empty")

    # And the pages fit a phone's screen (nothing wider than the viewport)
    phone = new_session(viewport={"width": 390, "height": 844})
    phone.sign_in("web-carol")
    for route, name in [("/", "catalog"), ("/upload", "upload"), ("/library", "library")]:
        phone.open(route)
        phone.page.locator(f"main[data-page='{name}']").wait_for()
        phone.page.wait_for_load_state("networkidle")
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{route} is {width}px wide on a 390px screen"
        phone.screenshot(f"15-phone-{name}")


def test_upload_refuses_what_is_not_a_video(new_session: Sessions, tmp_path: Path) -> None:
    person = new_session()
    person.sign_in("web-dave")
    person.open("/upload")
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video")
    person.page.locator(".uppy-Dashboard-input").first.set_input_files(str(notes))
    rejected = person.page.locator(".upload-rejected")
    expect(rejected).to_contain_text("You can only upload")
    person.screenshot("04-upload-wrong-type")


@pytest.mark.slow
def test_upload_process_play_and_privacy(
    new_session: Sessions, offline_stack: OfflineStack, clip: Path
) -> None:
    alice = new_session()
    alice.sign_in("web-alice")
    video_id = upload_and_follow_processing(alice, clip)
    play_and_preview(alice.page, alice)
    second_user_cannot_see(new_session(), video_id)
    publish_then_delete(alice, new_session(), video_id)
    offline_stack.wait_for_executions(timeout_seconds=60)


def upload_and_follow_processing(alice: BrowserSession, clip: Path) -> str:
    # Given a clip uploaded through the Uppy dashboard, with a title full of markup
    alice.open("/upload")
    expect(alice.page.get_by_role("heading", name="Upload a video")).to_be_visible()
    alice.screenshot("05-upload-empty")
    upload_through_ui(alice.page, clip, HOSTILE_TITLE, tags="harbour, evening")
    item = alice.page.locator(".upload-item").first
    expect(item).to_have_attribute("data-state", "done", timeout=30_000)
    expect(item.locator(".upload-name")).to_have_text(HOSTILE_TITLE)
    alice.screenshot("06-upload-done")

    # When it is processed, the library follows it to COMPLETED by itself
    alice.page.get_by_role("link", name="View in library").click()
    row = alice.page.locator(".library-row").first
    expect(row.locator(".video-title")).to_have_text(HOSTILE_TITLE)
    alice.screenshot("07-library-processing")
    expect(row).to_have_attribute("data-status", "COMPLETED", timeout=PROCESSING_TIMEOUT_MS)
    video_id = row.get_attribute("data-video-id")
    assert video_id
    # The title stayed text: no element was made from it.
    assert row.locator(".video-title img").count() == 0
    wait_for_poster(row)
    alice.screenshot("08-library-completed")
    row.get_by_role("link", name="Watch").click()
    return video_id


def play_and_preview(page: Page, alice: BrowserSession) -> None:
    # Then the player plays it through hls.js, with every rung in the quality menu
    expect(page.get_by_role("heading", name=HOSTILE_TITLE)).to_be_visible()
    player = page.locator(".player")
    expect(player).not_to_have_attribute("data-levels", "0", timeout=15_000)
    levels = int(player.get_attribute("data-levels") or 0)
    assert levels > 1, f"hls.js found {levels} quality level(s)"
    options = page.get_by_label("Quality").locator("option").all_text_contents()
    assert options[0].startswith("Auto") and len(options) == levels + 1, options
    assert {"720p", "480p", "360p"} <= set(options), options
    page.get_by_role("button", name="Play video").click()
    page.wait_for_function(
        "() => document.querySelector('video').currentTime > 0.5", timeout=20_000
    )
    # Choosing a rung switches to it: hls.js loads that level, the video shows its frames,
    # and playback goes on
    page.get_by_label("Quality").select_option(label="360p")
    expect(page.locator(".player-status")).to_contain_text("360p")
    chosen = page.evaluate("() => document.querySelector('video').currentTime")
    page.wait_for_function(
        """(chosen) => {
            const video = document.querySelector('video')
            return video.videoHeight === 360 && video.currentTime > chosen + 0.5 && !video.error
        }""",
        arg=chosen,
        timeout=20_000,
    )
    page.evaluate("document.querySelector('video').pause()")
    alice.screenshot("09-player")

    # And hovering the timeline shows a storyboard preview from the sprite
    # (data-storyboard counts the WebVTT's cues; "error" if it could not be read)
    expect(player).to_have_attribute(
        "data-storyboard", re.compile(r"^[1-9][0-9]*$"), timeout=10_000
    )
    box = page.get_by_label("Seek").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)
    preview = page.locator(".storyboard-preview")
    expect(preview).to_be_visible()
    expect(preview.locator(".storyboard-image")).to_have_css(
        "background-image", re.compile(r'url\(".*/thumbs/storyboard\.jpg\?.*Key-Pair-Id=.*"\)')
    )
    alice.screenshot("10-player-storyboard", full_page=False)


def second_user_cannot_see(bob: BrowserSession, video_id: str) -> None:
    # A second user sees neither the video in their library nor the video itself
    bob.expect_console_error(rf"status of 404 .*/(videos|catalog)/{video_id}\]")
    bob.sign_in("web-bob")
    expect(bob.page.get_by_text("No videos yet")).to_be_visible()
    bob.open(f"/watch/{video_id}")
    expect(bob.page.get_by_role("heading", name="Video not found")).to_be_visible()
    bob.open("/")
    expect(bob.page.get_by_role("heading", name="Discover")).to_be_visible()
    expect(bob.page.locator(f"[data-video-id='{video_id}']")).to_have_count(0)
    bob.screenshot("11-second-user-not-found")


def publish_then_delete(alice: BrowserSession, carol: BrowserSession, video_id: str) -> None:
    # When alice makes it public, it joins the catalog for everyone, signed in or not
    alice.open("/library")
    row = alice.page.locator(f".library-row[data-video-id='{video_id}']")
    row.get_by_role("button", name="Edit").click()
    dialog = alice.page.get_by_role("dialog", name="Edit video")
    expect(dialog.get_by_label("Title")).to_have_value(HOSTILE_TITLE)
    dialog.get_by_label("Visibility").select_option("public")
    alice.screenshot("12-library-edit", full_page=False)
    dialog.get_by_role("button", name="Save changes").click()
    expect(row.locator(".badge-public")).to_have_text("Public")
    carol.open("/")
    card = carol.page.locator(f".video-card[data-video-id='{video_id}']")
    expect(card.locator(".video-title")).to_have_text(HOSTILE_TITLE)
    wait_for_poster(card)
    carol.screenshot("13-catalog-public")

    # And deleting it (after confirming) removes it from the library
    row.get_by_role("button", name="Delete").click()
    confirm = alice.page.get_by_role("dialog")
    expect(confirm).to_contain_text("cannot be undone")
    alice.screenshot("14-library-delete-confirm", full_page=False)
    confirm.get_by_role("button", name="Delete video").click()
    expect(row).to_have_count(0)
