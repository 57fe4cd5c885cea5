"""Where SVT-AV1 (FFmpeg 5.1) puts keyframes, against the H.264 rung's, with the
transcoder's own commands on local files: what docs/media.md says of the AV1 ladder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.support.media import keyframe_packet_times, make_clip
from transcoder.command import build_ffmpeg_command
from transcoder.contract import TranscodeJob, VideoCodec

FRAME = 1001 / 30000  # one frame at 29.97 fps


def encode(source: Path, out: Path, codec: VideoCodec, frame_rate: float) -> list[float]:
    crf, preset = (35, "12") if codec == "av1" else (22, "ultrafast")  # fast: only GOPs matter
    job = TranscodeJob.model_validate(
        {
            "video_id": "v",
            "source_key": "v/source",
            "source_version": "1",
            "output_prefix": f"v/hls/90p-{codec}/",
            "rendition": {
                "kind": "video", "name": f"90p-{codec}", "codec": codec, "width": 160,
                "height": 90, "frame_rate": frame_rate, "crf": crf, "max_bitrate_kbps": 145,
                "preset": preset,
            },
        }
    )  # fmt: skip
    out.mkdir()
    subprocess.run(build_ffmpeg_command(job, str(source), out), check=True, capture_output=True)
    return keyframe_packet_times(out / "index.m3u8")


def test_svt_av1_in_this_ffmpeg_ignores_forced_keyframes(tmp_path: Path) -> None:
    # If this fails, FFmpeg now forwards forced keyframes to SVT-AV1: docs/media.md's AV1
    # keyframe note (and the NTSC drift below) can go.
    clip = make_clip(tmp_path / "clip.mp4", width=160, height=90, seconds=3, fps=25, audio=False)
    out = tmp_path / "forced.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(clip), "-c:v", "libsvtav1", "-preset", "12",
         "-svtav1-params", "keyint=50:scd=0", "-force_key_frames", "expr:gte(t,n_forced*1.5)",
         str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    assert keyframe_packet_times(out) == [0.0, 2.0]  # the GOP's, not 1.5 s


@pytest.mark.parametrize(("fps", "seconds"), [(25, 6), (30000 / 1001, 40)], ids=["25", "29.97"])
def test_av1_keyframes_are_h264s_at_integer_rates_and_drift_a_frame_at_ntsc_ones(
    tmp_path: Path, fps: float, seconds: float
) -> None:
    clip = make_clip(
        tmp_path / "clip.mp4", width=160, height=90, seconds=seconds, fps=fps, audio=False
    )
    rate = round(fps, 3)

    h264 = encode(clip, tmp_path / "h264", "h264", rate)
    av1 = encode(clip, tmp_path / "av1", "av1", rate)

    assert len(av1) == len(h264) == seconds // 2
    late = [a - h for h, a in zip(h264, av1, strict=True) if abs(a - h) > 1e-3]
    if fps == 25:
        assert not late  # 50 frames are exactly 2 s
    else:
        # 60 frames last 2.002 s; H.264's forced keyframes keep to the 2 s marks, so from
        # about 34 s on AV1's come one frame later
        first_late = next(h for h, a in zip(h264, av1, strict=True) if abs(a - h) > 1e-3)
        assert first_late == pytest.approx(10 + 34, abs=FRAME)
        assert late == pytest.approx([FRAME] * len(late), abs=1e-3)
