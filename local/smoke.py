"""`python -m local smoke --api URL --token T`: checks a deployed stack end to end, as a user
would. Uploads a small generated clip (or a clip of yours) through the API, with the headers
the API asks for, waits for COMPLETED, then plays it back through the signed URLs the API
returns: the master playlist, one rendition's first segment and the poster. The video is
deleted afterwards unless `keep` is set."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import requests

from local.client import ApiClient

CLIP_SECONDS = 2
FETCH_TIMEOUT_SECONDS = 30


class SmokeFailed(Exception):
    pass


@dataclass
class SmokeReport:
    video_id: str = ""
    status: str = ""
    seconds_to_done: float = 0.0
    fetched: list[tuple[str, int]] = field(default_factory=list)  # (what, bytes)
    deleted: bool = False

    def lines(self) -> list[str]:
        return [
            f"video    {self.video_id} {self.status} after {self.seconds_to_done:.0f} s",
            *(f"fetched  {what} ({size} bytes)" for what, size in self.fetched),
            f"deleted  {'yes' if self.deleted else 'no (kept)'}",
        ]


def generate_clip(path: Path, seconds: int = CLIP_SECONDS, size: str = "320x240") -> Path:
    """A tiny H.264/AAC MP4: FFmpeg's test pattern and a tone."""
    lavfi = f"duration={seconds}"
    command = [
        *("ffmpeg", "-v", "error", "-y"),
        *("-f", "lavfi", "-i", f"testsrc=size={size}:rate=25:{lavfi}"),
        *("-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:{lavfi}"),
        *("-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"),
        *("-c:a", "aac", "-shortest", "-movflags", "+faststart", str(path)),
    ]
    subprocess.run(command, check=True, capture_output=True)
    return path


def first_uri(playlist: str) -> str:
    """The first URI line of an HLS playlist: a variant in a master, a segment in a rung."""
    for line in playlist.splitlines():
        if line.strip() and not line.startswith("#"):
            return line.strip()
    raise SmokeFailed(f"playlist lists nothing:\n{playlist[:500]}")


def signed(url: str, query: str) -> str:
    """Players drop the query when resolving relative URIs; the signature is added back."""
    return f"{url}{'&' if '?' in url else '?'}{query}"


def _fetch(url: str) -> bytes:
    response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS)
    if response.status_code != 200:
        raise SmokeFailed(f"GET {url.split('?', 1)[0]} answered {response.status_code}")
    return response.content


def run_smoke(
    api_url: str,
    token: str,
    *,
    timeout_seconds: float = 900,
    keep: bool = False,
    clip: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> SmokeReport:
    client = ApiClient(api_url.rstrip("/"), token)
    report = SmokeReport()
    with tempfile.TemporaryDirectory() as work:
        clip = clip or generate_clip(Path(work) / "streamforge-smoke.mp4")
        created = client.create_video(clip, "StreamForge smoke test")
        report.video_id = created["video"]["id"]
        progress(f"created {report.video_id}; uploading {clip.stat().st_size} bytes")
        client.upload(created["upload"], clip)
    started = time.monotonic()
    video = client.wait_until_done(report.video_id, timeout_seconds=timeout_seconds)
    report.status, report.seconds_to_done = video["status"], time.monotonic() - started
    if report.status != "COMPLETED":
        raise SmokeFailed(f"video {report.video_id} ended {report.status}: {video.get('error')}")
    _play_back(video["playback"], report)
    if not keep:
        client.delete_video(report.video_id)
        report.deleted = True
    return report


def _play_back(playback: dict[str, Any] | None, report: SmokeReport) -> None:
    if not playback or not playback.get("hlsUrl") or not playback.get("posterUrl"):
        raise SmokeFailed(f"a COMPLETED video without playback URLs: {playback}")
    query = playback["signedQuery"]
    master_url = playback["hlsUrl"]
    master = _fetch(master_url).decode()
    report.fetched.append(("master playlist", len(master)))
    rung_url = urljoin(master_url, first_uri(master))
    rung = _fetch(signed(rung_url, query)).decode()
    report.fetched.append((f"playlist {first_uri(master)}", len(rung)))
    segment = _fetch(signed(urljoin(rung_url, first_uri(rung)), query))
    report.fetched.append((f"segment {first_uri(rung)}", len(segment)))
    poster = _fetch(playback["posterUrl"])
    report.fetched.append(("poster", len(poster)))
