"""The HLS multivariant (master) playlist, written from the renditions' measured results."""

from __future__ import annotations

from collections.abc import Sequence

from lambdas.pipeline.codec_order import codec_rank
from lambdas.pipeline.contract import JobResult

AUDIO_GROUP = "audio"


def relative_uri(playlist_key: str, master_key: str) -> str:
    base = master_key.rsplit("/", 1)[0] + "/"
    if not playlist_key.startswith(base):
        raise ValueError(f"{playlist_key} is not below {base}")
    return playlist_key[len(base) :]


def build_master_playlist(results: Sequence[JobResult], master_key: str) -> str:
    """BANDWIDTH is each rung's measured peak segment bitrate plus the audio's, so it is an
    honest upper bound; AVERAGE-BANDWIDTH likewise from the averages. H.264 rungs first
    (so a player that starts with the first variant starts with one it can decode), then
    any HEVC rungs, then any AV1 rungs (`codec_order`); highest first within a codec.
    Players skip variants whose CODECS they cannot decode."""
    videos = sorted(
        (r for r in results if r.kind == "video"),
        key=lambda r: (codec_rank(r.codecs), -r.peak_bitrate_bps),
    )
    if not videos:
        raise ValueError("a master playlist needs at least one video rendition")
    audio = next((r for r in results if r.kind == "audio"), None)
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    if audio:
        lines.append(
            f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{AUDIO_GROUP}",NAME="Default",DEFAULT=YES,'
            f'AUTOSELECT=YES,CHANNELS="{audio.channels or 2}",'
            f'URI="{relative_uri(audio.playlist_key, master_key)}"'
        )
    for video in videos:
        peak = video.peak_bitrate_bps + (audio.peak_bitrate_bps if audio else 0)
        average = video.average_bitrate_bps + (audio.average_bitrate_bps if audio else 0)
        codecs = video.codecs + (f",{audio.codecs}" if audio else "")
        attributes = [
            f"BANDWIDTH={peak}",
            f"AVERAGE-BANDWIDTH={average}",
            f'CODECS="{codecs}"',
            f"RESOLUTION={video.width}x{video.height}",
        ]
        if video.frame_rate:
            attributes.append(f"FRAME-RATE={video.frame_rate:.3f}")
        if audio:
            attributes.append(f'AUDIO="{AUDIO_GROUP}"')
        lines.append("#EXT-X-STREAM-INF:" + ",".join(attributes))
        lines.append(relative_uri(video.playlist_key, master_key))
    return "\n".join(lines) + "\n"
