"""An upload through the web app survives a page reload: S3 keeps the parts already sent,
and after the reload Uppy (Golden Retriever + @uppy/aws-s3) asks the API which parts are
there (listParts) and sends only the rest."""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Request, Route, expect

from local.stack import OfflineStack
from tests.support.media import make_clip

if TYPE_CHECKING:
    from tests.e2e.web_fixtures import BrowserSession

pytest_plugins = ["tests.e2e.web_fixtures"]
pytestmark = pytest.mark.slow

MIB = 1024 * 1024
PART = 16 * MIB  # the API's planned part size, where the web app cuts (its default)


def two_part_clip(path: Path) -> Path:
    """A real clip grown past one part by an MP4 `free` box, which players skip."""
    make_clip(path, width=640, height=360, seconds=2.0)
    padding = PART + MIB
    with path.open("ab") as clip:
        clip.write(struct.pack(">I4s", 8 + padding, b"free") + bytes(padding))
    return path


def test_an_upload_resumes_after_a_reload(
    new_session: Callable[..., BrowserSession],
    offline_stack: OfflineStack,
    tmp_path: Path,
) -> None:
    clip = two_part_clip(tmp_path / "long-walk.mp4")
    rosa = new_session()
    rosa.sign_in("web-rosa")
    rosa.open("/upload")
    page = rosa.page

    # Given an upload whose second part never gets through (the tab is closed meanwhile)
    holding = True

    def hold_second_part(route: Route) -> None:
        if holding and "partNumber=2" in route.request.url and route.request.method == "PUT":
            return  # never answered (nor passed on): the reload cancels it
        route.continue_()

    page.route("**/streamforge-uploads/**", hold_second_part)
    page.locator(".uppy-Dashboard-input").first.set_input_files(str(clip))
    page.get_by_role("button", name="Save changes").click()
    with page.expect_request_finished(
        lambda r: "partNumber=1" in r.url and r.method == "PUT", timeout=30_000
    ):
        page.locator(".uppy-StatusBar-actionBtn--upload").click()
    expect(page.locator(".upload-item")).to_have_attribute("data-state", "uploading")
    rosa.screenshot("20-upload-interrupted")

    # When the page is reloaded and the same file picked again
    holding = False
    sent: list[Request] = []

    def record(request: Request) -> None:
        sent.append(request)

    page.on("request", record)
    page.reload()
    page.locator("main[data-page='upload']").wait_for()
    expect(page.get_by_text("Session restored")).to_be_visible()
    expect(page.locator(".upload-item")).to_have_attribute("data-state", "restored")
    rosa.screenshot("21-upload-restored")
    page.get_by_role("button", name="Re-select").click()  # opens the panel to add files
    page.locator(".uppy-Dashboard-input").first.set_input_files(str(clip))
    page.get_by_role("button", name="Save changes").click()  # the details form opens again
    page.locator(".uppy-StatusBar-actionBtn").first.click()

    # Then it completes, having sent only the part S3 did not have
    item = page.locator(".upload-item").first
    expect(item).to_have_attribute("data-state", "done", timeout=60_000)
    rosa.screenshot("22-upload-resumed")
    urls = [f"{r.method} {r.url}" for r in sent]
    assert any("/upload/parts?" in u and u.startswith("GET") for u in urls), urls
    assert any("partNumber=2" in u and u.startswith("PUT") for u in urls), urls
    assert not any("partNumber=1" in u and u.startswith("PUT") for u in urls), urls
    assert not any(u.startswith("POST") and u.endswith("/videos") for u in urls), urls

    # And S3 assembled exactly the file: the part sent before the reload and the one after
    listed = next(m for u in urls if (m := re.search(r"/videos/([^/]+)/upload/parts\?", u)))
    source = offline_stack.client("s3").get_object(
        Bucket=offline_stack.config.names.uploads_bucket, Key=f"{listed.group(1)}/source"
    )
    assembled = hashlib.sha256(source["Body"].read()).hexdigest()
    assert assembled == hashlib.sha256(clip.read_bytes()).hexdigest()
    offline_stack.wait_for_executions(timeout_seconds=120)
