"""The bench's AV1 comparison: an opt-in part, judged by FFmpeg's SSIM on real encodes,
and its summary table."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.__main__ import parse
from bench.av1 import av1_section, ssim_against_source
from tests.support.media import make_clip


def test_av1_is_a_part_only_measured_when_asked_for() -> None:
    assert parse(["--only", "av1"])[1] == ["av1"]
    assert parse([])[1] is None  # a whole run: bench.run.run does not compare AV1


def test_ssim_against_the_source_is_ffmpegs_one_for_a_copy_and_lower_for_a_bad_encode(
    tmp_path: Path,
) -> None:
    source = make_clip(tmp_path / "src.mp4", width=320, height=180, seconds=1, audio=False)
    worse = make_clip(tmp_path / "other.mp4", width=160, height=90, seconds=1, audio=False)

    assert ssim_against_source(source, source, 320, 180) == pytest.approx(1.0, abs=1e-3)
    assert ssim_against_source(worse, source, 160, 90) < 1.0


def test_the_summary_shows_both_codecs_at_each_rung() -> None:
    def side(kbps: float, ssim: float, cpu: float) -> dict[str, float]:
        return {"average_kbps": kbps, "ssim": ssim, "cpu_seconds": cpu}

    results = {
        "av1_vs_h264": {
            "source": "720p25",
            "source_seconds": 4,
            "rungs": [
                {
                    "rung": "720p",
                    "h264": side(3258.0, 0.98997, 2.081),
                    "av1": side(2612.6, 0.98941, 7.879),
                    "av1_bitrate_share": 0.802,
                    "av1_cpu_ratio": 3.79,
                }
            ],
        }
    }

    lines = av1_section(results)

    assert lines[0].startswith("## AV1 against H.264")
    assert "| 720p | 3258 | 0.9900 | 2.08 | 2612.6 | 0.9894 | 7.88 | 0.80 | 3.79 |" in lines
    assert av1_section({}) == []
