"""Loudness normalisation as data: the two loudnorm passes' commands, FFmpeg's reports read
back (captured from FFmpeg 5.1), and what is done with silent, short, loud and quiet audio."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from transcoder.command import build_job_command
from transcoder.contract import AudioRendition, LoudnessTarget, SourceHints, TranscodeJob
from transcoder.ffmpeg_log import scan
from transcoder.loudness import (
    Measured,
    ebur128_command,
    expected_mode,
    measure_command,
    parse_ebur128,
    parse_measurement,
    plan,
)

TARGET = LoudnessTarget()  # -16 LUFS, -1 dBTP

# The first pass of a loud 6 s tone (stderr, then the end of -progress on stdout)
LOUD_REPORT = """[info]     Stream #0:0(eng): Audio: pcm_s16le, 192000 Hz, stereo, s16, 6144 kb/s
[info] video:0kB audio:4512kB subtitle:0kB other streams:0kB global headers:0kB
[Parsed_loudnorm_0 @ 0x55d21a8c3900] [info]
{
\t"input_i" : "-4.66",
\t"input_tp" : "-3.41",
\t"input_lra" : "0.00",
\t"input_thresh" : "-14.66",
\t"output_i" : "-16.00",
\t"output_tp" : "-14.76",
\t"output_lra" : "0.10",
\t"output_thresh" : "-26.00",
\t"normalization_type" : "dynamic",
\t"target_offset" : "-0.00"
}
"""
LOUD_PROGRESS = "out_time_us=5500000\nprogress=continue\nout_time_us=6010000\nprogress=end\n"
SILENT_REPORT = """[Parsed_loudnorm_0 @ 0x55c6b44bf1c0] [info]
{
\t"input_i" : "-inf",
\t"input_tp" : "-inf",
\t"input_lra" : "0.00",
\t"input_thresh" : "-70.00",
\t"output_i" : "-inf",
\t"output_tp" : "-inf",
\t"output_lra" : "0.00",
\t"output_thresh" : "-70.00",
\t"normalization_type" : "dynamic",
\t"target_offset" : "inf"
}
"""
EBUR128_SUMMARY = """[Parsed_ebur128_0 @ 0x5648f2dc8e00] [info] Summary:

  Integrated loudness:
    I:         -16.0 LUFS
    Threshold: -26.0 LUFS

  Loudness range:
    LRA:         0.0 LU
    Threshold: -36.0 LUFS
    LRA low:   -16.0 LUFS
    LRA high:  -16.0 LUFS

  True peak:
    Peak:      -14.8 dBFS
