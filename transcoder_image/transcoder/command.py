"""FFmpeg and ffprobe command lines as data: pure functions of the job.

A video or audio job becomes one FFmpeg process that reads the source once (over HTTP
byte ranges from a presigned URL) and writes one CMAF/fMP4 HLS rendition: `index.m3u8`,
`init.mp4` and `seg_NNNNN.m4s` in `out_dir`. A grouped job (several renditions) becomes
one FFmpeg process that decodes the source once and writes each rendition as its own
output (`build_single_decode_command`).

Both builders assemble the same pieces: `input_arguments` (before `-i`), each rendition's
`OutputParts` (`video_options`, `audio_options`: the stream it maps, its filter chain, its
encoder options) and `output_arguments` (chunk, timestamps, HLS muxer). A single job puts
its video chain in `-vf`; a grouped job puts each video chain in one `-filter_complex`
behind a `split` of the one decoded stream. Nothing is parsed back out of an argument list.
(The thumbnails job's command is in `transcoder.thumbnails`.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit

from transcoder.contract import (
    AudioRendition,
    ChunkSpec,
    SourceHints,
    TranscodeJob,
    Transfer,
    VideoRendition,
)

PLAYLIST_NAME = "index.m3u8"
INIT_NAME = "init.mp4"
SEGMENT_PATTERN = "seg_%05d.m4s"

# Every rendition's media timeline starts here (source time 0 = 10 s). Each rendition
# is its own FFmpeg process: left at 0, the muxer would shift each one on its own to
# keep DTS non-negative (video by its B-frame delay, audio by its AAC priming), and
# audio would lead video by ~60 ms. A common offset above any such lead keeps them in
# sync; a DASH manifest describes it as presentationTimeOffset = 10 s.
MEDIA_START_SECONDS = 10

# Info level, each line tagged with its level: the encoder's closing statistics (SSIM)
# are info lines; the runner reads them, and reports only warnings and errors.
GLOBAL_OPTIONS = ("-hide_banner", "-nostdin", "-y", "-loglevel", "level+info", "-nostats")

# HTTP protocol options of FFmpeg 5.1 (`ffmpeg -h protocol=http`): survive a dropped
# connection or an S3 5xx mid-file, and never hang forever on a stalled read.
_HTTP_INPUT_OPTIONS = (
    "-reconnect", "1",
    "-reconnect_streamed", "1",
    "-reconnect_on_network_error", "1",
    "-reconnect_on_http_error", "5xx",
    "-reconnect_delay_max", "5",
    "-rw_timeout", "30000000",
)  # fmt: skip


# The demuxers and protocols FFmpeg may use to read a source: the same lists as the probe's
# (lambdas/pipeline/source.py, which says why; tests/unit/test_transcoder_command.py keeps
# them equal). No playlist, list or image-sequence demuxer, and no protocol but the one the
# source's URL needs, so an upload cannot make FFmpeg open anything else.
ACCEPTED_DEMUXERS = (
    "mov,mp4,m4a,3gp,3g2,mj2",
    "matroska,webm",
    "avi",
    "mpegts",
    "mpeg",
    "flv",
    "asf",
    "ogg",
    "mxf",
)
_PROTOCOLS = {"https": "https,tls,tcp", "http": "http,tcp", "": "file"}


class UnsupportedJobError(ValueError):
    """The job is well-formed JSON but cannot be encoded as asked."""


@dataclass(frozen=True)
class OutputParts:
    """One rendition's output in the pieces both builders assemble."""

    stream: str  # the input stream `-map` selects: "0:V:0", "0:a:1"
    excluded: tuple[str, ...]  # the stream kinds the output leaves out ("-an", "-sn", ...)
    filter_option: str  # where a single output's chain goes: "-vf" or "-af"
    filters: str  # the filter chain; "" for none
    encoder: tuple[str, ...]  # codec, rate control, GOP, colour tags

    def arguments(self, graph_output: str | None = None) -> list[str]:
        """The output's own arguments. With `graph_output`, a `-filter_complex` label that
        already carries this output's filters, the output maps that label instead."""
        if graph_output is not None:
            return ["-map", f"[{graph_output}]", *self.excluded, *self.encoder]
        chain = [self.filter_option, self.filters] if self.filters else []
        return ["-map", self.stream, *self.excluded, *chain, *self.encoder]


