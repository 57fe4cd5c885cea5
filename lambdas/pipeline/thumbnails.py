"""The thumbnails job's plan: poster and preview size, storyboard grid (pure functions).

The job decodes the source once more rather than reading the lowest rung's output: that
would make one Map item wait for another. docs/media.md weighs the two.
"""

from __future__ import annotations

import math

from lambdas.pipeline.contract import ThumbnailsRendition
from lambdas.pipeline.source import SourceInfo

POSTER_LONG_SIDE = 1280
TILE_LONG_SIDE = 160
MAX_TILES = 100  # one sprite sheet of at most 10 x 10 tiles (1600 x 900 for 16:9)
COLUMNS = 10
MIN_TILE_INTERVAL_SECONDS = 1


def _box(long_side: int, width: int, height: int) -> tuple[int, int]:
    """The display size scaled to fit a square box (never enlarged), even sizes."""
    scale = min(1.0, long_side / max(width, height))
    return _even(width * scale), _even(height * scale)


def _even(value: float) -> int:
    return max(2, int(value / 2 + 1e-6) * 2)  # rounded down: never outside the box


def tile_interval_seconds(duration_seconds: float) -> int:
    """Whole seconds between tiles: 1 s for short videos, longer so that at most
    MAX_TILES tiles cover the whole duration."""
    return max(MIN_TILE_INTERVAL_SECONDS, math.ceil(duration_seconds / MAX_TILES))


def plan_thumbnails(source: SourceInfo) -> ThumbnailsRendition:
    width, height = source.display_width, source.display_height
    poster_width, poster_height = _box(POSTER_LONG_SIDE, width, height)
    tile_width, tile_height = _box(TILE_LONG_SIDE, width, height)
    interval = tile_interval_seconds(source.duration_seconds)
    tiles = max(1, math.ceil(source.duration_seconds / interval))
    columns = min(COLUMNS, tiles)
    return ThumbnailsRendition(
        duration_seconds=source.duration_seconds,
        poster_width=poster_width,
        poster_height=poster_height,
        tile_width=tile_width,
        tile_height=tile_height,
        tile_interval_seconds=interval,
        columns=columns,
        rows=math.ceil(tiles / columns),
    )
