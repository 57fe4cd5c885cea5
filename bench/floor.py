"""The floor: one FFmpeg process, one decode, the very ladder the pipeline plans.

Built from the transcoder's own per-job command (`transcoder.command.build_ffmpeg_command`),
so any change to the encoder settings, segmenting or muxing reaches the floor too: each
job's output arguments (everything after `-i SOURCE`) become one output of a single
process, and each video job's `-vf` chain moves into a `-filter_complex` that splits the one
decoded stream. The same builder on a subset of jobs is the "balanced" plan's shared task.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from transcoder.command import build_ffmpeg_command
from transcoder.contract import TranscodeJob, VideoRendition


class CommandShapeError(ValueError):
    """The transcoder's command no longer has the shape this builder takes apart."""


def _split_command(command: Sequence[str]) -> tuple[list[str], str, list[str]]:
    """(arguments before the input, the input, the output arguments after it)."""
    if command.count("-i") != 1:
        raise CommandShapeError(f"expected one -i in {list(command)}")
    at = command.index("-i")
    return list(command[1:at]), command[at + 1], list(command[at + 2 :])


def _take_option(arguments: list[str], option: str) -> str:
    """Removes `option VALUE` (exactly once) from `arguments` and returns VALUE."""
    if arguments.count(option) != 1:
        raise CommandShapeError(f"expected one {option} in {arguments}")
    at = arguments.index(option)
    value = arguments[at + 1]
    del arguments[at : at + 2]
    return value


def single_decode_command(
    jobs: Sequence[TranscodeJob], source: Path, out_root: Path, *, ffmpeg: str = "ffmpeg"
) -> list[str]:
    """One FFmpeg process writing every job's rendition into `out_root / job.name`."""
    if not jobs:
        raise ValueError("no jobs")
    head: list[str] | None = None
    outputs: list[str] = []
    chains: list[str] = []
    video_streams: set[str] = set()
    for job in jobs:
        command = build_ffmpeg_command(job, str(source), out_root / job.name, ffmpeg=ffmpeg)
        before, _, after = _split_command(command)
        head = head or before
        if isinstance(job.rendition, VideoRendition):
            label = f"v{len(chains)}"
            chains.append(_take_option(after, "-vf"))
            mapped = after.index("-map") + 1
            if not after[mapped].lower().startswith("0:v"):
                raise CommandShapeError(f"video job maps {after[mapped]}, not the video")
            video_streams.add(after[mapped])
            after[mapped] = f"[{label}]"
        outputs += after
    assert head is not None
    if len(video_streams) > 1:
        raise CommandShapeError(f"video jobs map different streams: {sorted(video_streams)}")
    graph = []
    if chains:
        splits = "".join(f"[s{index}]" for index in range(len(chains)))
        graph.append(f"[{video_streams.pop()}]split={len(chains)}{splits}")
        graph += [f"[s{index}]{chain}[v{index}]" for index, chain in enumerate(chains)]
    filter_args = ["-filter_complex", ";".join(graph)] if graph else []
    return [ffmpeg, *head, "-i", str(source), *filter_args, *outputs]


def decode_only_command(source: Path, *, ffmpeg: str = "ffmpeg") -> list[str]:
    """Every stream decoded and thrown away: what one more read of the source costs."""
    return [
        ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
        "-i", str(source), "-f", "null", "-",
    ]  # fmt: skip
