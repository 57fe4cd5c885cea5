"""The floor: one FFmpeg process, one decode, the very ladder the pipeline plans.

The command is the transcoder's own single-decode builder
(`transcoder.command.build_single_decode_command`, what a grouped job runs), so any change
to the encoder settings, segmenting or muxing reaches the floor too: each job's output
arguments (what follows `-i SOURCE` in its own command) become one output of a single
process, and each video job's filter chain runs in a `-filter_complex` that splits the one
decoded stream.
The same builder on a subset of jobs is the "balanced" plan's shared task.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from transcoder.command import build_single_decode_command
from transcoder.contract import TranscodeJob

__all__ = ["decode_only_command", "single_decode_command"]


def single_decode_command(
    jobs: Sequence[TranscodeJob], source: Path, out_root: Path, *, ffmpeg: str = "ffmpeg"
) -> list[str]:
    """One FFmpeg process writing every job's rendition into `out_root / job.name`."""
    out_dirs = [out_root / job.name for job in jobs]
    return build_single_decode_command(jobs, str(source), out_dirs, ffmpeg=ffmpeg)


def decode_only_command(source: Path, *, ffmpeg: str = "ffmpeg") -> list[str]:
    """Every stream decoded and thrown away: what one more read of the source costs."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", str(source), "-f", "null", "-",
    ]  # fmt: skip
