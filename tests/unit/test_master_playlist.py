import m3u8
import pytest

from lambdas.pipeline.contract import JobResult
from lambdas.pipeline.master_playlist import build_master_playlist

MASTER = "vid/hls/master.m3u8"


def result(name: str, kind: str, peak: int, average: int, **extra: object) -> JobResult:
    return JobResult.model_validate(
        {
            "video_id": "vid",
            "name": name,
            "kind": kind,
            "playlist_key": f"vid/hls/{name}/index.m3u8",
            "init_key": f"vid/hls/{name}/init.mp4",
            "segment_keys": [f"vid/hls/{name}/seg_00000.m4s"],
            "segment_durations": [4.0],
            "codecs": "avc1.64001f" if kind == "video" else "mp4a.40.2",
            "duration_seconds": 4.0,
            "start_seconds": 10.0,
            "target_duration": 4,
            "average_bitrate_bps": average,
            "peak_bitrate_bps": peak,
            "output_bytes": 1000,
            "encode_wall_seconds": 1.0,
            "encode_cpu_seconds": 1.0,
            "peak_memory_bytes": 1,
            **extra,
        }
    )


def video(name: str, width: int, height: int, peak: int, average: int) -> JobResult:
    return result(name, "video", peak, average, width=width, height=height, frame_rate=25.0)


def test_master_declares_measured_peak_and_average_with_audio_and_relative_uris() -> None:
    text = build_master_playlist(
        [
            video("360p", 640, 360, 900_000, 700_000),
            video("720p", 1280, 720, 3_000_000, 2_000_000),
            result("audio", "audio", 130_000, 128_000),
        ],
        MASTER,
    )
    playlist = m3u8.loads(text)
    assert playlist.is_variant
    first, second = playlist.playlists
    assert first.uri == "720p/index.m3u8" and second.uri == "360p/index.m3u8"
    assert first.stream_info.bandwidth == 3_130_000
    assert first.stream_info.average_bandwidth == 2_128_000
    assert first.stream_info.codecs == "avc1.64001f,mp4a.40.2"
    assert first.stream_info.resolution == (1280, 720)
    assert first.stream_info.frame_rate == 25.0
    assert first.stream_info.audio == "audio"
    (audio,) = playlist.media
    assert audio.type == "AUDIO" and audio.uri == "audio/index.m3u8" and audio.default == "YES"
    assert audio.channels == "2"
    assert "#EXT-X-INDEPENDENT-SEGMENTS" in text


def test_hevc_rungs_follow_the_h264_ones_with_their_own_codecs() -> None:
    hevc = result(
        "720p-hevc", "video", 2_000_000, 1_500_000, width=1280, height=720, frame_rate=25.0
    ).model_copy(update={"codecs": "hvc1.1.6.L93.B0"})
    text = build_master_playlist(
        [
            hevc,
            video("360p", 640, 360, 900_000, 700_000),
            video("720p", 1280, 720, 3_000_000, 2_000_000),
            result("audio", "audio", 130_000, 128_000),
        ],
        MASTER,
    )

    playlist = m3u8.loads(text)

    assert [p.uri for p in playlist.playlists] == [
        "720p/index.m3u8",
        "360p/index.m3u8",
        "720p-hevc/index.m3u8",
    ]
    assert playlist.playlists[2].stream_info.codecs == "hvc1.1.6.L93.B0,mp4a.40.2"
    assert playlist.playlists[2].stream_info.bandwidth == 2_130_000


def test_av1_rungs_come_after_the_h264_and_hevc_ones_with_their_own_codecs() -> None:
    def rung(name: str, codecs: str, peak: int) -> JobResult:
        return result(
            name, "video", peak, peak // 2, width=1280, height=720, frame_rate=25.0
        ).model_copy(update={"codecs": codecs})

    text = build_master_playlist(
        [
            rung("720p-av1", "av01.0.05M.08", 1_000_000),
            rung("720p-hevc", "hvc1.1.6.L93.B0", 2_000_000),
            rung("360p-av1", "av01.0.01M.08", 400_000),
            rung("720p", "avc1.64001f", 3_000_000),
            result("audio", "audio", 130_000, 128_000),
        ],
        MASTER,
    )

    playlist = m3u8.loads(text)

    assert [(p.uri, p.stream_info.codecs) for p in playlist.playlists] == [
        ("720p/index.m3u8", "avc1.64001f,mp4a.40.2"),
        ("720p-hevc/index.m3u8", "hvc1.1.6.L93.B0,mp4a.40.2"),
        ("720p-av1/index.m3u8", "av01.0.05M.08,mp4a.40.2"),
        ("360p-av1/index.m3u8", "av01.0.01M.08,mp4a.40.2"),
    ]


def test_without_audio_there_is_no_audio_group() -> None:
    playlist = m3u8.loads(build_master_playlist([video("360p", 640, 360, 9, 8)], MASTER))
    assert not playlist.media
    assert playlist.playlists[0].stream_info.audio is None
    assert playlist.playlists[0].stream_info.codecs == "avc1.64001f"


def test_a_master_needs_a_video_rendition() -> None:
    with pytest.raises(ValueError, match="at least one video"):
        build_master_playlist([result("audio", "audio", 1, 1)], MASTER)
