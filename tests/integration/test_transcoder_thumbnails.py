"""The thumbnails job end to end: `python -m transcoder` with a thumbnails job against moto's
S3, the plan made by the probe's own functions, the output judged by FFmpeg's signalstats,
ffprobe and a WebVTT reading of our own."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, cast

import pytest

from lambdas.pipeline.contract import (
    SourceHints,
    ThumbnailsRendition,
    ThumbnailsResult,
    TranscodeJob,
    result_key,
)
from lambdas.pipeline.source import parse_ffprobe
from lambdas.pipeline.thumbnails import plan_thumbnails
from tests.integration.conftest import UNPINNED, upload_source
from tests.support.media import make_clip, probe, read_storyboard
from transcoder import contract as transcoder_contract
from transcoder.runner import run_job
from transcoder.settings import Settings
from transcoder.storage import MediaStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from tests.integration.conftest import Buckets, TranscoderRun

VIDEO_ID = "vid-thumbs"


@dataclass(frozen=True)
class Thumbnails:
    spec: ThumbnailsRendition
    result: ThumbnailsResult
    folder: Path
    content_types: dict[str, str]

    def file(self, key: str) -> Path:
        return self.folder / key.rsplit("/", 1)[1]


def plan(clip: Path) -> TranscodeJob:
    info = parse_ffprobe(probe(clip), size_bytes=clip.stat().st_size)
    return TranscodeJob(
        video_id=VIDEO_ID,
        source_key=f"{VIDEO_ID}/{clip.stem}",
        source_version=UNPINNED,
        output_prefix=f"{VIDEO_ID}/{clip.stem}/thumbs/",
        source=SourceHints(interlaced=info.interlaced, transfer=info.transfer),
        rendition=plan_thumbnails(info).model_copy(update={"name": f"thumbnails-{clip.stem}"}),
    )


MakeThumbnails = Callable[[Path], Thumbnails]


@pytest.fixture(scope="module")
def make_thumbnails(
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    run_transcoder: TranscoderRun,
    tmp_path_factory: pytest.TempPathFactory,
) -> MakeThumbnails:
    buckets = make_buckets()

    def run(clip: Path) -> Thumbnails:
        job = upload_source(s3, buckets.uploads, clip, plan(clip))
        done = run_transcoder(job.model_dump_json(), buckets)
        assert done.returncode == 0, done.stderr[-3000:]
        body = s3.get_object(Bucket=buckets.media, Key=result_key(VIDEO_ID, job.name))["Body"]
        result = ThumbnailsResult.model_validate_json(body.read())
        folder = tmp_path_factory.mktemp(clip.stem)
        keys = [
            result.poster_key,
            *result.preview_keys,
            result.storyboard_image_key,
            result.storyboard_vtt_key,
        ]
        types = {}
        for key in keys:
            s3.download_file(buckets.media, key, str(folder / key.rsplit("/", 1)[1]))
            types[key] = s3.head_object(Bucket=buckets.media, Key=key)["ContentType"]
        spec = job.rendition
        assert isinstance(spec, ThumbnailsRendition)
        return Thumbnails(spec, result, folder, types)

    return run


@pytest.fixture(scope="module")
def faded(make_thumbnails: MakeThumbnails, tmp_path_factory: pytest.TempPathFactory) -> Thumbnails:
    """4 s that fade in from black over the first second and out over the last."""
    clip = make_clip(
        tmp_path_factory.mktemp("clips") / "faded.mp4",
        width=640,
        height=360,
        seconds=4,
        fade=True,
        audio=False,
    )
    return make_thumbnails(clip)


def luma(image: Path) -> dict[str, float]:
    """FFmpeg's signalstats of one picture: YLOW/YAVG/YHIGH (10th percentile, mean, 90th)."""
    out = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-i", str(image), "-vf",
         "signalstats,metadata=mode=print:file=-", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    stats = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    return {key.rsplit(".", 1)[1]: float(value) for key, value in stats.items()}


def size(image: Path) -> tuple[int, int]:
    stream = probe(image)["streams"][0]
    return int(stream["width"]), int(stream["height"])


def test_the_poster_is_a_representative_frame_not_black_nor_fading(faded: Thumbnails) -> None:
    stats = luma(faded.file(faded.result.poster_key))

    # The clip is fully faded in from 1 s to 3 s; the poster comes from 10-50 % (0.4-2 s).
    assert faded.result.poster_time_seconds == pytest.approx(1.5, abs=0.5)  # in [1, 2] s
    assert stats["YHIGH"] - stats["YLOW"] > 100  # full contrast, not a dimmed fade frame
    assert 40 < stats["YAVG"] < 220
    assert size(faded.file(faded.result.poster_key)) == (640, 360)


