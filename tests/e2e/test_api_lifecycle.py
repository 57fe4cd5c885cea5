"""A video's whole life through the API on the offline stack: a multipart upload that is
interrupted and resumed, processing, signed playback through the CDN emulator, the public
catalog, events for integrators, reprocessing after a failure, and deletion."""

from __future__ import annotations

import json
import os
import struct
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import m3u8
import pytest
import requests

from lambdas.api.dependencies import get_signer
from local.client import ApiClient, ApiError
from local.stack import OfflineStack
from tests.support.media import make_clip

PART = 16 * 1024 * 1024  # the API's default part size: each part URL signs its size
PADDING = 2 * PART + 1024 * 1024  # the clip plus this makes three parts

pytestmark = pytest.mark.slow


def padded_clip(path: Path) -> Path:
    """A short real clip grown past two parts by an MP4 `free` box, which players and FFmpeg
    skip: a multipart upload without minutes of video to transcode."""
    make_clip(path, width=640, height=360, seconds=2.0)
    with path.open("ab") as clip:
        clip.write(struct.pack(">I4s", 8 + PADDING, b"free") + bytes(PADDING))
    return path


def events_for(stack: OfflineStack, video_id: str) -> list[dict[str, Any]]:
    return [e for e in stack.video_events() if e["detail"]["videoId"] == video_id]


def executions_for(stack: OfflineStack, video_id: str) -> list[dict[str, Any]]:
    return [e for e in stack.executions() if e["name"].startswith(video_id)]


def plan_fault(video_id: str, **plan: Any) -> None:
    """The fault-injecting transcoder (tests/support/faults.py) reads this plan."""
    path = Path(os.environ["STREAMFORGE_FAULT_PLAN"])
    plans = json.loads(path.read_text())
    plans[video_id] = plan
    path.write_text(json.dumps(plans))


@dataclass(frozen=True)
class Resumed:
    client: ApiClient
    video_id: str
    parts_after_interruption: list[dict[str, Any]]
    completed: dict[str, Any]
    second_completion: ApiError
    video: dict[str, Any]


@pytest.fixture(scope="module")
def resumed(offline_stack: OfflineStack, tmp_path_factory: pytest.TempPathFactory) -> Resumed:
    """Given a 3-part multipart upload whose first session dies after part 1, when a second
    session (a reload) lists the parts, uploads the rest and completes, then the video is
    processed."""
    clip = padded_clip(tmp_path_factory.mktemp("resume") / "holiday.mp4")
    first = ApiClient(offline_stack.api_url, offline_stack.token("rosa"))
    created = first.create_video(clip, "Resumed holiday", "video/mp4", multipart=True)
    video_id = created["video"]["id"]
    assert created["upload"]["partSizeBytes"] == PART
    first.upload_parts(video_id, clip, PART, numbers=[1])  # ...and the tab is closed

    second = ApiClient(offline_stack.api_url, offline_stack.token("rosa"))
    listed = second.list_parts(video_id)
    done = {part["PartNumber"] for part in listed}
    count = -(-clip.stat().st_size // PART)
    rest = second.upload_parts(
        video_id, clip, PART, numbers=[n for n in range(1, count + 1) if n not in done]
    )
    already = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed]
    completed = second.complete_upload(video_id, already + rest)
    try:
        second.complete_upload(video_id, already + rest)
        raise AssertionError("completing twice succeeded")
    except ApiError as error:
        twice = error
    video = second.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)
    return Resumed(second, video_id, listed, completed, twice, video)


def test_an_interrupted_multipart_upload_resumes_and_completes(
    offline_stack: OfflineStack, resumed: Resumed
) -> None:
    assert [p["PartNumber"] for p in resumed.parts_after_interruption] == [1]
    assert resumed.parts_after_interruption[0]["Size"] == PART
    assert resumed.completed["video"]["status"] in {"UPLOADED", "PROCESSING", "COMPLETED"}
    assert resumed.second_completion.status == 409
    assert resumed.second_completion.body["code"] == "UPLOAD_ALREADY_COMPLETED"

    video = resumed.client.get_video(resumed.video_id)
    assert video["status"] == "COMPLETED", video["error"]
    assert video["uploadedAt"] and video["processedAt"] and video["durationSeconds"]
    assert {"audio"} < {r["name"] for r in video["renditions"]}
    assert all(r["taskArn"] for r in video["renditions"])
    stages = [entry["stage"] for entry in video["processingLog"]]
    assert stages[:2] == ["claim", "probe"] and stages[-2:] == ["finalise", "download"]
    assert {f"transcode:{r['name']}" for r in video["renditions"]} <= set(stages)
    assert all(entry["outcome"] == "SUCCEEDED" for entry in video["processingLog"])
    # one run, named by the state machine and handed to every stage (never read back)
    runs = {entry["executionArn"] for entry in video["processingLog"]}
    assert len(runs) == 1 and next(iter(runs)).startswith("arn:aws:states:"), runs

    ready = events_for(offline_stack, resumed.video_id)
    assert [e["detail-type"] for e in ready] == ["VideoReady"]
    assert ready[0]["source"] == "streamforge"
    assert ready[0]["detail"]["status"] == "COMPLETED"


