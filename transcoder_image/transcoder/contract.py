"""The transcoder's side of the job contract.

A deliberate copy of `lambdas/pipeline/contract.py` (the image does not ship the
Lambda code): the state machine hands a `TranscodeJob` as JSON in `STREAMFORGE_JOB`,
and the transcoder leaves a `JobResult` (a `ThumbnailsResult` for the thumbnails job)
at `result_key(video_id, job_name)` in the media bucket.
`tests/unit/test_contract.py` keeps the two sides compatible.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

JOB_ENV_VAR = "STREAMFORGE_JOB"

VideoCodec = Literal["h264", "hevc"]
Transfer = Literal["sdr", "pq", "hlg"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceHints(_Frozen):
    interlaced: bool = False
    transfer: Transfer = "sdr"
    audio_stream: int = Field(default=0, ge=0)


class VideoRendition(_Frozen):
    kind: Literal["video"] = "video"
    name: str
    codec: VideoCodec = "h264"
    width: int = Field(gt=0)
    height: int = Field(gt=0)
    frame_rate: float = Field(gt=0)
    crf: int = Field(ge=0, le=51)
    max_bitrate_kbps: int = Field(gt=0)
    preset: str = "veryfast"


class AudioRendition(_Frozen):
    kind: Literal["audio"] = "audio"
    name: str = "audio"
    bitrate_kbps: int = Field(default=128, gt=0)
    channels: int = Field(default=2, gt=0)
    sample_rate: int = Field(default=48000, gt=0)


class ThumbnailsRendition(_Frozen):
    kind: Literal["thumbnails"] = "thumbnails"
    name: str = "thumbnails"
    duration_seconds: float = Field(gt=0)
    poster_width: int = Field(gt=0)
    poster_height: int = Field(gt=0)
    tile_width: int = Field(gt=0)
    tile_height: int = Field(gt=0)
    tile_interval_seconds: float = Field(gt=0)
    columns: int = Field(gt=0)
    rows: int = Field(gt=0)
    preview_count: int = Field(default=4, ge=0)
    poster_candidates: int = Field(default=8, gt=0)


Rendition = Annotated[
    VideoRendition | AudioRendition | ThumbnailsRendition, Field(discriminator="kind")
]


class TranscodeJob(_Frozen):
    video_id: str
    source_key: str
    output_prefix: str
    segment_seconds: int = Field(default=4, gt=0)
    gop_seconds: float = Field(default=2.0, gt=0)
    source: SourceHints = SourceHints()
    rendition: Rendition

    @property
    def name(self) -> str:
        return self.rendition.name


class JobResult(_Frozen):
    video_id: str
    name: str
    kind: Literal["video", "audio"]
    playlist_key: str
    init_key: str
    segment_keys: list[str]
    segment_durations: list[float]
    codecs: str
    duration_seconds: float
    start_seconds: float
    target_duration: int
    # Media segments only: the init segment is fetched once, not per second played.
    average_bitrate_bps: int
    peak_bitrate_bps: int
    output_bytes: int
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    ssim: float | None = None
    channels: int | None = None
    sample_rate: int | None = None
    encode_wall_seconds: float
    encode_cpu_seconds: float
    peak_memory_bytes: int


class ThumbnailsResult(_Frozen):
    video_id: str
    name: str
    kind: Literal["thumbnails"]
    poster_key: str
    poster_time_seconds: float
    preview_keys: list[str]
    storyboard_image_key: str
    storyboard_vtt_key: str
    tile_count: int
    output_bytes: int
    encode_wall_seconds: float
    encode_cpu_seconds: float
    peak_memory_bytes: int


def result_key(video_id: str, job_name: str) -> str:
    return f"{video_id}/jobs/{job_name}.json"
