"""The transcoder's side of the job contract.

A deliberate copy of `lambdas/pipeline/contract.py` (the image does not ship the
Lambda code): the state machine hands a `TranscodeJob` as JSON in `STREAMFORGE_JOB`,
and the transcoder leaves a `JobResult` (a `ThumbnailsResult` for the thumbnails job)
at `result_key(video_id, job_name)` in the media bucket.
`tests/unit/test_contract.py` keeps the two sides compatible.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

JOB_ENV_VAR = "STREAMFORGE_JOB"
SEGMENT_SECONDS = 4  # every rendition's segment length (two 2 s GOPs)

VideoCodec = Literal["h264", "hevc", "av1"]
Transfer = Literal["sdr", "pq", "hlg"]
AudioRole = Literal["main", "alternate", "commentary", "description"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceHints(_Frozen):
    interlaced: bool = False
    transfer: Transfer = "sdr"
    audio_stream: int = Field(default=0, ge=0)


class ChunkSpec(_Frozen):
    index: int = Field(ge=0)
    count: int = Field(gt=0)
    start_seconds: float = Field(ge=0)
    duration_seconds: float = Field(gt=0)
    first_segment_number: int = Field(ge=0)

    @property
    def is_last(self) -> bool:
        return self.index == self.count - 1

    @property
    def end_seconds(self) -> float:
        return self.start_seconds + self.duration_seconds


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


class LoudnessTarget(_Frozen):
    integrated_lufs: float = Field(default=-16.0, ge=-70, le=-5)
    true_peak_dbtp: float = Field(default=-1.0, ge=-9, le=0)


class AudioRendition(_Frozen):
    kind: Literal["audio"] = "audio"
    name: str = "audio"
    bitrate_kbps: int = Field(default=128, gt=0)
    channels: int = Field(default=2, gt=0)
    sample_rate: int = Field(default=48000, gt=0)
    stream: int | None = Field(default=None, ge=0)
    language: str = "und"
    title: str | None = None
    default: bool = True
    role: AudioRole = "main"
    loudness: LoudnessTarget | None = None


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
    """One transcoder task. A single job encodes `rendition` into `output_prefix`.

    A grouped job (the "balanced" strategy) also carries `group`: it encodes `rendition`
    and every rendition in `group` from one decode of the source, and `output_prefix` is
    then the parent of each rendition's own prefix (`{output_prefix}{name}/`, the same
    prefix a single job for that rendition would have). `members()` splits it into the
    equivalent single jobs; the transcoder writes one result per member, at
    `result_key(video_id, member.name)`. `group` is left out of the JSON when empty, so a
    single job's JSON is what it was before groups existed.
    """

    video_id: str
    source_key: str
    source_version: str = Field(min_length=1)
    output_prefix: str
    segment_seconds: int = Field(default=SEGMENT_SECONDS, gt=0)
    gop_seconds: float = Field(default=2.0, gt=0)
    source: SourceHints = SourceHints()
    rendition: Rendition
    group: list[Annotated[VideoRendition | AudioRendition, Field(discriminator="kind")]] = Field(
        default=[], exclude_if=lambda group: not group
    )
    chunk: ChunkSpec | None = Field(default=None, exclude_if=lambda chunk: chunk is None)

    @model_validator(mode="after")
    def _check_group(self) -> TranscodeJob:
        if self.group:
            if self.rendition.kind == "thumbnails":
                raise ValueError("a thumbnails job cannot be grouped")
            names = [rendition.name for rendition in self.renditions]
            if len(set(names)) != len(names):
                raise ValueError(f"a group's rendition names must be unique: {names}")
        if self.chunk is not None and any(r.kind != "video" for r in self.renditions):
            raise ValueError("only video renditions are encoded in chunks")
        return self

    @property
    def renditions(self) -> list[Rendition]:
        return [self.rendition, *self.group]

    @property
    def name(self) -> str:
        """Unique among a video's jobs: the rendition's name, "+"-joined for a group."""
        return "+".join(rendition.name for rendition in self.renditions)

    @property
    def label(self) -> str:
        """The name, with a chunk's time range: what logs and failure messages show."""
        if self.chunk is None:
            return self.name
        return f"{self.name} [{self.chunk.start_seconds:g}-{self.chunk.end_seconds:g} s]"

    def members(self) -> list[TranscodeJob]:
        """The single jobs this job stands for: itself, or one per grouped rendition."""
        if not self.group:
            return [self]
        return [
            self.model_copy(
                update={
                    "rendition": rendition,
                    "group": [],
                    "output_prefix": f"{self.output_prefix.rstrip('/')}/{rendition.name}/",
                }
            )
            for rendition in self.renditions
        ]


class JobResult(_Frozen):
    video_id: str
    name: str
    kind: Literal["video", "audio"]
    playlist_key: str
    init_key: str
    segment_keys: list[str]
    segment_durations: list[float]
    segment_bytes: list[int] = []
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
    language: str | None = None
    title: str | None = None
    default: bool | None = None
    role: AudioRole | None = None
    loudness: str | None = None
    source_loudness_lufs: float | None = None
    loudness_lufs: float | None = None
    true_peak_dbtp: float | None = None
    encode_wall_seconds: float
    encode_cpu_seconds: float
    peak_memory_bytes: int
    chunk: ChunkSpec | None = None


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


def result_key(video_id: str, job_name: str, chunk: ChunkSpec | None = None) -> str:
    if chunk is None:
        return f"{video_id}/jobs/{job_name}.json"
    return f"{video_id}/jobs/{job_name}/chunk-{chunk.index:04d}.json"
