"""Independent checks of published HLS output: parsers and decoders, not our own code."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import m3u8

from tests.support.media import keyframe_times, probe


def decode_segment(init: Path, segment: Path) -> None:
    """init.mp4 + one fMP4 segment must decode to the end without an error."""
    with tempfile.TemporaryDirectory() as work:
        joined = Path(work) / "joined.mp4"
        joined.write_bytes(init.read_bytes() + segment.read_bytes())
        subprocess.run(
            ["ffmpeg", "-v", "error", "-xerror", "-i", str(joined), "-f", "null", "-"],
            check=True,
            capture_output=True,
        )


def check_media_playlist(playlist_path: Path) -> m3u8.M3U8:
    playlist = m3u8.load(str(playlist_path))
    assert playlist.is_endlist, f"{playlist_path} lacks EXT-X-ENDLIST"
    assert playlist.playlist_type == "vod"
    assert playlist.segment_map, f"{playlist_path} has no EXT-X-MAP (fMP4 init)"
    assert playlist.segments
    for segment in playlist.segments:
        assert segment.duration <= playlist.target_duration + 0.5
    folder = playlist_path.parent
    init = folder / playlist.segment_map[0].uri
    for segment in {playlist.segments[0].uri, playlist.segments[-1].uri}:
        decode_segment(init, folder / segment)
    return playlist


def rung_size(playlist_path: Path) -> tuple[int, int]:
    init = playlist_path.parent / "init.mp4"
    stream = next(s for s in probe(init)["streams"] if s["codec_type"] == "video")
    return int(stream["width"]), int(stream["height"])


def rung_keyframes(playlist_path: Path) -> list[float]:
    return [round(t, 3) for t in keyframe_times(playlist_path)]
