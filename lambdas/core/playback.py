"""Signed playback URLs: CloudFront signed URLs with a custom policy over a video's whole
media prefix (`{scheme}://{domain}/{videoId}/*`), so that one signature covers the master
playlist, every rendition playlist, segment and thumbnail. Players append the same query
(`Policy`, `Signature`, `Key-Pair-Id`) to every request they make for the video.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from lambdas.core.models import VideoRecord
from lambdas.core.status import VideoStatus


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


class MediaUrlSigner:
    """Signs access to one video's media prefix with the distribution's private key."""

    def __init__(self, config: CdnConfig, private_key_pem: str) -> None:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("the CDN signing key must be an RSA private key (PEM)")
        self._key = key
        self._config = config
        self._signer = CloudFrontSigner(config.key_pair_id, self._rsa_sha1)

    def _rsa_sha1(self, message: bytes) -> bytes:
        # CloudFront verifies signed URLs with RSA-SHA1 (PKCS#1 v1.5); it defines the format.
        return self._key.sign(message, padding.PKCS1v15(), hashes.SHA1())

    def resource_for(self, video_id: str) -> str:
        return f"{self._config.base_url}/{quote(video_id)}/*"

    def sign(self, video_id: str, now: datetime | None = None) -> SignedAccess:
        expires_at = (now or datetime.now(UTC)) + timedelta(seconds=self._config.ttl_seconds)
        resource = self.resource_for(video_id)
        policy = self._signer.build_policy(resource, expires_at)
        signed = self._signer.generate_presigned_url(resource, policy=policy)
        return SignedAccess(query=signed.split("?", 1)[1], expires_at=expires_at)

    def url(self, key: str, access: SignedAccess) -> str:
        return f"{self._config.base_url}/{quote(key)}?{access.query}"

    def playback_for(self, record: VideoRecord, now: datetime | None = None) -> Playback | None:
        """Signed URLs of everything a player needs, for a COMPLETED video only."""
        if record.status != VideoStatus.COMPLETED or not record.master_playlist_key:
            return None
        access = self.sign(record.video_id, now)

        def signed(key: str | None) -> str | None:
            return self.url(key, access) if key else None

        thumbnails = record.thumbnails
        return Playback(
            expires_at=access.expires_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
            signed_query=access.query,
            hls_url=signed(record.master_playlist_key),
            dash_url=signed(record.dash_manifest_key),
            poster_url=signed(thumbnails.poster_key) if thumbnails else None,
            storyboard_image_url=signed(thumbnails.storyboard_image_key) if thumbnails else None,
            storyboard_vtt_url=signed(thumbnails.storyboard_vtt_key) if thumbnails else None,
            preview_urls=[self.url(str(k), access) for k in thumbnails.preview_keys]
            if thumbnails
            else [],
        )

    def poster_url(self, record: VideoRecord) -> str | None:
        if record.status != VideoStatus.COMPLETED or not record.thumbnails:
            return None
        return self.url(record.thumbnails.poster_key, self.sign(record.video_id))