def test_signed_playback_streams_the_master_playlist_and_a_segment(resumed: Resumed) -> None:
    playback = resumed.client.get_video(resumed.video_id)["playback"]
    expires = datetime.fromisoformat(playback["expiresAt"].replace("Z", "+00:00"))
    assert expires > datetime.now(UTC)
    query = playback["signedQuery"]
    assert {"Policy", "Signature", "Key-Pair-Id"} == {p.split("=")[0] for p in query.split("&")}

    master = requests.get(playback["hlsUrl"], timeout=30)
    assert master.status_code == 200
    assert master.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    variant_url = urljoin(playback["hlsUrl"], m3u8.loads(master.text).playlists[0].uri)

    # As the player does: the same signature appended to every request.
    variant = requests.get(f"{variant_url}?{query}", timeout=30)
    assert variant.status_code == 200
    media = m3u8.loads(variant.text)
    init = requests.get(f"{urljoin(variant_url, media.segment_map[0].uri)}?{query}", timeout=30)
    segment_url = f"{urljoin(variant_url, media.segments[0].uri)}?{query}"
    segment = requests.get(segment_url, timeout=30)
    assert init.status_code == segment.status_code == 200
    assert len(segment.content) > 1000

    ranged = requests.get(segment_url, headers={"Range": "bytes=0-99"}, timeout=30)
    assert ranged.status_code == 206 and len(ranged.content) == 100
    assert ranged.headers["Content-Range"].startswith("bytes 0-99/")


def _tampered(text: str, at: int) -> str:
    """`text` with its character at `at` replaced by another one (never by itself: a
    signature that happens to start with the replacement would pass untampered)."""
    index = at % len(text)
    other = "B" if text[index] == "A" else "A"
    return text[:index] + other + text[index + 1 :]


def test_tampered_or_expired_playback_urls_get_403(
    offline_stack: OfflineStack, resumed: Resumed
) -> None:
    playback = resumed.client.get_video(resumed.video_id)["playback"]
    master = playback["hlsUrl"]
    base, query = master.split("?", 1)
    params = dict(p.split("=", 1) for p in query.split("&"))
    signer = get_signer()  # the API's own signer, to make a genuinely signed but expired URL
    expired = signer.sign(resumed.video_id, "hls", now=datetime.now(UTC) - timedelta(days=1)).query
    another_video = signer.sign("0" * 32, "hls").query

    def with_params(**changes: str) -> str:
        return base + "?" + "&".join(f"{k}={v}" for k, v in {**params, **changes}.items())

    refused = {
        "no signature": base,
        "tampered signature": with_params(Signature=_tampered(params["Signature"], 0)),
        "tampered policy": with_params(Policy=_tampered(params["Policy"], -5)),
        "unknown key pair": with_params(**{"Key-Pair-Id": "KSOMEONEELSE"}),
        "expired": f"{base}?{expired}",
        "another video's signature": f"{base}?{another_video}",
    }
    # the player's signature covers hls/, not the transcoder's results beside it
    jobs = offline_stack.client("s3").list_objects_v2(
        Bucket=offline_stack.config.names.media_bucket, Prefix=f"{resumed.video_id}/jobs/"
    )["Contents"]
    refused["a job result under the player's signature"] = (
        f"{offline_stack.cdn_url}/{jobs[0]['Key']}?{playback['signedQuery']}"
    )
    for case, url in refused.items():
        response = requests.get(url, timeout=30)
        assert response.status_code == 403, case
    assert requests.get(master, timeout=30).status_code == 200


