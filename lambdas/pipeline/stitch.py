"""Stitching a chunked rendition: its chunks' results become one result, as if the rung
had been encoded in one go, and one VOD media playlist lists every chunk's segments.

Nothing is re-muxed: each chunk's segments already carry the rung's numbers and timestamps,
and every chunk wrote the same init segment (transcoder.command.hls_options), so the
playlist and the DASH SegmentTimeline are all that joins them.
"""

from __future__ import annotations

import math
import posixpath
import re
from collections.abc import Sequence

from lambdas.pipeline.contract import ChunkSpec, JobResult

_SEGMENT_NUMBER = re.compile(r"(\d+)\.m4s$")


class StitchError(ValueError):
    """The chunks' results do not make one complete rendition of the plan."""


def stitch(name: str, planned: Sequence[ChunkSpec], results: Sequence[JobResult]) -> JobResult:
    """One result for the rendition `name` from its chunks' `results`, in `planned` order;
    refused unless every planned chunk has its result and they join segment to segment."""
    chunks = sorted(planned, key=lambda chunk: chunk.index)
    if not chunks or [c.index for c in chunks] != list(range(chunks[0].count)):
        raise StitchError(f"{name}: the plan's chunks are not 0..count-1: {chunks}")
    if len(results) != len(chunks):
        raise StitchError(f"{name}: {len(results)} chunk results for {len(chunks)} chunks")
    next_number = chunks[0].first_segment_number
    for chunk, result in zip(chunks, results, strict=True):
        _check_chunk(name, chunk, result, next_number)
        next_number = chunk.first_segment_number + len(result.segment_keys)
    first = results[0]
    for result in results[1:]:
        if (result.codecs, result.init_key, result.width, result.height) != (
            first.codecs,
            first.init_key,
            first.width,
            first.height,
        ):
            raise StitchError(f"{name}: chunk {result.chunk} does not match chunk 0's stream")
    durations = [d for result in results for d in result.segment_durations]
    sizes = [size for result in results for size in result.segment_bytes]
    duration = sum(durations)
    return first.model_copy(
        update={
            "segment_keys": [key for result in results for key in result.segment_keys],
            "segment_durations": durations,
            "segment_bytes": sizes,
            "duration_seconds": round(duration, 6),
            # RFC 8216: at least every EXTINF rounded to the nearest integer.
            "target_duration": max(
                *(result.target_duration for result in results),
                *(math.floor(d + 0.5) for d in durations),
            ),
            "average_bitrate_bps": round(sum(sizes) * 8 / duration),
            "peak_bitrate_bps": round(
                max(size * 8 / d for size, d in zip(sizes, durations, strict=True))
            ),
            # The init segment and playlist once, every chunk's segments.
            "output_bytes": first.output_bytes - sum(first.segment_bytes) + sum(sizes),
            "ssim": _weighted_ssim(results),
            # Task time: what the rung cost, not how long it took (the chunks ran side by side).
            "encode_wall_seconds": round(sum(r.encode_wall_seconds for r in results), 3),
            "encode_cpu_seconds": round(sum(r.encode_cpu_seconds for r in results), 3),
            "peak_memory_bytes": max(r.peak_memory_bytes for r in results),
            "chunk": None,
        }
    )


def _check_chunk(name: str, chunk: ChunkSpec, result: JobResult, first_number: int) -> None:
    where = f"{name} chunk {chunk.index} ({chunk.start_seconds:g}-{chunk.end_seconds:g} s)"
    if result.chunk != chunk:
        raise StitchError(f"{where}: its result is of another chunk: {result.chunk}")
    if chunk.first_segment_number != first_number:
        raise StitchError(
            f"{where}: starts at segment {chunk.first_segment_number}, not {first_number}"
        )
    numbers = [_segment_number(key) for key in result.segment_keys]
    expected = list(range(first_number, first_number + len(numbers)))
    if not numbers or numbers != expected:
        raise StitchError(f"{where}: segments {numbers} are not {expected}")
    if len(result.segment_bytes) != len(numbers) or len(result.segment_durations) != len(numbers):
        raise StitchError(f"{where}: segment keys, durations and sizes do not match")


def _segment_number(key: str) -> int:
    match = _SEGMENT_NUMBER.search(posixpath.basename(key))
    if match is None:
        raise StitchError(f"{key} is not a numbered segment")
    return int(match.group(1))


def _weighted_ssim(results: Sequence[JobResult]) -> float | None:
    """Each chunk's SSIM weighted by its duration; unknown if any chunk's is."""
    figures = [(r.ssim, r.duration_seconds) for r in results]
    if any(ssim is None for ssim, _ in figures):
        return None
    total = sum(duration for _, duration in figures)
    return round(sum((ssim or 0) * duration for ssim, duration in figures) / total, 6)


def media_playlist(result: JobResult) -> str:
    """The rendition's VOD media playlist, as FFmpeg writes one (fMP4, one EXT-X-MAP)."""
    folder = posixpath.dirname(result.playlist_key)

    def relative(key: str) -> str:
        if posixpath.dirname(key) != folder:
            raise StitchError(f"{key} is not beside {result.playlist_key}")
        return posixpath.basename(key)

    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{result.target_duration}",
        "#EXT-X-MEDIA-SEQUENCE:0",
        "#EXT-X-PLAYLIST-TYPE:VOD",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        f'#EXT-X-MAP:URI="{relative(result.init_key)}"',
    ]
    for key, duration in zip(result.segment_keys, result.segment_durations, strict=True):
        lines += [f"#EXTINF:{duration:.6f},", relative(key)]
    lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"
