"""The adaptive ladder as data, and the pure function that fits it to a source.

The bitrate caps and the 30 fps limit of the small rungs follow Apple's HLS Authoring
Specification; docs/media.md has the table, its source and how each figure was chosen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from lambdas.pipeline.contract import VideoCodec, VideoRendition
from lambdas.pipeline.source import SourceInfo


@dataclass(frozen=True)
class Rung:
    short_side: int  # the "720" of "720p": height for landscape, width for portrait
    h264_kbps: int  # maxrate of the capped CRF encode (bufsize is twice this)
    hevc_kbps: int
    av1_kbps: int
    max_frame_rate: float = 60.0

    def cap_kbps(self, codec: VideoCodec) -> int:
        return {"h264": self.h264_kbps, "hevc": self.hevc_kbps, "av1": self.av1_kbps}[codec]


LADDER: tuple[Rung, ...] = (
    Rung(2160, 20_000, 12_000, 10_000),  # only when ladder_max_height allows it (off by default)
    Rung(1440, 10_000, 6_000, 5_000),
    Rung(1080, 7_800, 4_700, 3_900),
    Rung(720, 4_500, 2_700, 2_250),
    Rung(480, 1_500, 900, 750),
    Rung(360, 730, 440, 365, max_frame_rate=30.0),
    Rung(240, 145, 145, 145, max_frame_rate=30.0),
)
# About the same quality (docs/media.md: SVT-AV1's CRF scale is 0-63, not x264's 0-51)
CRF: dict[VideoCodec, int] = {"h264": 22, "hevc": 24, "av1": 35}
# SVT-AV1's speed preset (0 slowest .. 13 fastest), used for every AV1 rung: docs/media.md
AV1_PRESET = "8"
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


def encoder_preset(codec: VideoCodec, x264_preset: str) -> str:
    """x265 takes x264's preset names; SVT-AV1 has its own numbered presets."""
    return AV1_PRESET if codec == "av1" else x264_preset


def rendition_name(short_side: int, codec: VideoCodec) -> str:
    return f"{short_side}p" if codec == "h264" else f"{short_side}p-{codec}"


def plan_ladder(
    source: SourceInfo,
    *,
    max_short_side: int,
    preset: str,
    codec: VideoCodec = "h264",
    ladder: tuple[Rung, ...] = LADDER,
    native_top_rung: bool = True,
) -> list[VideoRendition]:
    """Every rung no larger than the source (or the configured cap); at least one rung.
    With `native_top_rung`, a source between two rungs also gets one at its own size."""
    source_short = min(source.display_width, source.display_height)
    if native_top_rung:
        fitting = rungs_with_native_top(source_short, max_short_side, ladder)
    else:
        fitting = [r for r in ladder if r.short_side <= min(source_short, max_short_side)]
    if not fitting:  # a source smaller than the lowest rung keeps its own size
        smallest = min(ladder, key=lambda r: r.short_side)
        fitting = [
            Rung(
                min(source_short, max_short_side),
                smallest.h264_kbps,
                smallest.hevc_kbps,
                smallest.av1_kbps,
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
                max_bitrate_kbps=rung.cap_kbps(codec),
                preset=encoder_preset(codec, preset),
            )
        )
    return renditions


# A source whose short side is within this fraction of a rung's gets that rung (at the
# source's size if a little smaller), not a native one a few lines off it.
NEAR_MISS = 0.05


def rungs_with_native_top(
    source_short: int, max_short_side: int, ladder: tuple[Rung, ...] = LADDER
) -> list[Rung]:
    """The rungs that fit, highest first, topped by one at the source's own short side when
    that lies between rungs (not within NEAR_MISS of one) and within `max_short_side`.
    A rung the source misses by less than NEAR_MISS is kept: `fit` sizes it to the source."""
    allowed = sorted(
        (r for r in ladder if r.short_side <= max_short_side),
        key=lambda r: r.short_side,
        reverse=True,
    )
    if not allowed:
        return []
    fitting = [r for r in allowed if r.short_side <= source_short]
    near = [r for r in allowed if abs(source_short - r.short_side) <= NEAR_MISS * r.short_side]
    if near:
        return [r for r in allowed if r.short_side <= source_short or r in near]
    if source_short > max_short_side:
        return fitting
    return [native_rung(source_short // 2 * 2, ladder), *fitting]


def native_rung(short_side: int, ladder: Sequence[Rung]) -> Rung:
    """A rung at `short_side` (between, below or above the ladder's rungs). Its caps are
    interpolated linearly in pixel count (short side squared: one aspect ratio) between the
    rungs below and above it; below the lowest rung it has the lowest's caps, above the
    highest the highest's bits per pixel. Its frame-rate limit is the rung above's."""
    same = [r for r in ladder if r.short_side == short_side]
    if same:
        return same[0]
    below = max((r for r in ladder if r.short_side < short_side), key=_short, default=None)
    above = min((r for r in ladder if r.short_side > short_side), key=_short, default=None)
    if below is None and above is None:
        raise ValueError("an empty ladder")
    if below is None:
        assert above is not None
        return dataclasses.replace(above, short_side=short_side)
    if above is None:
        scale = short_side**2 / below.short_side**2
        return Rung(
            short_side,
            round(below.h264_kbps * scale),
            round(below.hevc_kbps * scale),
            round(below.av1_kbps * scale),
            below.max_frame_rate,
        )
    share = (short_side**2 - below.short_side**2) / (above.short_side**2 - below.short_side**2)

    def between(low: int, high: int) -> int:
        return round(low + (high - low) * share)

    return Rung(
        short_side,
        between(below.h264_kbps, above.h264_kbps),
        between(below.hevc_kbps, above.hevc_kbps),
        between(below.av1_kbps, above.av1_kbps),
        above.max_frame_rate,
    )


def _short(rung: Rung) -> int:
    return rung.short_side
