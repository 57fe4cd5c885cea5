"""Hostile uploads, generated: files that would make FFmpeg open other URLs or files, or
claim a duration their data does not hold; and a loopback HTTP server that counts every
request, so a test can prove nothing was fetched."""

from __future__ import annotations

import struct
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from local.loopback import LoopbackServer
from tests.support.media import make_clip


@dataclass
class CountingServer:
    url: str
    requests: list[str] = field(default_factory=list)


@contextmanager
def counting_server() -> Iterator[CountingServer]:
    """A loopback HTTP server that answers 404 to everything and records each request."""
    record = CountingServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def _count(self) -> None:
            record.requests.append(f"{self.command} {self.path}")
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD = do_POST = _count

        def log_message(self, format: str, *args: object) -> None:
            return

    server = LoopbackServer(Handler, host="127.0.0.1", port=0)
    record.url = server.url
    server.start()
    try:
        yield record
    finally:
        server.stop()


@contextmanager
def stalling_server() -> Iterator[str]:
    """A loopback HTTP server that accepts requests and never answers, until closed."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            release.wait(timeout=60)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = LoopbackServer(Handler, host="127.0.0.1", port=0)
    server.start()
    try:
        yield f"{server.url}/uploads/v/source"
    finally:
        release.set()
        server.stop()


def hls_media_playlist(path: Path, remote: str) -> Path:
    """A VOD playlist declaring ten hours in one remote segment."""
    path.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:36000\n"
        f"#EXTINF:36000.0,\n{remote}/segment.ts\n#EXT-X-ENDLIST\n"
    )
    return path


def hls_master_playlist(path: Path, remote: str) -> Path:
    path.write_text(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n"
        f"{remote}/360p/index.m3u8\n"
    )
    return path


def dash_manifest(path: Path, remote: str) -> Path:
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" '
        'mediaPresentationDuration="PT10H" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">'
        '<Period><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="800000">'
        f"<BaseURL>{remote}/video.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>\n"
    )
    return path


def ffconcat_list(path: Path, remote: str) -> Path:
    local = make_clip(path.with_name("local.mp4"), width=320, height=240, seconds=1.0)
    path.write_text(f"ffconcat version 1.0\nfile {local}\nfile {remote}/part.mp4\n")
    return path


def concat_list(path: Path, remote: str) -> Path:
    """The headerless form FFmpeg's concat demuxer reads when told `-f concat`."""
    local = make_clip(path.with_name("local.mp4"), width=320, height=240, seconds=1.0)
    path.write_text(f"file '{local}'\nfile '{remote}/part.mp4'\n")
    return path


def image_pattern(path: Path, remote: str) -> Path:
    """A PNG, next to files `img%03d.png` would expand to: FFmpeg's image2 demuxer reads
    such a name as a numbered sequence."""
    for number in (1, 2, 3):
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=64x64",
             "-frames:v", "1", str(path.with_name(f"img{number:03d}.png"))],
            check=True,
        )  # fmt: skip
    path.write_bytes(path.with_name("img001.png").read_bytes())
    return path


def subrip_subtitles(path: Path, remote: str) -> Path:
    path.write_text(
        "1\n00:00:01,000 --> 00:00:04,000\nHello\n\n2\n00:00:05,000 --> 00:10:00,000\n!\n"
    )
    return path


def huge_declared_duration(path: Path, remote: str = "") -> Path:
    """A 3 s MP4 whose movie header (mvhd) declares 36,000 s."""
    make_clip(path, width=320, height=240, seconds=3.0)
    data = bytearray(path.read_bytes())
    at = data.find(b"mvhd")
    if at < 0 or data[at + 4] != 0:
        raise AssertionError("expected a version-0 mvhd box")
    timescale = struct.unpack(">I", data[at + 16 : at + 20])[0]
    data[at + 20 : at + 24] = struct.pack(">I", 36_000 * timescale)
    path.write_bytes(bytes(data))
    return path


@dataclass(frozen=True)
class Case:
    make: Callable[[Path, str], Path]
    file_name: str  # what the file is called locally (the upload's key is fixed)
    named: str  # how the NOT_A_VIDEO message names it


# Every case here must end NOT_A_VIDEO naming the file, with zero requests to `remote`.
REFUSED: dict[str, Case] = {
    "HLS media playlist": Case(hls_media_playlist, "playlist.mp4", "an HLS playlist"),
    "HLS master playlist": Case(hls_master_playlist, "master.mp4", "an HLS master playlist"),
    "DASH manifest": Case(dash_manifest, "manifest.mp4", "a DASH manifest"),
    "ffconcat list": Case(ffconcat_list, "list.mp4", "an FFmpeg concat list"),
    "concat list": Case(concat_list, "list.mp4", "an FFmpeg concat list"),
    "image2 pattern": Case(image_pattern, "img%03d.png", "an image (PNG)"),
    "SubRip subtitles": Case(subrip_subtitles, "subtitles.mp4", "a subtitle file (SubRip)"),
}