# The first video stream that is not cover art.
VIDEO_STREAM = "0:V:0"


def build_ffmpeg_command(
    job: TranscodeJob,
    input_url: str,
    out_dir: Path,
    *,
    ffmpeg: str = "ffmpeg",
    audio_filter: str | None = None,
) -> list[str]:
    """The whole FFmpeg argument list that encodes `job` from `input_url` into `out_dir`;
    `audio_filter` (an audio job's loudness pass, `transcoder.loudness`) goes in as `-af`."""
    parts = rendition_parts(job, audio_filter)
    return [
        ffmpeg,
        *input_arguments(job, input_url),
        "-i",
        input_url,
        *output_arguments(job, out_dir, parts),
    ]


def rendition_parts(job: TranscodeJob, audio_filter: str | None = None) -> OutputParts:
    """The single job's map, filter and encoder pieces."""
    rendition = job.rendition
    if isinstance(rendition, VideoRendition):
        _check_segments_hold_whole_gops(job)
        return video_options(rendition, job.gop_seconds, job.source)
    if isinstance(rendition, AudioRendition):
        return audio_options(rendition, job.source, audio_filter)
    raise UnsupportedJobError(f"a {rendition.kind} job is not an HLS rendition")


def input_arguments(job: TranscodeJob, input_url: str) -> list[str]:
    """Everything before `-i URL`: global options, what FFmpeg may open, the chunk's seek."""
    return [*GLOBAL_OPTIONS, *input_options(input_url), *chunk_input_options(job.chunk)]


def output_arguments(
    job: TranscodeJob, out_dir: Path, parts: OutputParts, *, graph_output: str | None = None
) -> list[str]:
    """One rendition's output: its parts, the chunk's length, no metadata, its place on the
    media timeline and the HLS muxer into `out_dir`."""
    chunk = job.chunk
    start, first_segment = (chunk.start_seconds, chunk.first_segment_number) if chunk else (0, 0)
    return [
        *parts.arguments(graph_output),
        *chunk_output_options(chunk),
        "-map_metadata", "-1",
        "-map_chapters", "-1",
        # A chunk's timestamps continue the rendition's: its start on the media timeline.
        "-output_ts_offset", _seconds(MEDIA_START_SECONDS + start),
        *hls_options(job.segment_seconds, out_dir, first_segment=first_segment),
    ]  # fmt: skip


def chunk_input_options(chunk: ChunkSpec | None) -> list[str]:
    """Seek the input to the chunk's start: FFmpeg reads from the keyframe before it (HTTP
    range reads of only that part of the source) and drops the frames before the start."""
    return (
        [] if chunk is None or chunk.start_seconds == 0 else ["-ss", _seconds(chunk.start_seconds)]
    )


def chunk_output_options(chunk: ChunkSpec | None) -> list[str]:
    """Exactly the chunk's frames: the output (after the fps filter) stops at its length.
    The last chunk runs to the end of the source, so no frame past the probe's duration
    is lost."""
    return [] if chunk is None or chunk.is_last else ["-t", _seconds(chunk.duration_seconds)]


