"""What a client of StreamForge does over HTTP: create a video, upload it, follow its status."""

from __future__ import annotations

import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

TERMINAL_STATUSES = {"COMPLETED", "FAILED", "DELETED"}
EXTRA_TYPES = {".mkv": "video/x-matroska", ".mov": "video/quicktime", ".m4v": "video/x-m4v"}


class ApiError(Exception):
    def __init__(self, status: int, body: Any):
        super().__init__(f"HTTP {status}: {body}")
        self.status = status
        self.body = body


def guess_content_type(path: Path) -> str:
    return (
        EXTRA_TYPES.get(path.suffix.lower())
        or mimetypes.guess_type(path.name)[0]
        or ("application/octet-stream")
    )


@dataclass
class ApiClient:
    base_url: str
    token: str
    timeout: float = 30.0

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(
            method,
            f"{self.base_url}{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=self.timeout,
            **kwargs,
        )
        body = response.json() if response.content else None
        if response.status_code >= 400:
            raise ApiError(response.status_code, body)
        return body

    def create_video(self, path: Path, title: str, content_type: str | None = None) -> Any:
        return self._request(
            "POST",
            "/videos",
            json={
                "title": title,
                "filename": path.name,
                "contentType": content_type or guess_content_type(path),
                "sizeBytes": path.stat().st_size,
            },
        )

    def get_video(self, video_id: str) -> Any:
        return self._request("GET", f"/videos/{video_id}")

    def list_videos(self) -> Any:
        return self._request("GET", "/videos")

    def upload(self, instructions: dict[str, Any], path: Path) -> None:
        with path.open("rb") as source:
            response = requests.request(
                instructions["method"],
                instructions["url"],
                data=source,
                headers=instructions.get("headers", {}),
                timeout=max(self.timeout, 600),
            )
        response.raise_for_status()

    def wait_until_done(self, video_id: str, timeout_seconds: float = 1800) -> Any:
        deadline = time.monotonic() + timeout_seconds
        while True:
            video = self.get_video(video_id)
            if video["status"] in TERMINAL_STATUSES:
                return video
            if time.monotonic() > deadline:
                raise TimeoutError(f"video {video_id} still {video['status']}")
            time.sleep(0.5)
