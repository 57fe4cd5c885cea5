"""What ffprobe says about a source, reduced to what planning needs (pure functions)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from pydantic import BaseModel, ConfigDict

from lambdas.pipeline.contract import Transfer
from lambdas.pipeline.errors import NotAVideo, NoVideoStream, UnusableVideo

# Demuxers and "video" codecs that ffprobe offers for things that are not videos.
_NOT_VIDEO_FORMATS = {"tty", "image2", "lrc", "srt", "webvtt", "ass", "mpjpeg"}
_NOT_VIDEO_CODECS = {"ansi", "bintext", "xbin", "idf", "adf", "png", "mjpeg", "bmp", "gif"}
_FALLBACK_FRAME_RATE = 30.0
# ffprobe's field_order for interlaced video (top/bottom field first, and coded orders)
_INTERLACED_FIELD_ORDERS = {"tt", "bb", "tb", "bt"}
_HDR_TRANSFERS: dict[str, Transfer] = {"smpte2084": "pq", "arib-std-b67": "hlg"}


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
    if format_name in _NOT_VIDEO_FORMATS or format_name.endswith("_pipe"):
        raise NotAVideo(
            f"The uploaded file is not a video (it was read as '{format_name}'). "
            "Upload a video file such as MP4, MOV, MKV or WebM."
        )
    if not videos:
        kind = "audio only" if audios else "no audio or video streams"
        raise NoVideoStream(
            f"The uploaded file has no video stream ({kind}). Upload a file that contains video."
        )
    video = videos[0]
    if video.get("codec_name") in _NOT_VIDEO_CODECS:
        raise NotAVideo(
            f"The uploaded file is a still image or text ({video.get('codec_name')}), not a video. "
            "Upload a video file such as MP4, MOV, MKV or WebM."
        )
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
    )


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
