"""What ffprobe says about a source, reduced to what planning needs (pure functions); and
what FFmpeg is allowed to open while reading it."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from lambdas.pipeline.contract import AudioRole, Transfer
from lambdas.pipeline.errors import (
    IncompleteFile,
    MediaRejected,
    NotAVideo,
    NoVideoStream,
    UnusableVideo,
)

# The demuxers StreamForge reads, by FFmpeg's names (`ffmpeg -demuxers`); none of them opens
# another file or URL (mov's external data references stay off, FFmpeg's default). Playlists
# (hls, dash), lists (concat), image sequences (image2) and everything else are refused
# before a byte of them is followed. transcoder_image/transcoder/command.py holds the same
# list (tests/unit/test_transcoder_command.py keeps them equal).
ACCEPTED_DEMUXERS = (
    "mov,mp4,m4a,3gp,3g2,mj2",  # MP4, MOV, M4V, 3GP
    "matroska,webm",
    "avi",
    "mpegts",  # .ts, .m2ts
    "mpeg",  # MPEG-PS: .mpg, .vob
    "flv",
    "asf",  # .wmv
    "ogg",  # .ogv
    "mxf",
)
# What reading the source needs: a presigned https URL goes through tls and tcp; http (the
# offline endpoint) through tcp; a local path (tools, tests) is a file. Never concat, subfile,
# data, crypto or hls, so nothing can point FFmpeg elsewhere.
_PROTOCOLS = {"https": "https,tls,tcp", "http": "http,tcp", "": "file"}

# What a refused format is, for the person who uploaded it; a list or playlist points
# elsewhere, which StreamForge never follows.
_REFUSED_FORMATS: dict[str, tuple[str, bool]] = {
    "hls": ("an HLS playlist", True),
    "dash": ("a DASH manifest", True),
    "webm_dash_manifest": ("a DASH manifest", True),
    "concat": ("an FFmpeg concat list", True),
    "srt": ("a subtitle file (SubRip)", False),
    "webvtt": ("a subtitle file (WebVTT)", False),
    "ass": ("a subtitle file (ASS)", False),
    "lrc": ("a lyrics file (LRC)", False),
    "tty": ("a text file", False),
    "image2": ("an image", False),
    "png_pipe": ("an image (PNG)", False),
    "jpeg_pipe": ("an image (JPEG)", False),
    "gif": ("an image (GIF)", False),
    "mp3": ("an audio file (MP3)", False),
    "wav": ("an audio file (WAV)", False),
    "flac": ("an audio file (FLAC)", False),
    "aac": ("an audio file (AAC)", False),
}
_NOT_ON_WHITELIST = re.compile(r"\[([\w,]+) @ [^\]]*\] Format not on whitelist")
_SRT_CUE = re.compile(rb"^\s*\d+\s*\r?\n\s*\d{1,2}:\d{2}:\d{2}[,.]\d{3}\s*-->", re.MULTILINE)
_CONCAT_LINE = re.compile(rb"^\s*file\s+['\"]?\S", re.MULTILINE)

_FALLBACK_FRAME_RATE = 30.0
# A declared duration counts as confirmed when packets are read this close to its end.
DURATION_TOLERANCE_SECONDS = 0.5
# ffprobe's field_order for interlaced video (top/bottom field first, and coded orders)
_INTERLACED_FIELD_ORDERS = {"tt", "bb", "tb", "bt"}
_HDR_TRANSFERS: dict[str, Transfer] = {"smpte2084": "pq", "arib-std-b67": "hlg"}
# Audio renditions made of one source at most: each is an encode and a loudness pass, and
# players list every one; beyond the default and the next seven, tracks are left out.
MAX_AUDIO_TRACKS = 8
# A track's title and language as the plan carries them (every job's JSON must fit the
# container overrides, and the plan Step Functions' payloads): longer tags are cut.
MAX_TITLE_CHARS = 80
MAX_LANGUAGE_CHARS = 35  # BCP 47's advice for the longest tag to support
# Names of the languages a track is most often tagged with (ISO 639-2/B and /T, and 639-1),
# for a track with no title; a track of another language and no title is "Track N".
# What a language tag may look like (BCP 47's shape, ISO 639 codes included); anything else
# (free text in a tag) is "und", so manifests only carry well-formed tags.
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
_LANGUAGE_NAMES = {
    **dict.fromkeys(("eng", "en"), "English"),
    **dict.fromkeys(("fra", "fre", "fr"), "French"),
    **dict.fromkeys(("deu", "ger", "de"), "German"),
    **dict.fromkeys(("spa", "es"), "Spanish"),
    **dict.fromkeys(("ita", "it"), "Italian"),
    **dict.fromkeys(("por", "pt"), "Portuguese"),
    **dict.fromkeys(("nld", "dut", "nl"), "Dutch"),
    **dict.fromkeys(("swe", "sv"), "Swedish"),
    **dict.fromkeys(("nor", "nob", "no", "nb"), "Norwegian"),
    **dict.fromkeys(("dan", "da"), "Danish"),
    **dict.fromkeys(("fin", "fi"), "Finnish"),
    **dict.fromkeys(("pol", "pl"), "Polish"),
    **dict.fromkeys(("ces", "cze", "cs"), "Czech"),
    **dict.fromkeys(("rus", "ru"), "Russian"),
    **dict.fromkeys(("ukr", "uk"), "Ukrainian"),
    **dict.fromkeys(("tur", "tr"), "Turkish"),
    **dict.fromkeys(("ell", "gre", "el"), "Greek"),
    **dict.fromkeys(("ara", "ar"), "Arabic"),
    **dict.fromkeys(("heb", "he"), "Hebrew"),
    **dict.fromkeys(("hin", "hi"), "Hindi"),
    **dict.fromkeys(("zho", "chi", "zh"), "Chinese"),
    **dict.fromkeys(("jpn", "ja"), "Japanese"),
    **dict.fromkeys(("kor", "ko"), "Korean"),
}


def input_safety_options(url: str) -> list[str]:
    """FFmpeg/ffprobe input options that let it open the source and nothing else: the
    protocols its URL needs (by scheme, so offline http and AWS https take one path) and
    the accepted demuxers. Both lists are inherited by every nested open."""
    scheme = urlsplit(url).scheme.lower()  # "concat:a|b" too: FFmpeg reads it as a protocol
    if scheme not in _PROTOCOLS:
        raise ValueError(f"no protocol allow-list for a {scheme!r} source")
    return [
        "-protocol_whitelist", _PROTOCOLS[scheme],
        "-format_whitelist", ",".join(ACCEPTED_DEMUXERS),
    ]  # fmt: skip


class AudioTrack(BaseModel):
    """One audio stream of the source, as players will list it."""

    model_config = ConfigDict(frozen=True)

    stream: int  # among the audio streams (FFmpeg's 0:a:N)
    language: str = "und"  # the stream's tag as found; "und" when it has none
    title: str  # the stream's title tag, else its language's name, else "Track N"
    default: bool = False
    role: AudioRole = "main"


class SourceInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    duration_seconds: float
    display_width: int  # after rotation and pixel aspect ratio
    display_height: int
    frame_rate: float
    video_codec: str
    has_audio: bool
    format_name: str
    size_bytes: int
    interlaced: bool = False
    transfer: Transfer = "sdr"  # pq / hlg: HDR, tone-mapped to SDR
    bit_depth: int = 8
    audio_stream: int = 0  # which of the audio streams to use: the default one
    # Every audio stream kept (MAX_AUDIO_TRACKS at most), the default one first
    audio_tracks: list[AudioTrack] = []


def parse_ffprobe(report: dict[str, Any], size_bytes: int) -> SourceInfo:
    streams: list[dict[str, Any]] = report.get("streams", [])
    fmt: dict[str, Any] = report.get("format", {})
    format_name = str(fmt.get("format_name", ""))
    videos = [
        s
        for s in streams
        if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
    ]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    if format_name not in ACCEPTED_DEMUXERS:
        raise not_a_video(describe_format(format_name))
    if not videos:
        kind = "audio only" if audios else "no audio or video streams"
        raise NoVideoStream(
            f"The uploaded file has no video stream ({kind}). Upload a file that contains video."
        )
    video = videos[0]
    width, height = int(video.get("width") or 0), int(video.get("height") or 0)
    if width <= 0 or height <= 0:
        raise UnusableVideo(
            "The video stream has no picture size; the file may be damaged. "
            "Re-export it and upload again."
        )
    duration = _duration(video, fmt)
    if duration <= 0:
        raise UnusableVideo(
            "The video has no measurable duration; the file may be truncated or damaged. "
            "Re-export it and upload again."
        )
    display_width, display_height = _display_size(video, width, height)
    return SourceInfo(
        duration_seconds=round(duration, 3),
        display_width=display_width,
        display_height=display_height,
        frame_rate=_frame_rate(video),
        video_codec=str(video.get("codec_name", "unknown")),
        has_audio=bool(audios),
        format_name=format_name,
        size_bytes=size_bytes,
        interlaced=str(video.get("field_order", "")) in _INTERLACED_FIELD_ORDERS,
        transfer=_HDR_TRANSFERS.get(str(video.get("color_transfer", "")), "sdr"),
        bit_depth=_bit_depth(video),
        audio_stream=_default_audio(audios),
        audio_tracks=audio_tracks(audios),
    )


def describe_format(format_name: str) -> tuple[str, bool]:
    """(what a refused demuxer's input is, whether it points at other files)."""
    return _REFUSED_FORMATS.get(format_name, (f"a file FFmpeg reads as '{format_name}'", False))


def sniff(head: bytes) -> tuple[str, bool] | None:
    """What the first bytes of a file say it is, for the kinds that point FFmpeg elsewhere
    or that people mistake for videos; None for anything else."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"#EXTM3U"):
        master = b"#EXT-X-STREAM-INF" in text or b"#EXT-X-MEDIA:" in text
        return ("an HLS master playlist" if master else "an HLS playlist", True)
    checks = (
        (b"<MPD" in text[:2048], "dash"),
        (text.startswith(b"ffconcat") or bool(_CONCAT_LINE.match(text)), "concat"),
        (text.startswith(b"WEBVTT"), "webvtt"),
        (bool(_SRT_CUE.match(text)), "srt"),
        (head.startswith(b"\x89PNG"), "png_pipe"),
        (head.startswith(b"\xff\xd8\xff"), "jpeg_pipe"),
        (head.startswith(b"GIF8"), "gif"),
    )
    return next((_REFUSED_FORMATS[kind] for matched, kind in checks if matched), None)


def not_a_video(kind: tuple[str, bool]) -> NotAVideo:
    what, points_elsewhere = kind
    hint = (
        " StreamForge never fetches what a playlist or list points to: upload the video "
        "file itself, such as MP4, MOV, MKV or WebM."
        if points_elsewhere
        else " Upload a video file such as MP4, MOV, MKV or WebM."
    )
    return NotAVideo(f"The uploaded file is {what}, not a video.{hint}")


def unreadable(stderr: str, head: bytes) -> MediaRejected:
    """Why ffprobe could not open a source, from its log and the file's first bytes."""
    kind = sniff(head)
    refused = _NOT_ON_WHITELIST.search(stderr)
    if kind is None and refused:
        kind = describe_format(refused.group(1))
    if kind is not None:
        return not_a_video(kind)
    if "moov atom not found" in stderr:
        return IncompleteFile(
            "The file is incomplete: its index (the MP4 'moov' box) is missing, which "
            "happens when a recording or an upload is cut short. Upload the complete file, "
            "or re-export it."
        )
    reason = (stderr.strip().splitlines() or ["unreadable"])[-1]
    reason = reason.split(": ", 1)[-1] if "://" in reason else reason  # no presigned URL
    return NotAVideo(
        f"The uploaded file is not a video StreamForge can read ({reason}). "
        "Upload a video file such as MP4, MOV, MKV or WebM."
    )


def start_seconds(report: dict[str, Any]) -> float:
    """The container's first timestamp (an MPEG-TS often starts at 1.4 s, or anywhere)."""
    try:
        return float(report.get("format", {}).get("start_time", 0) or 0)
    except ValueError:
        return 0.0


def duration_confirmed(declared: float, start: float, end_packets: list[dict[str, Any]]) -> bool:
    """Whether the packets read after seeking to the declared end reach it (within
    DURATION_TOLERANCE_SECONDS)."""
    reached = max((_end(packet) for packet in end_packets), default=0.0)
    return reached - start >= declared - DURATION_TOLERANCE_SECONDS


def verified_duration(
    declared: float,
    start: float,
    end_packets: list[dict[str, Any]],
    first_frames: list[dict[str, Any]],
) -> float:
    """The duration to plan with: the declared one if packets were read to within
    DURATION_TOLERANCE_SECONDS of its end (`end_packets`, read after seeking there: a
    backward seek lands on the last keyframe that exists, so a header claiming more than
    the data holds shows the data's real end); otherwise the furthest point seen decoding
    (those packets, or the first frames), which a crafted header cannot raise."""
    if duration_confirmed(declared, start, end_packets):
        return declared
    reached = max((_end(packet) for packet in end_packets), default=0.0)
    decoded = max((_end(frame) for frame in first_frames), default=0.0)
    return round(max(reached, decoded) - start, 3)


def _end(entry: dict[str, Any]) -> float:
    """Where a packet or frame ends; FFmpeg 5 names a frame's duration pkt_duration_time,
    FFmpeg 6 duration_time (both are asked for)."""
    time = entry.get("pts_time", entry.get("best_effort_timestamp_time"))
    duration = entry.get("duration_time", entry.get("pkt_duration_time"))
    try:
        return float(time or 0) + float(duration or 0)
    except ValueError:
        return 0.0


def _bit_depth(video: dict[str, Any]) -> int:
    raw = str(video.get("bits_per_raw_sample", ""))
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    pix_fmt = str(video.get("pix_fmt", ""))
    for depth in (16, 14, 12, 10, 9):
        if f"p{depth}" in pix_fmt:
            return depth
    return 8


def _default_audio(audios: list[dict[str, Any]]) -> int:
    """Index (among audio streams) of the one marked default; the first if none is."""
    for index, stream in enumerate(audios):
        if stream.get("disposition", {}).get("default"):
            return index
    return 0


def audio_tracks(audios: list[dict[str, Any]]) -> list[AudioTrack]:
    """Each audio stream as a track: the default one (the first if none is marked) first,
    then the others in stream order, at most MAX_AUDIO_TRACKS."""
    if not audios:
        return []
    default = _default_audio(audios)
    order = [default, *(index for index in range(len(audios)) if index != default)]
    tracks = [_audio_track(index, audios[index], index == default) for index in order]
    return _unique_titles(tracks[:MAX_AUDIO_TRACKS])


def _audio_track(index: int, stream: dict[str, Any], default: bool) -> AudioTrack:
    tags = {str(key).lower(): str(value).strip() for key, value in stream.get("tags", {}).items()}
    disposition = stream.get("disposition", {})
    language = tags.get("language", "")
    well_formed = len(language) <= MAX_LANGUAGE_CHARS and _LANGUAGE_TAG.match(language)
    language = language if well_formed else "und"
    role: AudioRole = "main" if default else "alternate"
    if disposition.get("comment"):
        role = "commentary"
    elif disposition.get("visual_impaired") or disposition.get("descriptions"):
        role = "description"
    primary = language.split("-", 1)[0].lower()  # "pt-BR": Portuguese
    title = tags.get("title", "")[:MAX_TITLE_CHARS].strip()
    title = title or _LANGUAGE_NAMES.get(primary) or f"Track {index + 1}"
    suffix = {"commentary": "Commentary", "description": "Audio Description"}.get(role)
    if suffix and suffix.lower() not in title.lower():
        title = f"{title} {suffix}"
    return AudioTrack(stream=index, language=language, title=title, default=default, role=role)


def _unique_titles(tracks: list[AudioTrack]) -> list[AudioTrack]:
    """HLS wants every NAME of a group different: a repeated title gets its track number."""
    seen: set[str] = set()
    unique = []
    for track in tracks:
        title = track.title
        if title in seen:
            title = f"{title} (Track {track.stream + 1})"
        seen.add(title)
        unique.append(track.model_copy(update={"title": title}))
    return unique


def _duration(video: dict[str, Any], fmt: dict[str, Any]) -> float:
    for value in (fmt.get("duration"), video.get("duration")):
        try:
            if value is not None and float(value) > 0:
                return float(value)
        except ValueError:
            continue
    return 0.0


def _rotation(video: dict[str, Any]) -> int:
    for side_data in video.get("side_data_list", []):
        if "rotation" in side_data:
            return int(float(side_data["rotation"])) % 360
    rotate = video.get("tags", {}).get("rotate")
    return int(rotate) % 360 if rotate else 0


def _display_size(video: dict[str, Any], width: int, height: int) -> tuple[int, int]:
    sar = _ratio(video.get("sample_aspect_ratio"))
    if sar and sar != 1:
        width = round(width * sar)
    if _rotation(video) in (90, 270):
        width, height = height, width
    return width, height


def _frame_rate(video: dict[str, Any]) -> float:
    for key in ("avg_frame_rate", "r_frame_rate"):
        rate = _ratio(video.get(key))
        if rate and 0 < rate <= 1000:
            return round(float(rate), 3)
    return _FALLBACK_FRAME_RATE


def _ratio(text: Any) -> Fraction | None:
    if not isinstance(text, str) or (":" not in text and "/" not in text):
        return None
    numerator, denominator = text.replace(":", "/").split("/", 1)
    try:
        if int(denominator) == 0:
            return None
        return Fraction(int(numerator), int(denominator))
    except ValueError:
        return None
