"""Real-world sources through the real chain: ffprobe's report of the generated source is
read by the probe's parser, planned by the ladder, and encoded by `python -m transcoder`
against moto's S3; ffprobe and FFmpeg's own ssim filter judge the output."""

from __future__ import annotations

import json
import posixpath
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import m3u8
import pytest

from lambdas.pipeline.contract import (
    AudioRendition,
    JobResult,
    SourceHints,
    TranscodeJob,
    Transfer,
    VideoCodec,
    VideoRendition,
)
from lambdas.pipeline.dash import build_mpd
from lambdas.pipeline.ladder import plan_ladder
from lambdas.pipeline.master_playlist import build_master_playlist
from lambdas.pipeline.source import SourceInfo, parse_ffprobe
from tests.integration.conftest import UNPINNED, upload_source
from tests.support.media import keyframe_packet_times, keyframe_times, make_clip, probe

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from tests.integration.conftest import Buckets, TranscoderRun

VIDEO_ID = "vid-inputs"


@dataclass(frozen=True)
class Encoded:
    source: SourceInfo
    result: JobResult
    folder: Path  # index.m3u8, init.mp4 and the segments, downloaded

    def joined(self) -> Path:
        """All of the rendition in one file: init segment, then every media segment."""
        target = self.folder / "joined.mp4"
        with target.open("wb") as out:
            for key in [self.result.init_key, *self.result.segment_keys]:
                out.write((self.folder / key.rsplit("/", 1)[1]).read_bytes())
        return target

    def stream(self) -> dict[str, Any]:
        streams = probe(self.joined())["streams"]
        assert len(streams) == 1
        return dict(streams[0])


Encode = Callable[..., Encoded]


@pytest.fixture(scope="module")
def encode(
    s3: S3Client,
    make_buckets: Callable[[], Buckets],
    run_transcoder: TranscoderRun,
    tmp_path_factory: pytest.TempPathFactory,
) -> Encode:
    """Plan `source` as the probe would and run the job for one of its rungs."""
    buckets = make_buckets()

    def run(clip: Path, rung: str | None = None, codec: VideoCodec = "h264") -> Encoded:
        """rung: a planned rung's name (the first if None), or "audio"."""
        info = parse_ffprobe(probe(clip), size_bytes=clip.stat().st_size)
        rungs = plan_ladder(info, max_short_side=1440, preset="veryfast", codec=codec)
        rendition: VideoRendition | AudioRendition = (
            AudioRendition()
            if rung == "audio"
            else next(r for r in rungs if rung in (None, r.name))
        )
        source_key = f"{VIDEO_ID}/{clip.stem}"
        job = TranscodeJob(
            video_id=VIDEO_ID,
            source_key=source_key,
            source_version=UNPINNED,
            output_prefix=f"{VIDEO_ID}/{clip.stem}/{rendition.name}/",
            segment_seconds=2,
            gop_seconds=1.0,
            source=SourceHints(
                interlaced=info.interlaced, transfer=info.transfer, audio_stream=info.audio_stream
            ),
            rendition=rendition.model_copy(update={"name": f"{clip.stem}-{rendition.name}"}),
        )
        job = upload_source(s3, buckets.uploads, clip, job)
        done = run_transcoder(job.model_dump_json(), buckets)
        assert done.returncode == 0, done.stderr[-3000:]
        key = f"{VIDEO_ID}/jobs/{job.name}.json"
        result = JobResult.model_validate_json(
            s3.get_object(Bucket=buckets.media, Key=key)["Body"].read()
        )
        folder = tmp_path_factory.mktemp(job.name)
        for key in [result.playlist_key, result.init_key, *result.segment_keys]:
            s3.download_file(buckets.media, key, str(folder / key.rsplit("/", 1)[1]))
        return Encoded(info, result, folder)

    return run


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("input-clips")


def frame_durations(path: Path) -> set[float]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "packet=duration_time", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return {round(float(line.strip(",")), 4) for line in out.split() if line.strip(",")}


