"""The API's CloudFront signer against the CDN emulator's verifier: the same format both
ways (custom policy, CloudFront's URL-safe base64, RSA-SHA1), wildcards and conditions."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lambdas.core.models import ThumbnailsAttribute, VideoRecord
from lambdas.core.playback import CdnConfig, MediaUrlSigner
from lambdas.core.status import VideoStatus
from local.auth import private_key_pem
from local.cdn import Forbidden, SignedUrlVerifier, content_type_for, resource_matches

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CONFIG = CdnConfig(scheme="https", domain="d111.cloudfront.net", key_pair_id="K1", ttl_seconds=60)
SIGNER = MediaUrlSigner(CONFIG, private_key_pem(KEY))
VERIFIER = SignedUrlVerifier(KEY.public_key(), "K1")
BASE = "https://d111.cloudfront.net"


def query_of(video_id: str, now: datetime | None = None, folder: str = "hls") -> dict[str, str]:
    return dict(parse_qsl(SIGNER.sign(video_id, folder, now).query))


def policy_of(url: str) -> dict[str, object]:
    policy = dict(parse_qsl(url.split("?", 1)[1]))["Policy"]
    document: dict[str, object] = json.loads(
        base64.b64decode(policy.translate(str.maketrans("-_~", "+=/")))
    )
    return document


def cloudfront_b64(data: bytes) -> str:
    return base64.b64encode(data).decode().translate(str.maketrans("+=/", "-_~"))


def signed_policy(statement: dict[str, object]) -> dict[str, str]:
    policy = json.dumps({"Statement": [statement]}).encode()
    signature = KEY.sign(policy, padding.PKCS1v15(), hashes.SHA1())
    return {
        "Policy": cloudfront_b64(policy),
        "Signature": cloudfront_b64(signature),
        "Key-Pair-Id": "K1",
    }


def test_a_signature_covers_one_player_folder_of_the_video() -> None:
    query = query_of("abc")
    policy = json.loads(base64.b64decode(query["Policy"].translate(str.maketrans("-_~", "+=/"))))
    assert policy["Statement"][0]["Resource"] == f"{BASE}/abc/hls/*"
    for key in ("abc/hls/master.m3u8", "abc/hls/720p/seg_00001.m4s", "abc/hls/audio/init.mp4"):
        VERIFIER.verify(f"{BASE}/{key}", query, "127.0.0.1")
    for key in ("abc/jobs/rung-720p.json", "abc/thumbs/poster.jpg", "abc/source", "abd/hls/m.m3u8"):
        with pytest.raises(Forbidden):
            VERIFIER.verify(f"{BASE}/{key}", query, "127.0.0.1")
    with pytest.raises(ValueError, match="players read only"):
        SIGNER.sign("abc", "jobs")


def test_playback_signs_each_folder_for_itself_and_nothing_for_jobs() -> None:
    # Given a COMPLETED video with HLS, DASH and thumbnails
    record = VideoRecord(
        pk="abc",
        status=VideoStatus.COMPLETED.value,
        master_playlist_key="abc/hls/master.m3u8",
        dash_manifest_key="abc/dash/manifest.mpd",
        thumbnails=ThumbnailsAttribute(
            poster_key="abc/thumbs/poster.jpg",
            preview_keys=["abc/thumbs/preview_1.jpg"],
            storyboard_image_key="abc/thumbs/storyboard.jpg",
            storyboard_vtt_key="abc/thumbs/storyboard.vtt",
        ),
    )
    # When the API signs its playback
    playback = SIGNER.playback_for(record)
    assert playback is not None and playback.hls_url and playback.dash_url
    # Then each URL is signed for its own folder, and the shared query for hls/ only
    resources = {
        url.split("?", 1)[0]: policy_of(url)["Statement"][0]["Resource"]  # type: ignore[index]
        for url in (
            playback.hls_url,
            playback.dash_url,
            playback.poster_url,
            playback.storyboard_vtt_url,
            *playback.preview_urls,
        )
        if url
    }
    assert resources == {
        f"{BASE}/abc/hls/master.m3u8": f"{BASE}/abc/hls/*",
        f"{BASE}/abc/dash/manifest.mpd": f"{BASE}/abc/dash/*",
        f"{BASE}/abc/thumbs/poster.jpg": f"{BASE}/abc/thumbs/*",
        f"{BASE}/abc/thumbs/storyboard.vtt": f"{BASE}/abc/thumbs/*",
        f"{BASE}/abc/thumbs/preview_1.jpg": f"{BASE}/abc/thumbs/*",
    }
    shared = dict(parse_qsl(playback.signed_query))
    VERIFIER.verify(f"{BASE}/abc/hls/360p/seg_00001.m4s", shared, "127.0.0.1")
    with pytest.raises(Forbidden):
        VERIFIER.verify(f"{BASE}/abc/jobs/rung-360p.json", shared, "127.0.0.1")


def test_the_download_is_signed_for_its_own_folder_once_completed() -> None:
    # Given a video with an MP4 download, COMPLETED and (early playback) still PROCESSING
    def record(status: VideoStatus) -> VideoRecord:
        return VideoRecord(
            pk="abc",
            status=status.value,
            master_playlist_key="abc/hls/master.m3u8",
            download_key="abc/download/video.mp4",
            playable_at="2026-01-01T00:00:00Z",
        )

    completed, processing = record(VideoStatus.COMPLETED), record(VideoStatus.PROCESSING)
    # When the API signs their playback
    playback = SIGNER.playback_for(completed)
    early = SIGNER.playback_for(processing)
    # Then the COMPLETED one has a download URL that opens the download/ folder only
    assert playback is not None and playback.download_url
    assert playback.download_url.startswith(f"{BASE}/abc/download/video.mp4?")
    assert policy_of(playback.download_url)["Statement"][0]["Resource"] == (  # type: ignore[index]
        f"{BASE}/abc/download/*"
    )
    query = dict(parse_qsl(playback.download_url.split("?", 1)[1]))
    VERIFIER.verify(f"{BASE}/abc/download/video.mp4", query, "127.0.0.1")
    with pytest.raises(Forbidden):
        VERIFIER.verify(f"{BASE}/abc/hls/master.m3u8", query, "127.0.0.1")
    # ... and a video still encoding offers none yet
    assert early is not None and early.download_url is None


def test_a_video_signed_again_within_the_expiry_step_reuses_its_signature() -> None:
    # Given the 60 s TTL: expiries fall on 6 s steps
    start = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    first = SIGNER.sign("abc", "thumbs", start)
    # Then within the step the same policy and signature come back, and the next step is new
    assert SIGNER.sign("abc", "thumbs", start + timedelta(seconds=5)) == first
    later = SIGNER.sign("abc", "thumbs", start + timedelta(seconds=6))
    assert later.query != first.query and later.expires_at > first.expires_at
    # And a signature never outlives the TTL, nor ends more than a step early
    for offset in range(12):
        now = start + timedelta(seconds=offset, milliseconds=300)
        expires_at = SIGNER.sign("abc", "hls", now).expires_at
        assert now + timedelta(seconds=54) < expires_at <= now + timedelta(seconds=60)
    assert SIGNER.sign("abd", "thumbs", start).query != first.query  # each video its own


def test_expired_and_not_yet_valid_policies_are_refused() -> None:
    expired = query_of("abc", now=datetime.now(UTC) - timedelta(minutes=2))
    with pytest.raises(Forbidden, match="expired"):
        VERIFIER.verify(f"{BASE}/abc/hls/x", expired, "127.0.0.1")
    now = datetime.now(UTC).timestamp()
    later = signed_policy(
        {
            "Resource": f"{BASE}/abc/*",
            "Condition": {
                "DateLessThan": {"AWS:EpochTime": int(now + 600)},
                "DateGreaterThan": {"AWS:EpochTime": int(now + 300)},
            },
        }
    )
    with pytest.raises(Forbidden, match="not valid yet"):
        VERIFIER.verify(f"{BASE}/abc/x", later, "127.0.0.1")


def test_an_ip_condition_is_enforced() -> None:
    query = signed_policy(
        {
            "Resource": f"{BASE}/abc/*",
            "Condition": {
                "DateLessThan": {"AWS:EpochTime": int(datetime.now(UTC).timestamp() + 60)},
                "IpAddress": {"AWS:SourceIp": "10.0.0.0/8"},
            },
        }
    )
    VERIFIER.verify(f"{BASE}/abc/x", query, "10.1.2.3")
    with pytest.raises(Forbidden):
        VERIFIER.verify(f"{BASE}/abc/x", query, "127.0.0.1")


@pytest.mark.parametrize(
    "change",
    [
        {"Key-Pair-Id": "K2"},
        {"Signature": "AAAA"},
        {"Signature": "%%%"},
        {"Policy": cloudfront_b64(b'{"Statement":[{"Resource":"*"}]}')},
    ],
)
def test_tampering_is_refused(change: dict[str, str]) -> None:
    with pytest.raises(Forbidden):
        VERIFIER.verify(f"{BASE}/abc/hls/x", {**query_of("abc"), **change}, "127.0.0.1")


def test_wildcards_match_as_cloudfront_does() -> None:
    assert resource_matches("https://d/abc/*", "https://d/abc/hls/a.m3u8")
    assert resource_matches("https://d/ab?/x", "https://d/abc/x")
    assert not resource_matches("https://d/abc/*", "https://d/abcd/x")
    assert not resource_matches("https://d/a.c/*", "https://d/abc/x")  # '.' is literal


def test_media_gets_its_content_type() -> None:
    assert content_type_for("v/hls/master.m3u8", None) == "application/vnd.apple.mpegurl"
    assert content_type_for("v/hls/720p/seg_1.m4s", "binary/octet-stream") == "video/iso.segment"
    assert content_type_for("v/dash/manifest.mpd", None) == "application/dash+xml"
    assert content_type_for("v/thumbs/poster.jpg", "image/jpeg") == "image/jpeg"
