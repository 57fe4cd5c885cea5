"""Captions on the offline stack: a track added before the video completes is published by
finalise; a SubRip file added to a COMPLETED video is converted to WebVTT and appears in its
HLS master and DASH manifest without any new encode; an invalid file is refused naming its
line; deleting a track takes it out of both manifests. All through the API and the CDN."""

from __future__ import annotations

import json
import posixpath
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import m3u8
import pytest
import requests
import webvtt

from local.client import ApiClient, ApiError
from local.stack import OfflineStack
from tests.support.media import make_clip

MPD_NS = {"mpd": "urn:mpeg:dash:schema:mpd:2011"}
FRENCH_VTT = b"WEBVTT\n\n00:00:00.200 --> 00:00:01.500\nBonjour le port\n"
ENGLISH_SRT = (
    b"1\n00:00:00,500 --> 00:00:01,200\nHarbour at dusk\n\n"
    b"2\n00:00:01,300 --> 00:00:01,900\n<i>Boats</i> coming in\n"
)


def fetch(url: str) -> str:
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return response.text


def signed(url: str, query: str) -> str:
    return f"{url.split('?', 1)[0]}?{query}"


def subtitle_tracks(video: dict[str, Any]) -> dict[str, tuple[m3u8.Media, str]]:
    """Each SUBTITLES rendition of the master, with its WebVTT fetched through the CDN the
    way a player does (the master's signed query on every request)."""
    playback = video["playback"]
    master_url, query = playback["hlsUrl"], playback["signedQuery"]
    master = m3u8.loads(fetch(master_url))
    tracks: dict[str, tuple[m3u8.Media, str]] = {}
    for media in master.media:
        if media.type != "SUBTITLES":
            continue
        assert all(p.stream_info.subtitles == media.group_id for p in master.playlists)
        playlist_url = urljoin(master_url, media.uri)
        playlist = m3u8.loads(fetch(signed(playlist_url, query)))
        (segment,) = playlist.segments
        assert playlist.is_endlist
        assert segment.duration == pytest.approx(video["durationSeconds"], abs=0.01)
        vtt = requests.get(signed(urljoin(playlist_url, segment.uri), query), timeout=10)
        vtt.raise_for_status()
        assert vtt.headers["Content-Type"] == "text/vtt"
        tracks[media.language] = (media, vtt.text)
    return tracks


def dash_text_sets(video: dict[str, Any]) -> dict[str, str]:
    """Each text adaptation set's language and the WebVTT its BaseURL names (fetched)."""
    playback = video["playback"]
    mpd_url = playback["dashUrl"]
    root = ET.fromstring(fetch(mpd_url))
    found: dict[str, str] = {}
    for adaptation in root.findall("mpd:Period/mpd:AdaptationSet", MPD_NS):
        if adaptation.get("contentType") != "text":
            continue
        assert adaptation.get("mimeType") == "text/vtt"
        base = adaptation.find("mpd:Representation/mpd:BaseURL", MPD_NS)
        assert base is not None and base.text
        vtt_url = urljoin(mpd_url.split("?", 1)[0], base.text)
        found[str(adaptation.get("lang"))] = fetch(signed(vtt_url, playback["signedQuery"]))
    return found


def cue_texts(vtt: str) -> list[tuple[str, str, str]]:
    return [(c.start, c.end, c.text) for c in webvtt.from_string(vtt, strict=True).captions]


def encoded_media(stack: OfflineStack, video_id: str) -> dict[str, str]:
    """Every segment and init segment of the video, with its ETag."""
    s3 = stack.client("s3")
    listed = s3.list_objects_v2(Bucket=stack.config.names.media_bucket, Prefix=f"{video_id}/hls/")
    return {
        o["Key"]: o["ETag"]
        for o in listed.get("Contents", [])
        if posixpath.splitext(o["Key"])[1] in {".m4s", ".mp4"}
    }


def ffmpeg_reads_the_mpd(stack: OfflineStack, video_id: str, folder: Path) -> list[str]:
    """The video's media copied locally, its MPD opened by FFmpeg's own DASH demuxer: every
    audio and video stream decodes to the end; the stream types it found. (FFmpeg opens
    only media extensions unless told: `-allowed_extensions ALL` lets it read the .vtt.)"""
    s3 = stack.client("s3")
    bucket = stack.config.names.media_bucket
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{video_id}/")
    for item in listed.get("Contents", []):
        target = folder / item["Key"]
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(bucket, item["Key"], str(target))
    manifest = folder / video_id / "dash" / "manifest.mpd"
    read = ["-allowed_extensions", "ALL", "-i", str(manifest)]
    decode = ["-map", "0:v", "-map", "0:a", "-f", "null", "-"]
    subprocess.run(
        ["ffmpeg", "-v", "error", "-xerror", *read, *decode],
        check=True,
        capture_output=True,
    )
    probed = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", *read],
        check=True,
        capture_output=True,
    )
    return sorted(s["codec_type"] for s in json.loads(probed.stdout)["streams"])


