"""The HLS multivariant (master) playlist, written from the renditions' measured results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from lambdas.pipeline.codec_order import codec_rank
from lambdas.pipeline.contract import JobResult

AUDIO_GROUP = "audio"
# Apple's characteristic for an audio description (HLS, EXT-X-MEDIA CHARACTERISTICS)
DESCRIBES_VIDEO = "public.accessibility.describes-video"
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
    any HEVC rungs, then any AV1 rungs (`codec_order`); highest first within a codec.
    Players skip variants whose CODECS they cannot decode."""
    videos = sorted(
        (r for r in results if r.kind == "video"),
        key=lambda r: (codec_rank(r.codecs), -r.peak_bitrate_bps),
    )
    if not videos:
        raise ValueError("a master playlist needs at least one video rendition")
    audios = audio_renditions(results)
    lines = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"]
    lines += [audio_media_tag(audio, master_key) for audio in audios]
    audio = audios[0] if audios else None
    # A variant's bandwidth holds whichever audio rendition a player picks: the largest
    audio_peak = max((a.peak_bitrate_bps for a in audios), default=0)
    audio_average = max((a.average_bitrate_bps for a in audios), default=0)
    audio_codecs = "".join(f",{c}" for c in dict.fromkeys(a.codecs for a in audios))
    for video in videos:
        peak = video.peak_bitrate_bps + audio_peak
        average = video.average_bitrate_bps + audio_average
        codecs = video.codecs + audio_codecs
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
        f'NAME="{quoted(track.name)}",DEFAULT=NO,AUTOSELECT=YES,'
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


def audio_renditions(results: Sequence[JobResult]) -> list[JobResult]:
    """The audio renditions, the default one first (the first if none is marked)."""
    audios = [r for r in results if r.kind == "audio"]
    return sorted(audios, key=lambda r: not r.default) if any(r.default for r in audios) else audios


def audio_media_tag(audio: JobResult, master_key: str) -> str:
    """One audio rendition of the group: its language, name and role. Commentary is never
    selected automatically (unless it is the default); a description carries Apple's
    characteristic, so players offer it to those who asked for descriptions."""
    default = audio.default is not False
    autoselect = default or audio.role != "commentary"
    attributes = [
        "TYPE=AUDIO",
        f'GROUP-ID="{AUDIO_GROUP}"',
        f'LANGUAGE="{quoted(audio.language or "und")}"',
        f'NAME="{quoted(audio.title or "Default")}"',
        f"DEFAULT={'YES' if default else 'NO'}",
        f"AUTOSELECT={'YES' if autoselect else 'NO'}",
    ]
    if audio.role == "description":
        attributes.append(f'CHARACTERISTICS="{DESCRIBES_VIDEO}"')
    attributes += [
        f'CHANNELS="{audio.channels or 2}"',
        f'URI="{relative_uri(audio.playlist_key, master_key)}"',
    ]
    return "#EXT-X-MEDIA:" + ",".join(attributes)


def quoted(text: str) -> str:
    """A quoted-string attribute value: no double quote, CR or LF (RFC 8216, 4.2)."""
    return "".join(" " if ch in "\r\n" else "'" if ch == '"' else ch for ch in text)
