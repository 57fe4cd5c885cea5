"""The chunk plan: a long source cut in time at segment boundaries, so that each chunk of a
rendition is encoded by its own task and its segments are ordinary segments of the rung.

Boundaries are multiples of the segment length (4 s, so also of the 2 s GOP): every chunk
starts on a keyframe the whole encode would have placed there, and its first segment
number is its start over the segment length. The last chunk runs to the source's end (the
probe's duration may be a frame short of what the encoder finds), and a remainder shorter
than one segment joins the chunk before it rather than becoming a task of its own.
"""

from __future__ import annotations

import math

from lambdas.pipeline.contract import ChunkSpec

# The most chunk jobs one plan holds. The plan travels through the state machine inline,
# and tests/unit/test_sfn_limits.py shows that this many jobs of the longest kind keep
# every state's payload under 256 KiB and the history under 25,000 events, retries
# included; with at most 40 tasks at once (an inline Map's limit) it is still five rounds.
MAX_CHUNK_JOBS = 200
# And at most this many renditions in them: a job of many renditions (chunk_ladder: every
# rung of a chunk) is that much larger. The worst plans of per_rung and balanced hold fewer.
MAX_CHUNK_RENDITIONS = 600


def chunk_length(chunk_seconds: int, segment_seconds: int) -> int:
    """The chunk length in use: `chunk_seconds` rounded up to whole segments; 0 is off."""
    if chunk_seconds <= 0:
        return 0
    return math.ceil(chunk_seconds / segment_seconds) * segment_seconds


def plan_chunks(
    duration_seconds: float, chunk_seconds: int, segment_seconds: int
) -> list[ChunkSpec]:
    """The chunks of a source of `duration_seconds`; empty when chunking is off or the
    source fits in one chunk (it is then planned exactly as without chunks)."""
    length = chunk_length(chunk_seconds, segment_seconds)
    if length == 0 or duration_seconds <= length:
        return []
    starts = list(range(0, math.ceil(duration_seconds), length))
    if duration_seconds - starts[-1] < segment_seconds and len(starts) > 1:
        starts.pop()  # a sliver of less than a segment rides with the chunk before it
    if len(starts) == 1:
        return []
    ends = [*starts[1:], duration_seconds]
    return [
        ChunkSpec(
            index=index,
            count=len(starts),
            start_seconds=start,
            duration_seconds=round(end - start, 6),
            first_segment_number=start // segment_seconds,
        )
        for index, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]


def chunk_seconds_within(
    duration_seconds: float,
    chunk_seconds: int,
    jobs_per_chunk: int,
    max_jobs: int,
    *,
    renditions_per_chunk: int = 1,
    max_renditions: int = MAX_CHUNK_RENDITIONS,
) -> int:
    """`chunk_seconds`, lengthened for a source so long that its chunks would plan more than
    `max_jobs` chunk jobs (`jobs_per_chunk` each) or `max_renditions` renditions in them:
    the plan must fit Step Functions' limits (MAX_CHUNK_JOBS, MAX_CHUNK_RENDITIONS). More
    jobs than that would add Fargate start-ups, not parallelism."""
    if chunk_seconds <= 0:
        return 0
    chunks_allowed = max(
        1,
        min(
            max_jobs // max(1, jobs_per_chunk),
            max_renditions // max(1, renditions_per_chunk),
        ),
    )
    return max(chunk_seconds, math.ceil(duration_seconds / chunks_allowed))