"""
EBUR128_SILENT = EBUR128_SUMMARY.replace(
    "-16.0 LUFS\n    Threshold: -26.0", "-70.0 LUFS\n    Threshold: -70.0"
).replace("-14.8 dBFS", "-inf dBFS")


def measured(integrated: float, peak: float, seconds: float = 6.0, lra: float = 0.0) -> Measured:
    return Measured(integrated, peak, lra, integrated - 10, 0.0, seconds)


def test_the_first_pass_report_and_length_are_read() -> None:
    got = parse_measurement(LOUD_REPORT, LOUD_PROGRESS)

    assert got == Measured(-4.66, -3.41, 0.0, -14.66, 0.0, 6.01)


def test_a_first_pass_without_a_report_is_an_error() -> None:
    with pytest.raises(ValueError, match="no report"):
        parse_measurement("[error] Conversion failed!", "")


def test_silence_measures_minus_infinity_and_is_left_alone() -> None:
    got = parse_measurement(SILENT_REPORT, "out_time_us=4000000\n")

    assert got.integrated_lufs == -math.inf
    chosen = plan(got, TARGET)
    assert (chosen.filter, chosen.note, chosen.source_lufs) == (None, "left alone: silent", None)


def test_audio_quieter_than_the_absolute_gate_is_silent() -> None:
    assert plan(measured(-75.0, -60.0), TARGET).note == "left alone: silent"


def test_audio_shorter_than_three_seconds_is_left_alone_with_its_loudness() -> None:
    chosen = plan(measured(-20.0, -5.0, seconds=2.5), TARGET)

    assert chosen.filter is None
    assert chosen.note == "left alone: shorter than 3 s"
    assert chosen.source_lufs == -20.0


def test_the_second_pass_applies_the_measured_values_linearly() -> None:
    chosen = plan(parse_measurement(LOUD_REPORT, LOUD_PROGRESS), TARGET)

    assert chosen.filter == (
        "loudnorm=I=-16:TP=-1:LRA=11:measured_I=-4.66:measured_TP=-3.41"
        ":measured_LRA=0.01:measured_thresh=-14.66:offset=0.00:linear=true:print_format=json"
    )  # a range of 0.00 is passed as 0.01: FFmpeg reads 0 as "not measured"
    assert chosen.note == "normalised (linear)"
    assert chosen.source_lufs == -4.66


def test_a_wide_range_raises_the_range_target_so_the_gain_stays_linear() -> None:
    chosen = plan(measured(-24.0, -12.0, lra=14.2), TARGET)

    assert chosen.filter is not None and "LRA=15:" in chosen.filter
    assert chosen.note == "normalised (linear)"


@pytest.mark.parametrize(
    ("integrated", "peak", "mode"),
    [
        (-34.0, -20.0, "linear"),  # quiet: +18 dB keeps the peak at -2
        (-34.0, -16.0, "dynamic"),  # +18 dB would put the peak at +2 dBTP
        (-4.7, -3.4, "linear"),  # loud: turned down
        (-20.0, -5.0, "linear"),  # +4 dB: the peak lands exactly on -1
        (-20.0, -4.9, "dynamic"),
    ],
)
def test_the_expected_mode_follows_ffmpegs_true_peak_rule(
    integrated: float, peak: float, mode: str
) -> None:
    assert expected_mode(measured(integrated, peak), TARGET, 11) == mode
    assert plan(measured(integrated, peak), TARGET).note == f"normalised ({mode})"


def test_the_output_loudness_is_read_from_ebur128s_summary() -> None:
    assert parse_ebur128(EBUR128_SUMMARY) == (-16.0, -14.8)
    assert parse_ebur128(EBUR128_SILENT) == (None, None)
    assert parse_ebur128("[error] nothing measured") == (None, None)


def test_the_mode_ffmpeg_applied_is_read_from_the_encode_log() -> None:
    summary = scan(LOUD_REPORT.replace("dynamic", "linear").splitlines(keepends=True))

    assert summary.loudnorm_modes == ["linear"]


def test_the_measure_pass_reads_only_the_tracks_audio_into_nothing() -> None:
    command = measure_command("ffmpeg", ["-format_whitelist", "mov"], "http://src", 1, TARGET)

    assert command[command.index("-map") + 1] == "0:a:1"
    assert "-vn" in command and command[-3:] == ["-f", "null", "-"]
    assert command[command.index("-af") + 1] == "loudnorm=I=-16:TP=-1:LRA=11:print_format=json"
    assert command[command.index("-progress") + 1] == "pipe:1"
    assert command.index("-format_whitelist") < command.index("-i")


def test_ebur128_measures_the_true_peak_of_the_first_audio_stream() -> None:
    command = ebur128_command("ffmpeg", "concat:a|b")

    assert command[command.index("-i") + 1] == "concat:a|b"
    assert command[command.index("-af") + 1].startswith("ebur128=peak=true")


def test_the_second_pass_filter_goes_on_the_audio_output_of_single_and_grouped_jobs() -> None:
    rendition = AudioRendition(name="audio-2", stream=2, loudness=TARGET)
    job = TranscodeJob(
        video_id="v",
        source_key="v/s",
        source_version="1",
        output_prefix="v/hls/audio-2/",
        source=SourceHints(audio_stream=0),
        rendition=rendition,
    )
    single = build_job_command(job, "http://src", _path("out"), audio_filters={"audio-2": "F"})

    assert single[single.index("-af") + 1] == "F"
    assert single[single.index("-map") + 1] == "0:a:2"  # its own stream, not the default
    plain = build_job_command(job, "http://src", _path("out"))
    assert "-af" not in plain


def _path(name: str) -> Path:
    return Path("out") / name
