"""Reading the VOD media playlist FFmpeg wrote, and the bitrates that follow from it."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

_URI_ATTRIBUTE = re.compile(r'(?:^|,)URI="([^"]*)"')


@dataclass(frozen=True)
class Segment:
    uri: str
    duration: float


@dataclass(frozen=True)
class MediaPlaylist:
    target_duration: int
    map_uri: str | None
    segments: tuple[Segment, ...]
    ended: bool

    @property
    def duration_seconds(self) -> float:
        return sum(segment.duration for segment in self.segments)


def parse_media_playlist(text: str) -> MediaPlaylist:
    """Parse the tags a single-file-per-segment VOD playlist uses; reject anything else."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != "#EXTM3U":
        raise ValueError("not an M3U8 playlist: first line is not #EXTM3U")
    target_duration: int | None = None
    map_uri: str | None = None
    segments: list[Segment] = []
    ended = False
    pending: float | None = None
    for line in lines[1:]:
        tag, _, value = line.partition(":")
        if tag == "#EXT-X-TARGETDURATION":
            target_duration = int(value)
        elif tag == "#EXT-X-MAP":
            match = _URI_ATTRIBUTE.search(value)
            if match is None:
                raise ValueError(f"EXT-X-MAP without URI: {line}")
            map_uri = match.group(1)
        elif tag == "#EXTINF":
            pending = float(value.split(",", 1)[0])
        elif tag == "#EXT-X-BYTERANGE":
            raise ValueError("byte-range segments are not supported")
        elif tag == "#EXT-X-ENDLIST":
            ended = True
        elif not line.startswith("#"):
            if pending is None:
                raise ValueError(f"segment without EXTINF: {line}")
            segments.append(Segment(uri=line, duration=pending))
            pending = None
    if target_duration is None:
        raise ValueError("playlist has no EXT-X-TARGETDURATION")
    if pending is not None:
        raise ValueError("EXTINF without a segment URI at the end of the playlist")
    return MediaPlaylist(target_duration, map_uri, tuple(segments), ended)


def conform_target_duration(text: str, playlist: MediaPlaylist) -> tuple[str, MediaPlaylist]:
    """RFC 8216: every EXTINF, rounded to the nearest integer, must be <= the target
    duration. FFmpeg 5.1 rounds half to even from a duration a hair under .5, so a 1.5 s
    segment can come with EXT-X-TARGETDURATION:1; this raises the target where needed."""
    required = max(math.floor(segment.duration + 0.5) for segment in playlist.segments)
    if playlist.target_duration >= required:
        return text, playlist
    fixed = re.sub(
        r"^#EXT-X-TARGETDURATION:\d+$",
        f"#EXT-X-TARGETDURATION:{required}",
        text,
        count=1,
        flags=re.MULTILINE,
    )
    return fixed, replace(playlist, target_duration=required)


def average_bitrate_bps(total_bytes: int, duration_seconds: float) -> int:
    if duration_seconds <= 0:
        raise ValueError("duration must be positive")
    return round(total_bytes * 8 / duration_seconds)


def peak_bitrate_bps(segments: Iterable[tuple[int, float]]) -> int:
    """The highest bitrate of any one segment, from (bytes, seconds) pairs.

    Never below the average bitrate of the same segments: a maximum of ratios is at
    least the ratio of the sums.
    """
    rates = [size * 8 / seconds for size, seconds in segments if seconds > 0]
    if not rates:
        raise ValueError("no segment with a positive duration")
    return round(max(rates))
