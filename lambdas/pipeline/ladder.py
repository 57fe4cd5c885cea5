"""The adaptive ladder as data, and the pure function that fits it to a source."""

from __future__ import annotations

from dataclasses import dataclass

from lambdas.pipeline.contract import VideoRendition
from lambdas.pipeline.source import SourceInfo


@dataclass(frozen=True)
class Rung:
    short_side: int  # the "720" of "720p": height for landscape, width for portrait
    max_bitrate_kbps: int
    crf: int = 22


# Caps follow the H.264 rows of Apple's HLS authoring specification, extended to 1440p.
LADDER: tuple[Rung, ...] = (
    Rung(1440, 10_000),
    Rung(1080, 6_000),
    Rung(720, 3_000),
    Rung(480, 1_400),
    Rung(360, 800),
)
MAX_FRAME_RATE = 60.0


def output_frame_rate(source_rate: float) -> float:
    """Frame rate kept up to 60 fps, halved (repeatedly) above that."""
    rate = source_rate
    while rate > MAX_FRAME_RATE:
        rate /= 2
    return round(rate, 3)


def _even(value: float, limit: int) -> int:
    """Nearest even size (H.264 4:2:0 needs even sizes), never above the source's own size."""
    nearest = int(value / 2 + 0.5) * 2
    return max(2, min(nearest, limit // 2 * 2))


def _fit(short_side: int, source: SourceInfo) -> tuple[int, int]:
    width, height = source.display_width, source.display_height
    if width >= height:
        return _even(short_side * width / height, width), _even(short_side, height)
    return _even(short_side, width), _even(short_side * height / width, height)


def plan_ladder(
    source: SourceInfo, *, max_short_side: int, preset: str, ladder: tuple[Rung, ...] = LADDER
) -> list[VideoRendition]:
    """Every rung no larger than the source (or the configured cap); at least one rung."""
    source_short = min(source.display_width, source.display_height)
    fitting = [r for r in ladder if r.short_side <= min(source_short, max_short_side)]
    if not fitting:  # a source smaller than the lowest rung keeps its own size
        smallest = min(ladder, key=lambda r: r.short_side)
        fitting = [Rung(min(source_short, max_short_side), smallest.max_bitrate_kbps)]
    frame_rate = output_frame_rate(source.frame_rate)
    renditions = []
    for rung in fitting:
        width, height = _fit(rung.short_side, source)
        renditions.append(
            VideoRendition(
                name=f"{rung.short_side}p",
                width=width,
                height=height,
                frame_rate=frame_rate,
                crf=rung.crf,
                max_bitrate_kbps=rung.max_bitrate_kbps,
                preset=preset,
            )
        )
    return renditions
