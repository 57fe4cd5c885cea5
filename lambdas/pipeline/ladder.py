"""The adaptive ladder as data, and the pure function that fits it to a source.

The bitrate caps and the 30 fps limit of the small rungs follow Apple's HLS Authoring
Specification; docs/media.md has the table, its source and how each figure was chosen.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdas.pipeline.contract import VideoCodec, VideoRendition
from lambdas.pipeline.source import SourceInfo


@dataclass(frozen=True)
class Rung:
    short_side: int  # the "720" of "720p": height for landscape, width for portrait
    h264_kbps: int  # maxrate of the capped CRF encode (bufsize is twice this)
    hevc_kbps: int
    max_frame_rate: float = 60.0


LADDER: tuple[Rung, ...] = (
    Rung(2160, 20_000, 12_000),  # only when ladder_max_height allows it (off by default)
    Rung(1440, 10_000, 6_000),
    Rung(1080, 7_800, 4_700),
    Rung(720, 4_500, 2_700),
    Rung(480, 1_500, 900),
    Rung(360, 730, 440, max_frame_rate=30.0),
    Rung(240, 145, 145, max_frame_rate=30.0),
)
CRF: dict[VideoCodec, int] = {"h264": 22, "hevc": 24}  # about the same quality
MAX_FRAME_RATE = 60.0
# Frame rates players and Apple's spec call natural; a measured rate this close snaps to one.
STANDARD_FRAME_RATES = (23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0, 59.94, 60.0)
_SNAP_TOLERANCE = 0.02


def output_frame_rate(source_rate: float, limit: float = MAX_FRAME_RATE) -> float:
    """Frame rate kept up to `limit` (60 fps), halved (repeatedly) above it, so every output
    frame is a source frame; a near-standard rate (as variable-rate phone video measures)
    snaps to the standard one."""
    rate = _snap(source_rate)
    while rate > limit:
        rate = _snap(rate / 2)
    return round(rate, 3)


def _snap(rate: float) -> float:
    nearest = min(STANDARD_FRAME_RATES, key=lambda standard: abs(standard - rate))
    return nearest if abs(nearest - rate) <= _SNAP_TOLERANCE * nearest else rate


def _even(value: float, limit: int) -> int:
    """Nearest even size (4:2:0 chroma needs even sizes), never above the source's own size."""
    nearest = int(value / 2 + 0.5) * 2
    return max(2, min(nearest, limit // 2 * 2))


def fit(short_side: int, width: int, height: int) -> tuple[int, int]:
    """Even (width, height) with the given short side and the aspect ratio of width x height."""
    if width >= height:
        return _even(short_side * width / height, width), _even(short_side, height)
    return _even(short_side, width), _even(short_side * height / width, height)


def rendition_name(short_side: int, codec: VideoCodec) -> str:
    return f"{short_side}p" if codec == "h264" else f"{short_side}p-{codec}"


def plan_ladder(
    source: SourceInfo,
    *,
    max_short_side: int,
    preset: str,
    codec: VideoCodec = "h264",
    ladder: tuple[Rung, ...] = LADDER,
) -> list[VideoRendition]:
    """Every rung no larger than the source (or the configured cap); at least one rung."""
    source_short = min(source.display_width, source.display_height)
    fitting = [r for r in ladder if r.short_side <= min(source_short, max_short_side)]
    if not fitting:  # a source smaller than the lowest rung keeps its own size
        smallest = min(ladder, key=lambda r: r.short_side)
        fitting = [
            Rung(
                min(source_short, max_short_side),
                smallest.h264_kbps,
                smallest.hevc_kbps,
                smallest.max_frame_rate,
            )
        ]
    # Deinterlacing keeps every field as a frame (25i -> 50p), as Apple's spec prefers.
    source_rate = source.frame_rate * (2 if source.interlaced else 1)
    renditions = []
    for rung in fitting:
        width, height = fit(rung.short_side, source.display_width, source.display_height)
        renditions.append(
            VideoRendition(
                name=rendition_name(rung.short_side, codec),
                codec=codec,
                width=width,
                height=height,
                frame_rate=output_frame_rate(source_rate, rung.max_frame_rate),
                crf=CRF[codec],
                max_bitrate_kbps=rung.h264_kbps if codec == "h264" else rung.hevc_kbps,
                preset=preset,
            )
        )
    return renditions
