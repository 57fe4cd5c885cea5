"""The MP4 download: one rung and the audio remuxed (no re-encoding) into a progressive MP4.

Finalise makes it after the ladder, from the rung's own fMP4 segments (init + every segment
in order: a fragmented MP4, chunked or not), streamed from S3 into FFmpeg's stdin, and the
audio rendition's, read from a temporary file. `-c copy` keeps every packet; `+faststart`
moves `moov` before `mdat` so a player can start before the whole file arrives. The media
timeline starts at the rung's first presentation time (10 s, `MEDIA_START_SECONDS`): with
`-copyts` and the same offset for both inputs the video starts at 0 and the AAC priming
stays before it (trimmed by the edit list), so audio and video keep their sync.

The object carries `Content-Disposition: attachment` with a file name from the title (at
processing time), which CloudFront passes on, and the CDN emulator too.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING
from urllib.parse import quote

from lambdas.pipeline.contract import JobResult

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

DOWNLOAD_FOLDER = "download"
MP4_CONTENT_TYPE = "video/mp4"
DOWNLOAD_CACHE_CONTROL = "max-age=86400"
FILENAME_MAX_CHARS = 100
STREAM_CHUNK_BYTES = 1024 * 1024
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9 ._()\-]+")
_UNSAFE_ANY = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|]+')


class DownloadFailed(Exception):
    """FFmpeg could not remux the rung's segments into an MP4."""


def download_key_for(video_id: str) -> str:
    return f"{video_id}/{DOWNLOAD_FOLDER}/video.mp4"


def short_side(result: JobResult) -> int:
    return min(result.width or 0, result.height or 0)


def pick_video(media: Sequence[JobResult], max_height: int) -> JobResult | None:
    """The largest H.264 rung whose short side (its name: "1080p") is at most `max_height`;
    None when downloads are off (0) or no rung is that small."""
    if max_height <= 0:
        return None
    fitting = [
        result
        for result in media
        if result.kind == "video"
        and result.codecs.startswith("avc1")
        and 0 < short_side(result) <= max_height
    ]
    return max(fitting, key=short_side, default=None)


def pick_audio(media: Sequence[JobResult]) -> JobResult | None:
    """The audio rendition (the source's default audio stream, the only one encoded)."""
    return next((result for result in media if result.kind == "audio"), None)


def content_disposition(title: str) -> str:
    """`attachment` with an ASCII `filename` (accents folded, anything unsafe replaced) and
    the UTF-8 title as RFC 5987's `filename*`, both ending in `.mp4`."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    ascii_name = _UNSAFE_ASCII.sub("_", folded).strip(" ._")[:FILENAME_MAX_CHARS].strip(" ._")
    unicode_name = _UNSAFE_ANY.sub("_", title).strip(" ._")[:FILENAME_MAX_CHARS].strip(" ._")
    ascii_name = ascii_name or "video"
    unicode_name = unicode_name or ascii_name
    return (
        f'attachment; filename="{ascii_name}.mp4"; '
        f"filename*=UTF-8''{quote(unicode_name + '.mp4', safe='')}"
    )


def remux_command(
    ffmpeg: str, audio_path: Path | None, output: Path, start_seconds: float
) -> list[str]:
    """The video arrives on stdin (a fragmented MP4); `start_seconds` is its first
    presentation time, which becomes 0 in the download."""
    inputs = ["-copyts", "-f", "mp4", "-i", "pipe:0"]
    maps = ["-map", "0:v:0"]
    if audio_path is not None:
        inputs += ["-f", "mp4", "-i", str(audio_path)]
        maps += ["-map", "1:a:0"]
    return [
        ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        *inputs,
        *maps,
        "-c", "copy",
        "-output_ts_offset", f"{-start_seconds:.6f}",
        "-movflags", "+faststart",
        "-f", "mp4", str(output),
    ]  # fmt: skip


def fragment_keys(result: JobResult) -> list[str]:
    return [result.init_key, *result.segment_keys]


def _stream_objects(s3: S3Client, bucket: str, keys: Iterable[str], sink: IO[bytes]) -> None:
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        for chunk in body.iter_chunks(STREAM_CHUNK_BYTES):
            sink.write(chunk)


def _write_objects(s3: S3Client, bucket: str, keys: Iterable[str], path: Path) -> None:
    with path.open("wb") as file:
        _stream_objects(s3, bucket, keys, file)


def remux(
    s3: S3Client,
    bucket: str,
    video: JobResult,
    audio: JobResult | None,
    output: Path,
    *,
    ffmpeg: str = "ffmpeg",
) -> None:
    """Writes the MP4 to `output`; the video is streamed, so the disk holds the audio and
    the MP4 only."""
    audio_path = None
    if audio is not None:
        audio_path = output.with_name("audio.mp4")
        _write_objects(s3, bucket, fragment_keys(audio), audio_path)
    command = remux_command(ffmpeg, audio_path, output, video.start_seconds)
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=log)
        stdin = process.stdin
        assert stdin is not None
        feed_error: list[BaseException] = []

        def feed() -> None:
            try:
                _stream_objects(s3, bucket, fragment_keys(video), stdin)
            except BrokenPipeError:
                pass  # FFmpeg stopped reading: its exit code and log say why
            except Exception as error:  # reported once FFmpeg is done
                feed_error.append(error)
            finally:
                stdin.close()

        feeder = threading.Thread(target=feed, name="download-feed", daemon=True)
        feeder.start()
        code = process.wait()
        feeder.join()
        if feed_error:
            raise DownloadFailed(f"reading the {video.name} segments failed") from feed_error[0]
        if code != 0:
            log.seek(0)
            reason = log.read().decode(errors="replace").strip()[-500:]
            raise DownloadFailed(f"FFmpeg could not remux {video.name} (exit {code}): {reason}")


def make_download(
    s3: S3Client,
    bucket: str,
    video_id: str,
    title: str,
    media: Sequence[JobResult],
    *,
    max_height: int,
    ffmpeg: str = "ffmpeg",
) -> str | None:
    """Remuxes the download and uploads it; its key, or None when there is none to make."""
    video = pick_video(media, max_height)
    if video is None:
        return None
    key = download_key_for(video_id)
    with tempfile.TemporaryDirectory(prefix="download-") as workdir:
        output = Path(workdir) / "video.mp4"
        remux(s3, bucket, video, pick_audio(media), output, ffmpeg=ffmpeg)
        # What boto3's upload_file runs (multipart above 8 MiB), on the function's plain
        # botocore client; imported here, as only this upload needs it
        from s3transfer.manager import TransferManager

        with TransferManager(s3) as transfers:
            transfers.upload(
                str(output),
                bucket,
                key,
                extra_args={
                    "ContentType": MP4_CONTENT_TYPE,
                    "ContentDisposition": content_disposition(title),
                    "CacheControl": DOWNLOAD_CACHE_CONTROL,
                },
            ).result()
    return key
