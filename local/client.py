"""What a client of StreamForge does over HTTP: create a video, upload it (in one PUT or in
resumable parts, as Uppy does), follow its status, and manage it."""

from __future__ import annotations

import math
import mimetypes
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

TERMINAL_STATUSES = {"COMPLETED", "FAILED", "DELETED"}
EXTRA_TYPES = {".mkv": "video/x-matroska", ".mov": "video/quicktime", ".m4v": "video/x-m4v"}
UPLOAD_TIMEOUT_SECONDS = 600


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


def video_id_of_key(key: str) -> str:
    """Sources live at `{videoId}/source`."""
    return key.split("/", 1)[0]


@dataclass
class ApiClient:
    base_url: str
    token: str
    timeout: float = 30.0

    def _request(
        self, method: str, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        response = requests.request(
            method,
            f"{self.base_url}{path}",
            headers={"Authorization": f"Bearer {self.token}", **(headers or {})},
            timeout=self.timeout,
            **kwargs,
        )
        body = response.json() if response.content else None
        if response.status_code >= 400:
            raise ApiError(response.status_code, body)
        return body

    # --- videos ---------------------------------------------------------------------------

    def create_video(
        self,
        path: Path,
        title: str,
        content_type: str | None = None,
        *,
        multipart: bool | None = None,
        visibility: str | None = None,
        idempotency_key: str | None = None,
        size_bytes: int | None = None,
    ) -> Any:
        """`size_bytes` declares a size other than the file's (a client may be wrong)."""
        body: dict[str, Any] = {
            "title": title,
            "filename": path.name,
            "contentType": content_type or guess_content_type(path),
            "sizeBytes": path.stat().st_size if size_bytes is None else size_bytes,
        }
        if multipart is not None:
            body["multipart"] = multipart
        if visibility is not None:
            body["visibility"] = visibility
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self._request("POST", "/videos", headers=headers, json=body)

    def get_video(self, video_id: str) -> Any:
        return self._request("GET", f"/videos/{video_id}")

    def list_videos(self, limit: int | None = None, cursor: str | None = None) -> Any:
        params = {k: v for k, v in {"limit": limit, "cursor": cursor}.items() if v is not None}
        return self._request("GET", "/videos", params=params)

    def update_video(self, video_id: str, **changes: Any) -> Any:
        return self._request("PATCH", f"/videos/{video_id}", json=changes)

    def delete_video(self, video_id: str) -> None:
        self._request("DELETE", f"/videos/{video_id}")

    def reprocess(self, video_id: str) -> Any:
        return self._request("POST", f"/videos/{video_id}/reprocess")

    def catalog(self, limit: int | None = None, cursor: str | None = None) -> Any:
        params = {k: v for k, v in {"limit": limit, "cursor": cursor}.items() if v is not None}
        return self._request("GET", "/catalog", params=params)

    # --- captions -------------------------------------------------------------------------

    def add_captions(
        self, video_id: str, language: str, data: bytes, fmt: str, label: str | None = None
    ) -> Any:
        """Creates the caption upload, PUTs the file, completes it; the published track."""
        body: dict[str, Any] = {"language": language, "format": fmt, "sizeBytes": len(data)}
        if label is not None:
            body["label"] = label
        created = self._request("POST", f"/videos/{video_id}/captions", json=body)
        upload = created["upload"]
        response = requests.put(
            upload["url"], data=data, headers=upload["headers"], timeout=self.timeout
        )
        response.raise_for_status()
        return self._request("POST", f"/videos/{video_id}/captions/{created['language']}/complete")

    def list_captions(self, video_id: str) -> Any:
        return self._request("GET", f"/videos/{video_id}/captions")

    def delete_captions(self, video_id: str, language: str) -> None:
        self._request("DELETE", f"/videos/{video_id}/captions/{language}")

    # --- uploads --------------------------------------------------------------------------

    def upload(self, instructions: dict[str, Any], path: Path) -> Any:
        """Uploads the whole file as the instructions say, then completes the upload."""
        if instructions.get("type") == "multipart":
            video_id = video_id_of_key(instructions["key"])
            parts = self.upload_parts(video_id, path, int(instructions["partSizeBytes"]))
            return self.complete_upload(video_id, parts)
        with path.open("rb") as source:
            response = requests.request(
                instructions["method"],
                instructions["url"],
                data=source,
                headers=instructions.get("headers", {}),
                timeout=max(self.timeout, UPLOAD_TIMEOUT_SECONDS),
            )
        response.raise_for_status()
        uploaded_id = _video_id_of_url(instructions["url"])
        return self.complete_upload(uploaded_id) if uploaded_id else None

    def start_upload(self, video_id: str, multipart: bool | None = None) -> Any:
        body = {} if multipart is None else {"multipart": multipart}
        return self._request("POST", f"/videos/{video_id}/upload", json=body)["upload"]

    def sign_part(self, video_id: str, part_number: int) -> Any:
        return self._request("GET", f"/videos/{video_id}/upload/parts/{part_number}/url")

    def list_parts(self, video_id: str) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = self._request("GET", f"/videos/{video_id}/upload/parts")
        return parts

    def upload_parts(
        self,
        video_id: str,
        path: Path,
        part_size: int,
        numbers: Iterable[int] | None = None,
    ) -> list[dict[str, Any]]:
        """PUTs the given parts (all by default) to signed URLs; returns {PartNumber, ETag}."""
        count = max(1, math.ceil(path.stat().st_size / part_size))
        uploaded = []
        with path.open("rb") as source:
            for number in numbers or range(1, count + 1):
                source.seek((number - 1) * part_size)
                signed = self.sign_part(video_id, number)
                response = requests.put(
                    signed["url"],
                    data=source.read(part_size),
                    headers=signed.get("headers") or {},
                    timeout=max(self.timeout, UPLOAD_TIMEOUT_SECONDS),
                )
                response.raise_for_status()
                uploaded.append({"PartNumber": number, "ETag": response.headers["ETag"]})
        return uploaded

    def complete_upload(self, video_id: str, parts: list[dict[str, Any]] | None = None) -> Any:
        body = {"parts": parts} if parts is not None else {}
        return self._request("POST", f"/videos/{video_id}/upload/complete", json=body)

    def abort_upload(self, video_id: str) -> None:
        self._request("DELETE", f"/videos/{video_id}/upload")

    def wait_until_done(
        self, video_id: str, timeout_seconds: float = 1800, *, download: bool = True
    ) -> Any:
        """The video once its status is terminal and, with `download`, its MP4 download is
        no longer being prepared (made a moment after COMPLETED)."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            video = self.get_video(video_id)
            preparing = download and video.get("downloadStatus") == "PREPARING"
            if video["status"] in TERMINAL_STATUSES and not preparing:
                return video
            if time.monotonic() > deadline:
                raise TimeoutError(f"video {video_id} still {video['status']}")
            time.sleep(0.5)


def _video_id_of_url(url: str) -> str | None:
    """A presigned PUT URL's path ends in /{videoId}/source."""
    path = url.split("?", 1)[0]
    parts = path.rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 and parts[-1] == "source" else None