def test_captions_are_published_with_the_video_and_republished_without_encoding(
    offline_stack: OfflineStack, tmp_path: Path
) -> None:
    client = ApiClient(offline_stack.api_url, offline_stack.token("captioner"))
    clip = make_clip(tmp_path / "harbour.mp4", width=640, height=360, seconds=2.0)
    created = client.create_video(clip, "Harbour", "video/mp4")
    video_id = created["video"]["id"]

    # Given a French WebVTT track added before the source is even uploaded
    french = client.add_captions(video_id, "fr", FRENCH_VTT, "vtt", label="Français")
    assert (french["language"], french["label"], french["cueCount"]) == ("fr", "Français", 1)
    client.upload(created["upload"], clip)

    # When the video completes, finalise has published it in both manifests
    video = client.wait_until_done(video_id, timeout_seconds=300)
    assert video["status"] == "COMPLETED", video
    tracks = subtitle_tracks(video)
    assert list(tracks) == ["fr"]
    media, vtt = tracks["fr"]
    assert media.name == "Français" and media.default == "NO" and media.autoselect == "YES"
    assert "X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000" in vtt
    assert cue_texts(vtt) == [("00:00:00.200", "00:00:01.500", "Bonjour le port")]
    assert list(dash_text_sets(video)) == ["fr"]
    executions = len(offline_stack.executions())
    encoded = encoded_media(offline_stack, video_id)
    assert encoded

    # And an English SubRip file added now is converted and republished, encoding nothing
    english = client.add_captions(video_id, "EN", ENGLISH_SRT, "srt")
    assert (english["language"], english["label"], english["sourceFormat"]) == ("en", "en", "srt")
    video = client.get_video(video_id)
    tracks = subtitle_tracks(video)
    assert sorted(tracks) == ["en", "fr"]
    assert cue_texts(tracks["en"][1]) == [
        ("00:00:00.500", "00:00:01.200", "Harbour at dusk"),
        ("00:00:01.300", "00:00:01.900", "Boats coming in"),
    ]
    dash = dash_text_sets(video)
    assert sorted(dash) == ["en", "fr"] and dash["en"] == tracks["en"][1]
    assert len(offline_stack.executions()) == executions
    assert encoded_media(offline_stack, video_id) == encoded
    listed = client.list_captions(video_id)["items"]
    assert [(c["language"], c["cueCount"]) for c in listed] == [("en", 2), ("fr", 1)]
    streams = ffmpeg_reads_the_mpd(offline_stack, video_id, tmp_path / "media")
    assert streams.count("subtitle") == 2 and "video" in streams and "audio" in streams

    broken_file_is_refused_naming_its_line(client, video_id)
    deleting_takes_a_track_out_of_both_manifests(offline_stack, client, video_id)

    # And the same language again replaces its track
    client.add_captions(video_id, "en", b"WEBVTT\n\n00:00:00.100 --> 00:00:00.900\nAgain\n", "vtt")
    tracks = subtitle_tracks(client.get_video(video_id))
    assert list(tracks) == ["en"]
    assert cue_texts(tracks["en"][1]) == [("00:00:00.100", "00:00:00.900", "Again")]
    assert len(offline_stack.executions()) == executions


def broken_file_is_refused_naming_its_line(client: ApiClient, video_id: str) -> None:
    # When a file with a broken cue is sent, it is refused naming the line, and nothing changes
    broken = ENGLISH_SRT.replace(b"00:00:01,300", b"00:00:01;300")
    with pytest.raises(ApiError) as refused:
        client.add_captions(video_id, "de", broken, "srt")
    assert refused.value.status == 422
    assert refused.value.body["code"] == "INVALID_CAPTIONS"
    assert refused.value.body["message"].startswith("line 5: ")
    assert refused.value.body["fields"][0]["field"] == "file"
    assert sorted(subtitle_tracks(client.get_video(video_id))) == ["en", "fr"]