def test_the_cdn_answers_the_web_apps_origin(offline_stack: OfflineStack, resumed: Resumed) -> None:
    assert offline_stack.cdn is not None
    offline_stack.cdn.allow_origin("http://web.test")
    master = resumed.client.get_video(resumed.video_id)["playback"]["hlsUrl"]
    response = requests.get(master, headers={"Origin": "http://web.test"}, timeout=30)
    assert response.headers["Access-Control-Allow-Origin"] == "http://web.test"
    preflight = requests.options(master, headers={"Origin": "http://web.test"}, timeout=30)
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_a_public_video_is_in_the_catalog_until_made_private(
    offline_stack: OfflineStack, resumed: Resumed
) -> None:
    catalog_url = f"{offline_stack.api_url}/catalog"
    resumed.client.update_video(resumed.video_id, visibility="public")
    listed = requests.get(catalog_url, timeout=30).json()["items"]
    assert resumed.video_id in [v["id"] for v in listed]
    public = requests.get(f"{catalog_url}/{resumed.video_id}", timeout=30).json()
    assert public["title"] == "Resumed holiday" and "ownerId" not in public
    assert requests.get(public["playback"]["hlsUrl"], timeout=30).status_code == 200
    # Anyone can watch it now, but only the owner can change it.
    other = ApiClient(offline_stack.api_url, offline_stack.token("sam"))
    with pytest.raises(ApiError) as refused:
        other.update_video(resumed.video_id, title="mine")
    assert refused.value.status == 404

    resumed.client.update_video(resumed.video_id, visibility="private")
    listed = requests.get(catalog_url, timeout=30).json()["items"]
    assert resumed.video_id not in [v["id"] for v in listed]
    hidden = requests.get(f"{catalog_url}/{resumed.video_id}", timeout=30)
    assert hidden.status_code == 404


def test_delete_removes_source_media_and_record(
    offline_stack: OfflineStack, resumed: Resumed
) -> None:
    """Runs last in this module: it deletes the shared video."""
    s3 = offline_stack.client("s3")
    names = offline_stack.config.names
    master = resumed.client.get_video(resumed.video_id)["playback"]["hlsUrl"]

    def keys(bucket: str) -> int:
        listed = s3.list_objects_v2(Bucket=bucket, Prefix=f"{resumed.video_id}/")
        return int(listed.get("KeyCount", 0))

    assert keys(names.uploads_bucket) == 1 and keys(names.media_bucket) > 5
    resumed.client.delete_video(resumed.video_id)
    resumed.client.delete_video(resumed.video_id)  # again: still fine

    assert keys(names.uploads_bucket) == 0 and keys(names.media_bucket) == 0
    with pytest.raises(ApiError) as gone:
        resumed.client.get_video(resumed.video_id)
    assert gone.value.status == 404
    assert requests.get(master, timeout=30).status_code == 403
    table = offline_stack.client("dynamodb")
    items = table.query(
        TableName=names.table,
        KeyConditionExpression="pk = :id",
        ExpressionAttributeValues={":id": {"S": resumed.video_id}},
    )["Items"]
    assert [item["sk"]["S"] for item in items] == ["VIDEO"]  # the log is gone too
    tombstone = items[0]
    assert tombstone["status"]["S"] == "DELETED" and "owner_id" not in tombstone
    assert tombstone["title"]["S"] == "" and int(tombstone["expires_at"]["N"]) > time.time()


def test_reprocess_after_a_failure_starts_a_new_execution(
    offline_stack: OfflineStack, tmp_path: Path
) -> None:
    """Given a transcoder that dies on every attempt of a run, the video FAILS; reprocessing
    runs a new execution, which (the fault being gone) completes it."""
    clip = make_clip(tmp_path / "flaky.mp4", width=640, height=360, seconds=2.0)
    client = ApiClient(offline_stack.api_url, offline_stack.token("tia"))
    created = client.create_video(clip, "Flaky", "video/mp4")
    video_id = created["video"]["id"]
    plan_fault(video_id, job="audio", attempts=3)  # the state machine tries 3 times
    client.upload(created["upload"], clip)
    client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)
    # read again once the run has ended: FAILED shows before the failure is logged
    failed = client.get_video(video_id)
    assert failed["status"] == "FAILED" and failed["error"]["code"] == "TRANSCODE_FAILED"
    assert "audio rendition failed on every attempt" in failed["error"]["message"]
    assert failed["processingLog"][-1]["stage"] == "failure"
    assert [e["detail-type"] for e in events_for(offline_stack, video_id)] == ["VideoFailed"]

    started = client.reprocess(video_id)
    assert started["video"]["status"] == "UPLOADED" and started["video"]["error"] is None
    assert "-reprocess-" in started["executionArn"]
    with pytest.raises(ApiError) as twice:
        client.reprocess(video_id)
    assert twice.value.status == 409

    video = client.wait_until_done(video_id, timeout_seconds=300)
    offline_stack.wait_for_executions(timeout_seconds=120)
    assert video["status"] == "COMPLETED", video["error"]
    runs = executions_for(offline_stack, video_id)
    assert len(runs) == 2 and {r["status"] for r in runs} == {"FAILED", "SUCCEEDED"}
    assert started["executionArn"] in {r["executionArn"] for r in runs}
    kinds = [e["detail-type"] for e in events_for(offline_stack, video_id)]
    assert kinds == ["VideoFailed", "VideoReady"]