def test_a_rotated_phone_video_comes_out_upright_in_portrait(encode: Encode, clips: Path) -> None:
    # Given a landscape-coded clip whose display matrix says "turn 90 degrees"
    clip = make_clip(clips / "rotated.mp4", width=640, height=360, seconds=2, rotate=90)

    encoded = encode(clip, "240p")

    assert (encoded.source.display_width, encoded.source.display_height) == (360, 640)
    stream = encoded.stream()
    assert (stream["width"], stream["height"]) == (240, 426)
    assert not stream.get("side_data_list")  # no display matrix left to rotate it again
    assert (encoded.result.width, encoded.result.height) == (240, 426)


@pytest.mark.parametrize("hdr", ["hlg", "pq"])
def test_hdr_comes_out_as_8_bit_sdr_bt709(encode: Encode, clips: Path, hdr: Transfer) -> None:
    assert hdr != "sdr"
    clip = make_clip(clips / f"{hdr}.mp4", width=640, height=360, seconds=2, hdr=hdr)

    encoded = encode(clip, "240p")

    assert encoded.source.transfer == hdr and encoded.source.bit_depth == 10
    stream = encoded.stream()
    assert (stream["codec_name"], stream["profile"], stream["pix_fmt"]) == (
        "h264",
        "High",
        "yuv420p",
    )
    assert stream["color_transfer"] == "bt709"
    assert stream["color_primaries"] == "bt709"
    assert stream["color_space"] == "bt709"


def test_10_bit_sdr_comes_out_8_bit_high_profile(encode: Encode, clips: Path) -> None:
    clip = make_clip(clips / "tenbit.mp4", width=640, height=360, seconds=2, bit_depth=10)

    stream = encode(clip, "240p").stream()

    assert (stream["profile"], stream["pix_fmt"]) == ("High", "yuv420p")


def test_interlaced_video_is_deinterlaced_to_one_frame_per_field(
    encode: Encode, clips: Path
) -> None:
    clip = make_clip(clips / "interlaced.mp4", width=854, height=480, seconds=2, interlaced=True)

    encoded = encode(clip, "480p")

    assert encoded.source.interlaced
    stream = encoded.stream()
    assert stream.get("field_order", "progressive") == "progressive"
    assert encoded.result.frame_rate == pytest.approx(50.0)  # 25i: 50 fields a second
    assert stream["avg_frame_rate"] == "50/1"


def test_variable_frame_rate_comes_out_constant(encode: Encode, clips: Path) -> None:
    clip = make_clip(
        clips / "vfr.mp4", width=640, height=360, seconds=2, fps=30, variable_frame_rate=True
    )
    assert len(frame_durations(clip)) > 1  # the source really is variable

    encoded = encode(clip, "240p")

    assert frame_durations(encoded.joined()) == {round(1 / 24, 4)}
    assert encoded.result.frame_rate == pytest.approx(24.0)


def test_non_square_pixels_come_out_square_at_the_display_shape(
    encode: Encode, clips: Path
) -> None:
    clip = make_clip(
        clips / "anamorphic.mp4", width=352, height=288, seconds=1, sample_aspect_ratio="16:11"
    )

    encoded = encode(clip, "240p")
    native = encode(clip)  # the top rung: 288 lines lie between 240p and 360p

    assert (encoded.source.display_width, encoded.source.display_height) == (512, 288)
    stream = encoded.stream()
    assert (stream["width"], stream["height"], stream["sample_aspect_ratio"]) == (
        426,
        240,
        "1:1",
    )
    assert native.result.name.endswith("-288p")
    top = native.stream()
    assert (top["width"], top["height"], top["sample_aspect_ratio"]) == (512, 288, "1:1")


def test_above_60_fps_the_rate_is_halved(encode: Encode, clips: Path) -> None:
    clip = make_clip(clips / "fast.mp4", width=854, height=480, seconds=1.5, fps=120)

    encoded = encode(clip, "480p")

    assert encoded.result.frame_rate == pytest.approx(60.0)
    assert encoded.stream()["avg_frame_rate"] == "60/1"
    assert [round(t - 10, 3) for t in keyframe_times(encoded.folder / "index.m3u8")] == [0.0, 1.0]


