"""Loudness: two-pass `loudnorm` (measure the track, then apply with what was measured) and
the output's loudness by `ebur128`, as commands (data) and parsers of FFmpeg's reports.

The measure pass reads the one audio stream (`-vn`, `-map 0:a:N`, into the null muxer),
so it decodes no video. The apply pass is a `-af` filter on the rendition's own output;
`linear=true` asks for a plain gain, which FFmpeg replaces by dynamic normalisation when
the gain would push the true peak over its limit or the loudness range over its target.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from transcoder.contract import LoudnessTarget

# Below this a track is silence (EBU R128's absolute gate is -70 LUFS), and shorter than
# this its integrated loudness says little (three 3 s short-term windows would be the
# least for a figure worth matching); such audio is encoded as it is, and said so.
SILENCE_LUFS = -70.0
MIN_SECONDS = 3.0
# loudnorm's loudness range target: a track whose range is wider still gets a linear gain
# (the target is raised to its range, up to FFmpeg's limit), so dynamics are kept.
RANGE_LU = 11.0
MAX_RANGE_LU = 20.0
# FFmpeg reads measured_LRA=0 as "not measured" (and falls back to dynamic); a steady tone
# measures 0.00, which is passed as the smallest figure the report could have rounded.
_LEAST_RANGE_LU = 0.01
_LOUDNORM_REPORT = re.compile(r"\[Parsed_loudnorm_\d+ @ [^\]]*\][^{]*(\{[^}]*\})", re.DOTALL)
_OUT_TIME = re.compile(r"^out_time_us=(\d+)\s*$", re.MULTILINE)
_EBUR128_I = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf)\s*LUFS", re.DOTALL)
_EBUR128_PEAK = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf)\s*dBFS", re.DOTALL)

_QUIET = ("-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+info")


@dataclass(frozen=True)
class Measured:
    """loudnorm's first-pass report of a track, and how long the track is."""

    integrated_lufs: float
    true_peak_dbtp: float
    range_lu: float
    threshold_lufs: float
    offset_lu: float
    seconds: float


@dataclass(frozen=True)
class LoudnessPlan:
    """What the apply pass does to one track: a filter, or nothing and why."""

    filter: str | None
    note: str  # "normalised (linear)" and so on: what the result records
    source_lufs: float | None


def measure_command(
    ffmpeg: str, input_options: list[str], input_url: str, stream: int, target: LoudnessTarget
) -> list[str]:
    """The first pass: one audio stream through loudnorm into nothing; its report (JSON) on
    stderr, its progress (the length decoded, `out_time_us`) on stdout."""
    return [
        ffmpeg, *_QUIET, *input_options, "-i", input_url,
        "-map", f"0:a:{stream}", "-vn", "-sn", "-dn",
        "-af", f"{_targets(target, RANGE_LU)}:print_format=json",
        "-progress", "pipe:1", "-f", "null", "-",
    ]  # fmt: skip


def parse_measurement(stderr: str, progress: str) -> Measured:
    """The first pass's figures; raises ValueError if FFmpeg printed no report."""
    report = last_loudnorm_report(stderr)
    if report is None:
        raise ValueError("loudnorm printed no report")
    times = _OUT_TIME.findall(progress)
    return Measured(
        integrated_lufs=_number(report["input_i"]),
        true_peak_dbtp=_number(report["input_tp"]),
        range_lu=_number(report["input_lra"]),
        threshold_lufs=_number(report["input_thresh"]),
        offset_lu=_number(report.get("target_offset", "0")),
        seconds=int(times[-1]) / 1e6 if times else 0.0,
    )


def last_loudnorm_report(log: str) -> dict[str, str] | None:
    """The last JSON report a loudnorm filter printed (`print_format=json`), if any."""
    reports = _LOUDNORM_REPORT.findall(log)
    if not reports:
        return None
    parsed: dict[str, str] = json.loads(reports[-1])
    return parsed


def plan(measured: Measured, target: LoudnessTarget) -> LoudnessPlan:
    """Silent or short audio is left alone; the rest gets the second pass, linear if FFmpeg
    will take it (`expected_mode`)."""
    source = measured.integrated_lufs if math.isfinite(measured.integrated_lufs) else None
    if source is None or source < SILENCE_LUFS:
        return LoudnessPlan(None, "left alone: silent", None)
    if measured.seconds < MIN_SECONDS:
        return LoudnessPlan(None, f"left alone: shorter than {MIN_SECONDS:g} s", source)
    range_target = min(MAX_RANGE_LU, max(RANGE_LU, math.ceil(measured.range_lu)))
    measured_range = max(measured.range_lu, _LEAST_RANGE_LU)
    offset = measured.offset_lu + 0.0 if math.isfinite(measured.offset_lu) else 0.0  # not -0.00
    apply = (
        f"{_targets(target, range_target)}"
        f":measured_I={measured.integrated_lufs:.2f}:measured_TP={measured.true_peak_dbtp:.2f}"
        f":measured_LRA={measured_range:.2f}:measured_thresh={measured.threshold_lufs:.2f}"
        f":offset={offset:.2f}:linear=true:print_format=json"
    )
    mode = expected_mode(measured, target, range_target)
    return LoudnessPlan(apply, f"normalised ({mode})", source)


def expected_mode(measured: Measured, target: LoudnessTarget, range_target: float) -> str:
    """FFmpeg 5.1's own rule (af_loudnorm.c): linear when the gain keeps the true peak
    within its limit and the range within its target; dynamic otherwise."""
    gain = target.integrated_lufs - measured.integrated_lufs
    peak_after = measured.true_peak_dbtp + gain
    if peak_after <= target.true_peak_dbtp and measured.range_lu <= range_target:
        return "linear"
    return "dynamic"


def ebur128_command(ffmpeg: str, target: str) -> list[str]:
    """The rendition's own loudness (integrated, and true peak) from its decoded output."""
    return [
        ffmpeg, *_QUIET, "-i", target, "-map", "0:a:0",
        "-af", "ebur128=peak=true:framelog=verbose", "-f", "null", "-",
    ]  # fmt: skip


def parse_ebur128(log: str) -> tuple[float | None, float | None]:
    """(integrated LUFS, true peak dBTP) from ebur128's summary; None where it measured
    nothing (silence: -70 LUFS, the gate's floor, or -inf)."""
    integrated = _EBUR128_I.findall(log)
    peak = _EBUR128_PEAK.findall(log)
    lufs = _number(integrated[-1]) if integrated else math.nan
    dbtp = _number(peak[-1]) if peak else math.nan
    return (
        round(lufs, 1) if math.isfinite(lufs) and lufs > SILENCE_LUFS else None,
        round(dbtp, 1) if math.isfinite(dbtp) else None,
    )


def measure_target(paths: list[Path]) -> str:
    """One input of the rendition's files back to back (init segment, then the segments)."""
    return "concat:" + "|".join(str(path) for path in paths)


def _targets(target: LoudnessTarget, range_lu: float) -> str:
    return f"loudnorm=I={target.integrated_lufs:g}:TP={target.true_peak_dbtp:g}:LRA={range_lu:g}"


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return -math.inf if "inf" in str(text) else math.nan