def deleting_takes_a_track_out_of_both_manifests(
    offline_stack: OfflineStack, client: ApiClient, video_id: str
) -> None:
    # And deleting the French track takes it out of both manifests (and its files away)
    client.delete_captions(video_id, "fr")
    video = client.get_video(video_id)
    assert list(subtitle_tracks(video)) == ["en"]
    assert list(dash_text_sets(video)) == ["en"]
    with pytest.raises(ApiError) as missing:
        client.delete_captions(video_id, "fr")
    assert missing.value.status == 404
    s3 = offline_stack.client("s3")
    left = s3.list_objects_v2(
        Bucket=offline_stack.config.names.media_bucket, Prefix=f"{video_id}/hls/subs/fr/"
    )
    assert left.get("KeyCount") == 0


def test_caption_requests_are_checked_and_owner_only(
    offline_stack: OfflineStack, tmp_path: Path
) -> None:
    owner = ApiClient(offline_stack.api_url, offline_stack.token("caption-owner"))
    clip = make_clip(tmp_path / "tiny.mp4", width=320, height=180, seconds=1.0)
    video_id = owner.create_video(clip, "Tiny", "video/mp4")["video"]["id"]

    # A language that is not a BCP-47 tag, and a file over 1 MiB, are refused before any URL
    for body, status, field in [
        ({"language": "english", "format": "vtt", "sizeBytes": 10}, 400, "language"),
        ({"language": "en", "format": "vtt", "sizeBytes": 2 * 1024**2}, 413, "sizeBytes"),
        ({"language": "en", "format": "ass", "sizeBytes": 10}, 400, "format"),
    ]:
        with pytest.raises(ApiError) as refused:
            owner._request("POST", f"/videos/{video_id}/captions", json=body)
        assert refused.value.status == status, refused.value.body
        assert field in {f["field"] for f in refused.value.body["fields"]}

    # The presigned PUT is signed for the declared size: a longer file does not land
    created = owner._request(
        "POST",
        f"/videos/{video_id}/captions",
        json={"language": "en", "format": "vtt", "sizeBytes": 10},
    )
    upload = created["upload"]
    put = requests.put(upload["url"], data=FRENCH_VTT, headers=upload["headers"], timeout=10)
    assert put.status_code == 403

    # Another user sees no such video, for every caption route
    stranger = ApiClient(offline_stack.api_url, offline_stack.token("caption-stranger"))
    with pytest.raises(ApiError) as hidden:
        stranger.add_captions(video_id, "en", FRENCH_VTT, "vtt")
    assert hidden.value.status == 404
    for method, path in [
        ("GET", f"/videos/{video_id}/captions"),
        ("POST", f"/videos/{video_id}/captions/en/complete"),
        ("DELETE", f"/videos/{video_id}/captions/en"),
    ]:
        with pytest.raises(ApiError) as hidden:
            stranger._request(method, path)
        assert hidden.value.status == 404


def test_a_chunked_video_gets_its_captions_from_the_same_finalise(
    offline_stack: OfflineStack, tmp_path: Path
) -> None:
    # Given a source of two 4 s chunks, with a track added before it is uploaded
    original = offline_stack.config.chunk_seconds
    offline_stack.use_chunk_seconds(4)
    try:
        client = ApiClient(offline_stack.api_url, offline_stack.token("chunk-captioner"))
        clip = make_clip(tmp_path / "two-chunks.mp4", width=320, height=180, seconds=8.0)
        created = client.create_video(clip, "Two chunks", "video/mp4")
        video_id = created["video"]["id"]
        client.add_captions(video_id, "fr", FRENCH_VTT, "vtt")
        client.upload(created["upload"], clip)
        video = client.wait_until_done(video_id, timeout_seconds=300)
    finally:
        offline_stack.use_chunk_seconds(original)

    # Then the stitched video's master and MPD carry the track over its whole duration
    assert video["status"] == "COMPLETED", video
    jobs = offline_stack.client("s3").list_objects_v2(
        Bucket=offline_stack.config.names.media_bucket, Prefix=f"{video_id}/jobs/"
    )
    chunk_results = [o["Key"] for o in jobs.get("Contents", []) if "/chunk-" in o["Key"]]
    assert len(chunk_results) >= 2, chunk_results  # it was encoded in chunks
    tracks = subtitle_tracks(video)
    assert list(tracks) == ["fr"]
    assert cue_texts(tracks["fr"][1]) == [("00:00:00.200", "00:00:01.500", "Bonjour le port")]
    assert list(dash_text_sets(video)) == ["fr"]