def test_a_clip_shorter_than_a_segment_is_one_short_segment(encode: Encode, clips: Path) -> None:
    clip = make_clip(clips / "short.mp4", width=320, height=180, seconds=0.6)

    result = encode(clip).result

    assert result.segment_durations == [pytest.approx(0.6, abs=0.05)]
    assert result.target_duration >= 1
    assert result.duration_seconds <= result.target_duration


def test_the_recorded_ssim_is_what_ffmpeg_measures_independently(
    encode: Encode, clips: Path
) -> None:
    # Given a rung encoded from a 640x360 source
    clip = make_clip(clips / "quality.mp4", width=640, height=360, seconds=2)
    encoded = encode(clip, "240p")
    assert encoded.result.ssim is not None and 0.9 < encoded.result.ssim < 1

    # When FFmpeg's ssim filter compares the decoded rung with the source scaled alike
    graph = (
        "[1:v]fps=25,scale=426:240:flags=lanczos,setsar=1,format=yuv420p,setpts=PTS-STARTPTS[ref];"
        "[0:v]setpts=PTS-STARTPTS[out];[out][ref]ssim"
    )
    measured = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-i", str(encoded.joined()), "-i", str(clip),
         "-lavfi", graph, "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    ).stderr  # fmt: skip
    ssim_y = float(measured.split("SSIM Y:")[1].split()[0])

    # Then the encoder's own figure agrees
    assert encoded.result.ssim == pytest.approx(ssim_y, abs=0.005)


def test_an_hevc_rung_is_hvc1_with_a_codec_string_matching_the_stream(
    encode: Encode, clips: Path
) -> None:
    clip = make_clip(clips / "hevc.mp4", width=640, height=360, seconds=2)

    hevc = encode(clip, "240p-hevc", codec="hevc")
    h264 = encode(clip, "240p")

    stream = hevc.stream()
    assert (stream["codec_name"], stream["codec_tag_string"], stream["profile"]) == (
        "hevc",
        "hvc1",
        "Main",
    )
    assert hevc.result.codecs == f"hvc1.1.6.L{stream['level']}.90"
    assert hevc.result.ssim is not None and hevc.result.ssim > 0.9
    # Same keyframe instants as the H.264 ladder: a player can switch between them.
    assert keyframe_times(hevc.folder / "index.m3u8") == keyframe_times(h264.folder / "index.m3u8")
    assert json.loads(hevc.result.model_dump_json())["segment_durations"] == [2.0]


def test_an_av1_rung_is_av01_with_a_codec_string_matching_the_stream_and_aligned_keyframes(
    encode: Encode, clips: Path
) -> None:
    clip = make_clip(clips / "av1.mp4", width=640, height=360, seconds=2)

    av1 = encode(clip, "240p-av1", codec="av1")
    h264 = encode(clip, "240p")

    stream = av1.stream()
    assert (stream["codec_name"], stream["codec_tag_string"], stream["profile"]) == (
        "av1",
        "av01",
        "Main",
    )
    assert (stream["width"], stream["height"], stream["pix_fmt"]) == (426, 240, "yuv420p")
    # profile 0 (Main), level from the sequence header, Main tier, 8-bit
    assert av1.result.codecs == f"av01.0.{int(stream['level']):02d}M.08"
    assert av1.result.ssim is None  # SVT-AV1 reports none: docs/media.md
    # Same keyframe instants as the H.264 ladder, one per GOP (gop_seconds=1 here)
    keyframes = keyframe_packet_times(av1.folder / "index.m3u8")
    assert keyframes == keyframe_times(h264.folder / "index.m3u8") == [10.0, 11.0]
    assert keyframe_packet_times(h264.folder / "index.m3u8") == keyframes
    assert av1.result.segment_durations == [2.0]


