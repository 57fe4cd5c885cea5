"""Running FFmpeg: one process to completion, its stderr in a file, its cost measured; and
the errors a job fails with (`MediaError`: FFmpeg refused the input)."""

from __future__ import annotations

import logging
import re
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from transcoder.ffmpeg_log import LogSummary, scan

log = logging.getLogger(__name__)

STDERR_TAIL_LINES = 50
_MAXRSS_BYTES = 1 if sys.platform == "darwin" else 1024  # Linux reports KiB
# A query string can carry a credential (a presigned URL's does): keep it out of the logs.
_URL_QUERY = re.compile(r"(https?://[^\s?'\"]*)\?[^\s'\":]*")
_ERROR_LEVEL = re.compile(r"\[(error|fatal|panic)\]")
_ADDRESS = re.compile(r" @ 0x[0-9a-f]+")


class JobFailedError(Exception):
    """The job did not produce a complete rendition; no result was written."""

    def __init__(self, message: str, stderr_tail: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.stderr_tail = list(stderr_tail)


class MediaError(JobFailedError):
    """FFmpeg itself refused this input: another attempt would fail the same way."""

    @property
    def reason(self) -> str:
        """FFmpeg's last two errors (the cause, then its consequence), without addresses."""
        errors = [line for line in self.stderr_tail if _ERROR_LEVEL.search(line)]
        lines = errors[-2:] or self.stderr_tail[-1:]
        return "; ".join(_ADDRESS.sub("", line) for line in lines) if lines else str(self)


def failure(returncode: int, message: str, stderr_tail: Sequence[str]) -> JobFailedError:
    """The error of an FFmpeg run that exited with `returncode` (not 0). A negative code is
    a signal (killed from outside), not FFmpeg's verdict on the input."""
    error = MediaError if returncode > 0 else JobFailedError
    return error(message, stderr_tail)


@dataclass(frozen=True)
class EncodeStats:
    wall_seconds: float
    cpu_seconds: float  # user + system of the child processes
    peak_memory_bytes: int
    ssim: float | None = None  # what the video encoder measured, if it did
    ssims: tuple[float, ...] = ()  # every encoder's, in the log's order (a grouped job)
    loudnorm_modes: tuple[str, ...] = ()  # what each loudnorm applied, in the log's order


def run_ffmpeg(command: Sequence[str], log_path: Path) -> EncodeStats:
    """Run FFmpeg to completion with its stderr in a file (never buffered in memory)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with log_path.open("wb") as stderr:
        try:
            completed = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                check=False,
            )
        except OSError as exc:
            raise JobFailedError(f"cannot run {command[0]}: {exc}") from exc
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = _read_log(log_path)
    tail = redact(summary.tail)
    if completed.returncode != 0:
        last = tail[-1] if tail else "no error output"
        raise failure(
            completed.returncode, f"ffmpeg exited with {completed.returncode}: {last}", tail
        )
    if summary.problems:
        log.warning(
            "ffmpeg reported problems",
            extra={"fields": {"stderr_tail": redact(list(summary.problems))}},
        )
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far; FFmpeg is the first.
    return EncodeStats(
        wall,
        cpu,
        after.ru_maxrss * _MAXRSS_BYTES,
        summary.ssim,
        tuple(summary.ssims),
        tuple(summary.loudnorm_modes),
    )


def run_capturing(command: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise JobFailedError(f"cannot run {command[0]}: {exc}") from exc


def _read_log(path: Path) -> LogSummary:
    with path.open(encoding="utf-8", errors="replace") as lines:
        return scan(lines, STDERR_TAIL_LINES)


def redact(lines: Sequence[str]) -> list[str]:
    return [_URL_QUERY.sub(r"\1?<redacted>", line) for line in lines]
