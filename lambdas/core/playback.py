"""Signed playback URLs: CloudFront signed URLs with custom policies over only what a player
reads of a video: `{videoId}/hls/*` (caption tracks too, in `hls/subs/`), `{videoId}/dash/*`
and `{videoId}/thumbs/*`, and the MP4 download (`{videoId}/download/*`), never the rest of
the prefix (the transcoder's `jobs/` results).

A custom policy has one resource, so each folder gets its own policy: `signedQuery` (the
`Policy`, `Signature`, `Key-Pair-Id` a player appends to every playlist and segment it
fetches) covers `hls/`, where the segments of both manifests live; the DASH manifest and the
thumbnails are whole URLs signed for their own folder (a storyboard's sprite reuses the query
of its WebVTT).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from botocore.signers import CloudFrontSigner

from lambdas.core.status import VideoStatus

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import rsa

    from lambdas.core.models import VideoRecord

HLS_FOLDER = "hls"
DASH_FOLDER = "dash"
THUMBS_FOLDER = "thumbs"
PLAYER_FOLDERS = (HLS_FOLDER, DASH_FOLDER, THUMBS_FOLDER)
# The MP4 download (lambdas/pipeline/download.py): a whole URL signed for its own folder.
DOWNLOAD_FOLDER = "download"
SIGNED_FOLDERS = (*PLAYER_FOLDERS, DOWNLOAD_FOLDER)
SIGNATURES_KEPT = 4096
MAX_EXPIRY_STEP_SECONDS = 60


def expiry(now: datetime, ttl_seconds: int) -> datetime:
    """`now + ttl`, rounded down to a step of a tenth of the TTL (a minute at most): a video
    signed again within the step gets the same policy, so its signature is reused instead
    of costing another RSA signature (one per poster on every list). A URL stays valid at
    least `ttl - step`, never longer than the TTL."""
    step = max(1, min(MAX_EXPIRY_STEP_SECONDS, ttl_seconds // 10))
    end = int((now + timedelta(seconds=ttl_seconds)).timestamp())
    return datetime.fromtimestamp(end - end % step, UTC)


@dataclass(frozen=True)
class CdnConfig:
    scheme: str  # https (CloudFront) or http (the offline emulator)
    domain: str  # host[:port]
    key_pair_id: str
    ttl_seconds: int

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.domain}"


@dataclass(frozen=True)
class SignedAccess:
    query: str  # "Policy=...&Signature=...&Key-Pair-Id=..."
    expires_at: datetime


@dataclass(frozen=True)
class Playback:
    expires_at: str
    signed_query: str
    hls_url: str | None
    dash_url: str | None
    poster_url: str | None
    storyboard_image_url: str | None
    storyboard_vtt_url: str | None
    preview_urls: list[str]
    download_url: str | None = None


class MediaUrlSigner:
    """Signs access to one video's media prefix with the distribution's private key."""

    def __init__(self, config: CdnConfig, private_key_pem: str) -> None:
        # cryptography is imported by the first request that signs (it reads the key then),
        # not by every cold start.
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the CDN signing key must be an RSA private key (PEM)")
        self._key: rsa.RSAPrivateKey = key
        self._config = config
        self._signer = CloudFrontSigner(config.key_pair_id, self._rsa_sha1)
        self._signed = functools.lru_cache(maxsize=SIGNATURES_KEPT)(self._sign)

    def _rsa_sha1(self, message: bytes) -> bytes:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        # CloudFront verifies signed URLs with RSA-SHA1 (PKCS#1 v1.5); it defines the format.
        return self._key.sign(message, padding.PKCS1v15(), hashes.SHA1())

    def resource_for(self, video_id: str, folder: str) -> str:
        if folder not in SIGNED_FOLDERS:
            raise ValueError(f"players read only {SIGNED_FOLDERS}, not {folder!r}")
        return f"{self._config.base_url}/{quote(video_id)}/{folder}/*"

    def sign(self, video_id: str, folder: str, now: datetime | None = None) -> SignedAccess:
        expires_at = expiry(now or datetime.now(UTC), self._config.ttl_seconds)
        return self._signed(video_id, folder, expires_at)

    def _sign(self, video_id: str, folder: str, expires_at: datetime) -> SignedAccess:
        resource = self.resource_for(video_id, folder)
        policy = self._signer.build_policy(resource, expires_at)
        signed = self._signer.generate_presigned_url(resource, policy=policy)
        return SignedAccess(query=signed.split("?", 1)[1], expires_at=expires_at)

    def url(self, key: str, access: SignedAccess) -> str:
        return f"{self._config.base_url}/{quote(key)}?{access.query}"

    def playback_for(self, record: VideoRecord, now: datetime | None = None) -> Playback | None:
        """Signed URLs of everything a player needs, once a master playlist is published
        (COMPLETED, or PROCESSING with a provisional master)."""
        if not record.is_playable or not record.master_playlist_key:
            return None
        now = now or datetime.now(UTC)
        hls, dash, thumbs = (self.sign(record.video_id, folder, now) for folder in PLAYER_FOLDERS)

        def signed(key: str | None, access: SignedAccess) -> str | None:
            return self.url(key, access) if key else None

        thumbnails = record.thumbnails
        return Playback(
            expires_at=hls.expires_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            signed_query=hls.query,
            hls_url=signed(record.master_playlist_key, hls),
            dash_url=signed(record.dash_manifest_key, dash),
            poster_url=signed(thumbnails.poster_key, thumbs) if thumbnails else None,
            storyboard_image_url=signed(thumbnails.storyboard_image_key, thumbs)
            if thumbnails
            else None,
            storyboard_vtt_url=signed(thumbnails.storyboard_vtt_key, thumbs)
            if thumbnails
            else None,
            preview_urls=[self.url(str(k), thumbs) for k in thumbnails.preview_keys]
            if thumbnails
            else [],
            download_url=self.download_url(record, now),
        )

    def download_url(self, record: VideoRecord, now: datetime | None = None) -> str | None:
        """The MP4's signed URL, once the video is COMPLETED with a download."""
        if record.status != VideoStatus.COMPLETED or not record.download_key:
            return None
        return self.url(record.download_key, self.sign(record.video_id, DOWNLOAD_FOLDER, now))

    def poster_url(self, record: VideoRecord) -> str | None:
        if record.status != VideoStatus.COMPLETED or not record.thumbnails:
            return None
        return self.url(record.thumbnails.poster_key, self.sign(record.video_id, THUMBS_FOLDER))
