"""The JSON contract between the state machine, the transcoder and the finaliser.

The probe plans `TranscodeJob`s; the state machine hands each one, as JSON in the
`STREAMFORGE_JOB` environment variable, to one transcoder container; the
transcoder writes a `JobResult` to `result_key(video_id, job_name)` in the media
bucket. `transcoder_image/transcoder/contract.py` is the transcoder's side of the
same contract; `tests/unit/test_contract.py` keeps the two compatible.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

JOB_ENV_VAR = "STREAMFORGE_JOB"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VideoRendition(_Frozen):
    kind: Literal["video"] = "video"
    name: str  # "720p": the rung's short side
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


Rendition = Annotated[VideoRendition | AudioRendition, Field(discriminator="kind")]


class TranscodeJob(_Frozen):
    video_id: str
    source_key: str  # in the uploads bucket
    output_prefix: str  # in the media bucket, ends with "/"
    segment_seconds: int = Field(default=4, gt=0)
    gop_seconds: float = Field(default=2.0, gt=0)
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
    codecs: str  # RFC 6381, e.g. "avc1.640028" or "mp4a.40.2"
    duration_seconds: float
    target_duration: int
    average_bitrate_bps: int
    peak_bitrate_bps: int  # the highest bitrate of any one segment
    output_bytes: int
    width: int | None = None
    height: int | None = None
    frame_rate: float | None = None
    encode_wall_seconds: float
    encode_cpu_seconds: float
    peak_memory_bytes: int


def result_key(video_id: str, job_name: str) -> str:
    """Where the transcoder leaves a job's result, beside (not inside) the published media."""
    return f"{video_id}/jobs/{job_name}.json"