def test_previews_spread_over_the_video_at_the_poster_size(faded: Thumbnails) -> None:
    assert [key.rsplit("/", 1)[1] for key in faded.result.preview_keys] == [
        f"preview_{n:02d}.jpg" for n in range(1, 5)
    ]
    for key in faded.result.preview_keys:
        assert size(faded.file(key)) == (640, 360)


def test_storyboard_cues_cover_the_whole_duration_with_tiles_inside_the_sprite(
    faded: Thumbnails,
) -> None:
    sprite_width, sprite_height = size(faded.file(faded.result.storyboard_image_key))
    spec = faded.spec
    assert (sprite_width, sprite_height) == (
        spec.columns * spec.tile_width,
        spec.rows * spec.tile_height,
    )

    cues = read_storyboard(faded.file(faded.result.storyboard_vtt_key))

    assert len(cues) == faded.result.tile_count == 4
    assert cues[0][0] == 0.0
    assert all(a[1] == b[0] for a, b in pairwise(cues))  # back to back
    assert cues[-1][1] >= spec.duration_seconds - 0.05
    for _, _, image, (x, y, w, h) in cues:
        assert image == "storyboard.jpg"
        assert (w, h) == (spec.tile_width, spec.tile_height)
        assert x + w <= sprite_width and y + h <= sprite_height


def test_every_file_has_its_media_type(faded: Thumbnails) -> None:
    result = faded.result
    assert faded.content_types == {
        result.poster_key: "image/jpeg",
        **dict.fromkeys(result.preview_keys, "image/jpeg"),
        result.storyboard_image_key: "image/jpeg",
        result.storyboard_vtt_key: "text/vtt",
    }


def test_a_rotated_source_gets_portrait_thumbnails(
    make_thumbnails: MakeThumbnails, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "rotated.mp4", width=640, height=360, seconds=2, rotate=90)

    made = make_thumbnails(clip)

    assert size(made.file(made.result.poster_key)) == (360, 640)
    assert size(made.file(made.result.storyboard_image_key)) == (2 * 90, 160)


def test_an_hdr_source_gets_sdr_thumbnails(make_thumbnails: MakeThumbnails, tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "hlg.mp4", width=640, height=360, seconds=2, hdr="hlg")

    made = make_thumbnails(clip)

    stats = luma(made.file(made.result.poster_key))
    assert stats["YHIGH"] - stats["YLOW"] > 50


def test_a_clip_of_a_few_frames_still_gets_a_poster_and_a_tile(
    make_thumbnails: MakeThumbnails, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "blink.mp4", width=320, height=180, seconds=0.2, audio=False)

    made = make_thumbnails(clip)

    assert made.result.tile_count == 1
    cues = read_storyboard(made.file(made.result.storyboard_vtt_key))
    assert [(start, end) for start, end, _, _ in cues] == [(0.0, pytest.approx(0.2, abs=0.05))]
    assert size(made.file(made.result.poster_key)) == (320, 180)


class RecordingStore(MediaStore):
    """Serves a local source and records what would be uploaded, in order."""

    def __init__(self, source: Path) -> None:
        super().__init__(cast("S3Client", None), uploads_bucket="uploads", media_bucket="media")
        self._source = source
        self.written: list[str] = []

    @contextmanager
    def serve_source(self, source_key: str, version_id: str) -> Iterator[str]:
        yield str(self._source)

    def upload_file(self, path: Path, key: str, content_type: str) -> None:
        assert path.is_file()
        self.written.append(key)

    def put_json(self, key: str, body: str, metadata: dict[str, str] | None = None) -> None:
        ThumbnailsResult.model_validate_json(body)
        self.written.append(key)


def test_the_result_is_written_last_and_the_work_directory_removed(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.mp4", width=320, height=180, seconds=1, audio=False)
    store = RecordingStore(clip)
    job = transcoder_contract.TranscodeJob.model_validate_json(plan(clip).model_dump_json())
    work = tmp_path / "work"
    work.mkdir()

    result = run_job(job, Settings(uploads_bucket="u", media_bucket="m", work_dir=work), store)

    assert store.written[-1] == result_key(VIDEO_ID, job.name)
    assert isinstance(result, transcoder_contract.ThumbnailsResult)
    assert sorted(store.written[:-1]) == sorted(
        [
            result.poster_key,
            *result.preview_keys,
            result.storyboard_image_key,
            result.storyboard_vtt_key,
        ]
    )
    assert list(work.iterdir()) == []