def _seconds(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def build_job_command(
    job: TranscodeJob,
    input_url: str,
    out_root: Path,
    *,
    ffmpeg: str = "ffmpeg",
    audio_filters: Mapping[str, str] | None = None,
) -> list[str]:
    """A single job's command into `out_root`; a grouped job's one-decode command, each
    member rendition into `out_root / rendition.name`. `audio_filters`: by rendition name."""
    filters = audio_filters or {}
    if not job.group:
        return build_ffmpeg_command(
            job, input_url, out_root, ffmpeg=ffmpeg, audio_filter=filters.get(job.name)
        )
    members = job.members()
    return build_single_decode_command(
        members,
        input_url,
        [out_root / member.name for member in members],
        ffmpeg=ffmpeg,
        audio_filters=filters,
    )


def build_single_decode_command(
    jobs: Sequence[TranscodeJob],
    input_url: str,
    out_dirs: Sequence[Path],
    *,
    ffmpeg: str = "ffmpeg",
    audio_filters: Mapping[str, str] | None = None,
) -> list[str]:
    """One FFmpeg process that decodes `input_url` once and writes every (single) job's
    rendition into its own `out_dirs` entry.

    Each output is its single job's (`output_arguments` of its `rendition_parts`), except
    that a video job's filter chain runs in a `-filter_complex` behind a `split` of the one
    decoded stream, and its `-map` takes that chain's output. So encoder settings, GOP,
    segmenting, timestamp offset and muxer options are the single job's, output for output.
    """
    if not jobs:
        raise ValueError("no jobs")
    if len(out_dirs) != len(jobs):
        raise ValueError(f"{len(jobs)} jobs but {len(out_dirs)} output directories")
    outputs: list[str] = []
    chains: list[str] = []
    for job, out_dir in zip(jobs, out_dirs, strict=True):
        if job.group:
            raise ValueError(f"job {job.name} is a group: pass its members()")
        if job.chunk != jobs[0].chunk:
            raise ValueError(f"job {job.name} is another chunk: one decode reads one time range")
        parts = rendition_parts(job, (audio_filters or {}).get(job.name))
        label = None
        if isinstance(job.rendition, VideoRendition):
            label = f"v{len(chains)}"
            chains.append(parts.filters)
        outputs += output_arguments(job, out_dir, parts, graph_output=label)
    graph = []
    if chains:
        splits = "".join(f"[s{index}]" for index in range(len(chains)))
        graph.append(f"[{VIDEO_STREAM}]split={len(chains)}{splits}")
        graph += [f"[s{index}]{chain}[v{index}]" for index, chain in enumerate(chains)]
    filter_args = ["-filter_complex", ";".join(graph)] if graph else []
    return [
        ffmpeg,
        *input_arguments(jobs[0], input_url),
        "-i",
        input_url,
        *filter_args,
        *outputs,
    ]


def input_options(input_url: str) -> list[str]:
    """What FFmpeg may open for this source, and reconnect options for HTTP(S) sources
    (FFmpeg rejects them for local files)."""
    reconnect = input_url.startswith(("http://", "https://"))
    return [*input_safety_options(input_url), *(_HTTP_INPUT_OPTIONS if reconnect else ())]


def input_safety_options(url: str) -> list[str]:
    """Only the protocols the source's URL needs (by scheme: https on AWS, http offline,
    a file for local runs) and only the accepted demuxers; nested opens inherit both."""
    scheme = urlsplit(url).scheme.lower()  # "concat:a|b" too: FFmpeg reads it as a protocol
    if scheme not in _PROTOCOLS:
        raise UnsupportedJobError(f"no protocol allow-list for a {scheme!r} source")
    return [
        "-protocol_whitelist", _PROTOCOLS[scheme],
        "-format_whitelist", ",".join(ACCEPTED_DEMUXERS),
    ]  # fmt: skip


def video_options(
    rendition: VideoRendition, gop_seconds: float, source: SourceHints | None = None
) -> OutputParts:
    source = source or SourceHints()
    gop = gop_frames(gop_seconds, rendition.frame_rate)
    filters = [
        *deinterlace_filters(source, keep_fields=True),
        f"fps={frame_rate_arg(rendition.frame_rate)}",  # before scaling: scale only frames kept
        *picture_filters(rendition.width, rendition.height, source.transfer),
        "setsar=1",
        "format=yuv420p",  # 8-bit 4:2:0, what every player decodes
    ]
    encoder = [
        "-fps_mode", "cfr",  # variable-rate sources come out at a constant rate
        *(_encoder_options(rendition, gop, gop_seconds)),
        *(SDR_BT709_TAGS if source.transfer != "sdr" else ()),
        # Keyframes at the same instants in every rung: fixed GOP, no scene cuts.
        "-force_key_frames", f"expr:gte(t,n_forced*{gop_seconds:g})",
    ]  # fmt: skip
    return OutputParts(
        stream=VIDEO_STREAM,
        excluded=("-an", "-sn", "-dn"),
        filter_option="-vf",
        filters=",".join(filters),
        encoder=tuple(encoder),
    )


def rate_control_options(rendition: VideoRendition) -> list[str]:
    """Capped CRF, every encoder's: the quality target, held under the rung's maximum
    bitrate with a buffer of twice that."""
    return [
        "-preset", rendition.preset,
        "-crf", str(rendition.crf),
        "-maxrate", f"{rendition.max_bitrate_kbps}k",
        "-bufsize", f"{2 * rendition.max_bitrate_kbps}k",
    ]  # fmt: skip


def _encoder_options(rendition: VideoRendition, gop: int, gop_seconds: float) -> list[str]:
    rate_control = rate_control_options(rendition)
    if rendition.codec == "av1":
        return av1_encoder_options(rendition, gop)
    if rendition.codec == "hevc":
        params = [
            f"keyint={gop}", f"min-keyint={gop}", "scenecut=0", "open-gop=0",
            "ssim=1", "log-level=info",  # the closing summary carries the SSIM
        ]  # fmt: skip
        return [
            "-c:v", "libx265",
            "-profile:v", "main",
            "-tag:v", "hvc1",  # parameter sets in the init segment: what Apple requires
            *rate_control,
            "-x265-params", ":".join(params),
        ]  # fmt: skip
    return [
        "-c:v", "libx264",
        "-profile:v", "high",
        *rate_control,
        "-g", str(gop),
        "-keyint_min", str(gop),
        "-sc_threshold", "0",
        "-ssim", "1",  # x264 measures its output against its input: SSIM at no extra decode
    ]  # fmt: skip


def av1_encoder_options(rendition: VideoRendition, gop: int) -> list[str]:
    """SVT-AV1, capped CRF like the other ladders. FFmpeg 5.1's libsvtav1 ignores
    -force_key_frames, so the 2 s keyframes come from the GOP alone: keyint of exactly
    one GOP, scene-change detection off (scd=0), closed GOPs of key frames (irefresh-type=2).
    SVT-AV1 reports no SSIM through FFmpeg (`reports_ssim`)."""
    params = [f"keyint={gop}", "scd=0", "irefresh-type=2"]
    return [
        "-c:v", "libsvtav1",
        *rate_control_options(rendition),  # -maxrate with -crf: SVT-AV1's capped CRF
        "-svtav1-params", ":".join(params),
    ]  # fmt: skip


def reports_ssim(rendition: VideoRendition) -> bool:
    """Whether the rendition's encoder logs its SSIM (x264's and x265's --ssim)."""
    return rendition.codec in ("h264", "hevc")


# Written on tone-mapped output so players do not treat it as BT.2020.
SDR_BT709_TAGS = (
    "-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709",
    "-color_range", "tv",
)  # fmt: skip
_ZSCALE_TRANSFER = {"pq": "smpte2084", "hlg": "arib-std-b67"}


def deinterlace_filters(source: SourceHints, *, keep_fields: bool) -> list[str]:
    """bwdif on interlaced sources. keep_fields: one frame per field (25i -> 50p, as
    Apple's spec prefers); otherwise one per frame (stills)."""
    if not source.interlaced:
        return []
    mode = "send_field" if keep_fields else "send_frame"
    return [f"bwdif=mode={mode}:parity=auto:deint=all"]


def picture_filters(
    width: int, height: int, transfer: Transfer, *, flags: str = "lanczos"
) -> list[str]:
    """Scale to exactly width x height; HDR (PQ, HLG) is also tone-mapped to SDR BT.709,
    at the output size (cheaper than at the source's), with zscale (zimg)."""
    if transfer == "sdr":
        return [f"scale={width}:{height}:flags={flags}"]
    return [
        f"zscale=w={width}:h={height}:filter={flags}:tin={_ZSCALE_TRANSFER[transfer]}"
        ":min=bt2020nc:pin=bt2020:rin=tv:t=linear:npl=100",
        "format=gbrpf32le",
        "zscale=p=bt709",
        "tonemap=tonemap=hable:desat=0",
        "zscale=t=bt709:m=bt709:r=tv",
    ]


def audio_options(
    rendition: AudioRendition, source: SourceHints | None = None, audio_filter: str | None = None
) -> OutputParts:
    encoder = (
        "-c:a", "aac",
        "-b:a", f"{rendition.bitrate_kbps}k",
        "-ac", str(rendition.channels),
        "-ar", str(rendition.sample_rate),
    )  # fmt: skip
    return OutputParts(
        stream=f"0:a:{audio_stream(rendition, source)}",
        excluded=("-vn", "-sn", "-dn"),
        filter_option="-af",
        filters=audio_filter or "",
        encoder=encoder,
    )


def audio_stream(rendition: AudioRendition, source: SourceHints | None = None) -> int:
    """The rendition's own stream (among the audio streams), or the source's default one."""
    if rendition.stream is not None:
        return rendition.stream
    return (source or SourceHints()).audio_stream


def hls_options(segment_seconds: int, out_dir: Path, *, first_segment: int = 0) -> list[str]:
    return [
        "-f", "hls",
        "-hls_time", str(segment_seconds),
        "-hls_playlist_type", "vod",
        "-hls_segment_type", "fmp4",
        # frag_discont: each fragment's tfdt is its packets' own time (10 s + position)
        # rather than the time since this process's first packet, and no edit list
        # carries the start. So a chunk's segments continue its rung's timeline, and
        # every chunk of a rung writes the very same init segment.
        "-hls_segment_options", "movflags=+frag_discont",
        "-start_number", str(first_segment),
        "-hls_fmp4_init_filename", INIT_NAME,  # written beside the playlist
        "-hls_segment_filename", str(out_dir / SEGMENT_PATTERN),
        "-hls_flags", "independent_segments",
        str(out_dir / PLAYLIST_NAME),
    ]  # fmt: skip


def build_probe_command(target: str, *, ffprobe: str = "ffprobe") -> list[str]:
    """ffprobe's stream description as JSON, with extradata (the decoder configuration).
    It reads the transcoder's own outputs (a `concat_target` of local files), never the
    upload, so it needs the concat protocol the source's allow-list refuses."""
    return [ffprobe, "-v", "error", "-show_streams", "-show_data", "-of", "json", target]


def concat_target(paths: Sequence[Path]) -> str:
    """One readable input made of files back to back (init segment + media segment)."""
    if any("|" in str(path) for path in paths):
        raise ValueError(f"cannot concatenate paths containing '|': {paths}")
    return "concat:" + "|".join(str(path) for path in paths)


def gop_frames(gop_seconds: float, frame_rate: float) -> int:
    return max(1, round(gop_seconds * frame_rate))


def frame_rate_arg(frame_rate: float) -> str:
    """An exact rational for FFmpeg: NTSC rates (29.97...) become n*1000/1001."""
    ntsc = round(frame_rate * 1.001)
    if abs(frame_rate - round(frame_rate)) > 1e-3 and abs(frame_rate - ntsc / 1.001) < 1e-3:
        return f"{ntsc * 1000}/1001"
    rate = Fraction(frame_rate).limit_denominator(1000)
    return str(rate.numerator) if rate.denominator == 1 else f"{rate.numerator}/{rate.denominator}"


def _check_segments_hold_whole_gops(job: TranscodeJob) -> None:
    # HLS cuts at the first keyframe after hls_time: a segment that is not a whole
    # number of GOPs would come out longer than asked, and differently per rung.
    gops = job.segment_seconds / job.gop_seconds
    if round(gops) < 1 or abs(gops - round(gops)) > 1e-6:
        raise UnsupportedJobError(
            f"segment_seconds={job.segment_seconds} is not a multiple of "
            f"gop_seconds={job.gop_seconds:g}"
        )
