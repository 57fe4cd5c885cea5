"""The HLS multivariant (master) playlist, written from the renditions' measured results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lambdas.pipeline.contract import JobResult

AUDIO_GROUP = "audio"
SUBTITLES_GROUP = "subs"
_SUBTITLES_MEDIA = "#EXT-X-MEDIA:TYPE=SUBTITLES,"
_SUBTITLES_ATTRIBUTE = f',SUBTITLES="{SUBTITLES_GROUP}"'


@dataclass(frozen=True)
class SubtitleTrack:
    """A published caption track (lambdas/core/captions.py stores its files)."""

    language: str  # BCP-47
    name: str
    playlist_key: str  # its HLS media playlist
    vtt_key: str  # the WebVTT file, DASH's BaseURL


def relative_uri(playlist_key: str, master_key: str) -> str:
    base = master_key.rsplit("/", 1)[0] + "/"
    if not playlist_key.startswith(base):
        raise ValueError(f"{playlist_key} is not below {base}")
    return playlist_key[len(base) :]


def build_master_playlist(
    results: Sequence[JobResult], master_key: str, subtitles: Sequence[SubtitleTrack] = ()
) -> str:
    """BANDWIDTH is each rung's measured peak segment bitrate plus the audio's, so it is an
    honest upper bound; AVERAGE-BANDWIDTH likewise from the averages. H.264 rungs first
    (so a player that starts with the first variant starts with one it can decode), then
    any HEVC rungs; highest first within a codec. Players skip variants whose CODECS they
    cannot decode."""
    videos = sorted(
        (r for r in results if r.kind == "video"),
        key=lambda r: (not r.codecs.startswith("avc1"), -r.peak_bitrate_bps),
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
    playlist = "\n".join(lines) + "\n"
    return with_subtitles(playlist, subtitles, master_key) if subtitles else playlist


def with_subtitles(playlist: str, tracks: Sequence[SubtitleTrack], master_key: str) -> str:
    """The master playlist with exactly these subtitle tracks (none removes them): one
    `EXT-X-MEDIA` of TYPE=SUBTITLES each, and `SUBTITLES` on every variant when there are
    any. Rewrites a published master without touching its variants otherwise."""
    lines = [line for line in playlist.splitlines() if not line.startswith(_SUBTITLES_MEDIA)]
    lines = [
        line.replace(_SUBTITLES_ATTRIBUTE, "") if line.startswith("#EXT-X-STREAM-INF:") else line
        for line in lines
    ]
    if not tracks:
        return "\n".join(lines) + "\n"
    media = [
        f'{_SUBTITLES_MEDIA}GROUP-ID="{SUBTITLES_GROUP}",LANGUAGE="{track.language}",'
        f'NAME="{_quoted(track.name)}",DEFAULT=NO,AUTOSELECT=YES,'
        f'URI="{relative_uri(track.playlist_key, master_key)}"'
        for track in sorted(tracks, key=lambda t: t.language)
    ]
    first_variant = next(i for i, line in enumerate(lines) if line.startswith("#EXT-X-STREAM-INF:"))
    lines[first_variant:first_variant] = media
    lines = [
        line + _SUBTITLES_ATTRIBUTE if line.startswith("#EXT-X-STREAM-INF:") else line
        for line in lines
    ]
    return "\n".join(lines) + "\n"


def _quoted(text: str) -> str:
    """A quoted-string holds no double quote, CR or LF (RFC 8216 4.2)."""
    return text.replace('"', "'").replace("\r", " ").replace("\n", " ")
