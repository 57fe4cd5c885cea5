"""The API's adapters and its caller, as Powertools dependencies: routes declare `deps: Deps`
and `caller: Caller`; each adapter is built on first use (never at import, and only by a
request that needs it), and a test replaces either through `app.dependency_overrides`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Annotated, Any, cast

from aws_lambda_powertools.event_handler import Depends, Request
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from botocore.config import Config
from botocore.session import Session

from lambdas.api import idempotency
from lambdas.core.errors import ServiceUnavailable
from lambdas.core.lifecycle import Buckets
from lambdas.core.models import VideoRecord, use_table
from lambdas.core.observability import logger
from lambdas.core.playback import CdnConfig, MediaUrlSigner, Playback
from lambdas.core.settings import ApiSettings, get_api_settings
from lambdas.core.status import VideoStatus
from lambdas.core.uploads import UploadPolicy

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
    )
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_stepfunctions import SFNClient


def pynamodb_session() -> Session:
    """The botocore session of the models' connection: the endpoint and partition data its
    DynamoDB client loaded serve the API's clients too (the first of them costs about 40 ms
    CPU less than from a session of its own)."""
    return VideoRecord._get_connection().connection.session


@dataclass(frozen=True)
class ApiDependencies:
    """The settings, and the clients made from the models' botocore session when a request
    first needs each (botocore rather than boto3: PynamoDB imports botocore anyway, and boto3
    would add itself and s3transfer to every cold start)."""

    settings: ApiSettings
    session: Session = field(default_factory=pynamodb_session)

    def _client(self, service: str, **options: Any) -> Any:
        return self.session.create_client(service, **options)

    @cached_property
    def s3(self) -> S3Client:
        # SigV4 presigning: browsers and S3 in every region expect it.
        return cast("S3Client", self._client("s3", config=Config(signature_version="s3v4")))

    @cached_property
    def sfn(self) -> SFNClient:
        return cast("SFNClient", self._client("stepfunctions"))

    @cached_property
    def secrets(self) -> SecretsManagerClient:
        return cast("SecretsManagerClient", self._client("secretsmanager"))

    @cached_property
    def idempotency_store(self) -> DynamoDBPersistenceLayer:
        dynamodb = cast("DynamoDBClient", self._client("dynamodb"))
        return idempotency.persistence_store(self.settings, dynamodb)

    @cached_property
    def idempotency_config(self) -> IdempotencyConfig:
        return idempotency.config(self.settings)

    @property
    def upload_policy(self) -> UploadPolicy:
        settings = self.settings
        return UploadPolicy(
            bucket=settings.uploads_bucket,
            url_ttl_seconds=settings.upload_url_ttl_seconds,
            multipart_threshold_bytes=settings.multipart_threshold_bytes,
            multipart_part_bytes=settings.multipart_part_bytes,
        )

    @property
    def buckets(self) -> Buckets:
        return Buckets(uploads=self.settings.uploads_bucket, media=self.settings.media_bucket)

    @cached_property
    def signer(self) -> MediaUrlSigner:
        """Reads the private key on the first request that signs playback URLs, so that an
        API whose key is not stored yet still serves everything else."""
        settings = self.settings
        try:
            secret = self.secrets.get_secret_value(SecretId=settings.cdn_private_key_secret_arn)
            config = CdnConfig(
                scheme=settings.cdn_scheme,
                domain=settings.cdn_domain,
                key_pair_id=settings.cdn_key_pair_id,
                ttl_seconds=settings.playback_url_ttl_seconds,
            )
            return MediaUrlSigner(config, secret["SecretString"])
        except Exception as error:
            logger.exception("cannot sign playback URLs")
            raise ServiceUnavailable(
                "playback URLs cannot be signed: the CDN signing key is not set up"
            ) from error

    def playback_for(self, record: VideoRecord) -> Playback | None:
        """Signed playback URLs, for a video with something to play; any other reads no key."""
        return self.signer.playback_for(record) if record.is_playable else None

    def poster_url(self, record: VideoRecord) -> str | None:
        if record.status != VideoStatus.COMPLETED or not record.thumbnails:
            return None
        return self.signer.poster_url(record)


@lru_cache(maxsize=1)
def get_dependencies() -> ApiDependencies:
    settings = get_api_settings()
    use_table(settings.videos_table_name)
    return ApiDependencies(settings=settings)


def get_signer() -> MediaUrlSigner:
    """The API's own signer (tests use it to make genuinely signed URLs)."""
    return get_dependencies().signer


def caller_id(request: Request) -> str:
    """The JWT authorizer has already verified the token; its subject is the caller."""
    event = cast("APIGatewayProxyEventV2", request.resolved_event)
    authorizer = event.request_context.authorizer
    claims = (authorizer.jwt_claim if authorizer else None) or {}
    subject = claims.get("sub")
    if not subject:
        raise UnauthorizedError("a signed-in user is required")
    return str(subject)


def reset_dependencies() -> None:
    get_dependencies.cache_clear()


Deps = Annotated[ApiDependencies, Depends(get_dependencies)]
Caller = Annotated[str, Depends(caller_id)]