def test_one_master_and_one_mpd_carry_h264_hevc_av1_and_audio_and_play(
    encode: Encode, clips: Path, tmp_path: Path
) -> None:
    # Given the same source as H.264, HEVC and AV1 rungs and the audio, published side by side
    clip = make_clip(clips / "both.mp4", width=640, height=360, seconds=2)
    parts = [
        encode(clip, "240p-av1", codec="av1"),
        encode(clip, "240p"),
        encode(clip, "240p-hevc", codec="hevc"),
        encode(clip, "audio"),
    ]
    root = f"{VIDEO_ID}/both"
    for part in parts:  # laid out as in the bucket, below root
        folder = posixpath.dirname(posixpath.relpath(part.result.init_key, root))
        shutil.copytree(part.folder, tmp_path / folder)
    results = [part.result for part in parts]

    # When Finalise's builders describe them
    (tmp_path / "master.m3u8").write_text(build_master_playlist(results, f"{root}/master.m3u8"))
    (tmp_path / "dash").mkdir()
    mpd = build_mpd(results, f"{root}/dash/manifest.mpd", min_buffer_seconds=2)
    (tmp_path / "dash" / "manifest.mpd").write_text(mpd)

    # Then the master lists the codecs H.264 first, AV1 last, with the audio, and FFmpeg
    # plays every stream of both manifests
    master = m3u8.load(str(tmp_path / "master.m3u8"))
    assert [p.stream_info.codecs for p in master.playlists] == [
        f"{parts[1].result.codecs},mp4a.40.2",
        f"{parts[2].result.codecs},mp4a.40.2",
        f"{parts[0].result.codecs},mp4a.40.2",
    ]
    assert [parts[i].result.codecs[:5] for i in (1, 2, 0)] == ["avc1.", "hvc1.", "av01."]
    for manifest in (tmp_path / "master.m3u8", tmp_path / "dash" / "manifest.mpd"):
        streams = probe(manifest)["streams"]
        assert sorted(s["codec_name"] for s in streams) == ["aac", "av1", "h264", "hevc"]
        subprocess.run(
            ["ffmpeg", "-v", "error", "-xerror", "-i", str(manifest), "-map", "0",
             "-f", "null", "-"],
            check=True, capture_output=True,
        )  # fmt: skip


def test_the_ffmpeg_here_has_the_filters_real_sources_need() -> None:
    filters = subprocess.run(
        ["ffmpeg", "-hide_banner", "-filters"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert {"zscale", "tonemap", "bwdif", "signalstats", "tile", "select"} <= set(filters)


@pytest.mark.slow
def test_memory_does_not_grow_with_the_length_of_the_source(encode: Encode, clips: Path) -> None:
    # FFmpeg streams the source and writes segments as it goes: 15 times longer, same memory.
    short = encode(make_clip(clips / "two.mp4", width=320, height=180, seconds=2)).result
    long = encode(make_clip(clips / "thirty.mp4", width=320, height=180, seconds=30)).result

    assert len(long.segment_keys) == 15
    assert long.peak_memory_bytes < short.peak_memory_bytes * 1.25 + 16 * 2**20


def dominant_frequency(path: Path) -> float:
    """Zero crossings of the decoded sound, per second, halved: a pure tone's frequency."""
    pcm = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", "48000", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    samples = [int.from_bytes(pcm[i : i + 2], "little", signed=True) for i in range(0, len(pcm), 2)]
    crossings = sum(1 for a, b in pairwise(samples) if (a < 0) != (b < 0))
    return crossings / 2 / (len(samples) / 48000)


def test_of_several_audio_streams_the_default_one_is_used(encode: Encode, clips: Path) -> None:
    # Given a clip with a 440 Hz stream first and an 880 Hz stream marked default
    clip = make_clip(
        clips / "dubbed.mp4", width=320, height=180, seconds=2, audio_streams=2, default_audio=1
    )

    encoded = encode(clip, "audio")

    assert encoded.source.audio_stream == 1
    assert dominant_frequency(encoded.joined()) == pytest.approx(880, rel=0.03)
