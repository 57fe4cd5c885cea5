"""What FFmpeg's info-level log tells the runner: problems worth reporting, and the SSIM
the encoder measured. Read line by line, so a long encode's log never sits in memory."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

# `-loglevel level+info` tags FFmpeg's own lines; x265 writes "x265 [level]: ..." itself.
_LEVEL = re.compile(r"\[(panic|fatal|error|warning|info|verbose|debug|trace)\]")
_PROBLEM_LEVELS = {"panic", "fatal", "error", "warning"}
# x264: "SSIM Mean Y:0.9817371 (17.384db)"; x265: "... SSIM Mean Y: 0.9895787 (19.821 dB)"
_SSIM = re.compile(r"SSIM Mean Y:\s*([0-9.]+)")
# loudnorm's report (print_format=json): which normalisation it applied
_NORMALIZATION_TYPE = re.compile(r'"normalization_type"\s*:\s*"(\w+)"')
# Warnings that are advice, not problems. x264's two are about benchmarking: psy
# optimisations lower SSIM a little, and the figure is still the true SSIM of what was
# encoded. x265 turns lookahead slices off by itself below 720p.
_BENIGN = (
    "used with psy on: results will be invalid",
    "--tune ssim should be used if attempting to benchmark ssim",
    "deprecated pixel format used, make sure you did set range correctly",
    "disabling lookahead-slices",
)


@dataclass
class LogSummary:
    problems: deque[str] = field(default_factory=lambda: deque(maxlen=50))
    last_lines: deque[str] = field(default_factory=lambda: deque(maxlen=50))
    ssim: float | None = None  # the last SSIM line's
    ssims: list[float] = field(default_factory=list)  # every SSIM line's, in order
    loudnorm_modes: list[str] = field(default_factory=list)  # "linear"/"dynamic", in order

    @property
    def tail(self) -> list[str]:
        """The last warnings and errors; the last lines if there were none."""
        return list(self.problems or self.last_lines)


def scan(lines: Iterable[str], keep: int = 50) -> LogSummary:
    summary = LogSummary(deque(maxlen=keep), deque(maxlen=keep))
    for raw in lines:
        line = raw.rstrip("\n")
        if not line.strip():
            continue
        summary.last_lines.append(line)
        match = _SSIM.search(line)
        if match:
            summary.ssim = float(match.group(1))
            summary.ssims.append(summary.ssim)
        mode = _NORMALIZATION_TYPE.search(line)
        if mode:
            summary.loudnorm_modes.append(mode.group(1))
        if is_problem(line):
            summary.problems.append(line)
    return summary


def is_problem(line: str) -> bool:
    level = _LEVEL.search(line)  # untagged: x265's closing summary ("encoded 75 frames ...")
    return (
        level is not None
        and level.group(1) in _PROBLEM_LEVELS
        and not any(text in line for text in _BENIGN)
    )
