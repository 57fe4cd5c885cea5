"""The API's adapters and its caller, as Powertools dependencies: routes declare `deps: Deps`
and `caller: Caller`; the adapters are built on first use (never at import), and a test
replaces either through `app.dependency_overrides`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Annotated, cast

import boto3
from aws_lambda_powertools.event_handler import Depends, Request
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
)
from botocore.config import Config

from lambdas.core.errors import ServiceUnavailable
from lambdas.core.lifecycle import Buckets
from lambdas.core.models import VideoRecord, use_table
from lambdas.core.observability import logger
from lambdas.core.playback import CdnConfig, MediaUrlSigner
from lambdas.core.settings import ApiSettings, get_api_settings
from lambdas.core.status import VideoStatus
from lambdas.core.uploads import UploadPolicy

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_stepfunctions import SFNClient


@dataclass(frozen=True)
class ApiDependencies:
    settings: ApiSettings
    s3: S3Client
    sfn: SFNClient
    secrets: SecretsManagerClient
    idempotency_store: DynamoDBPersistenceLayer
    idempotency_config: IdempotencyConfig

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

    def poster_url(self, record: VideoRecord) -> str | None:
        if record.status != VideoStatus.COMPLETED or not record.thumbnails:
            return None
        return self.signer.poster_url(record)


@lru_cache(maxsize=1)
def get_dependencies() -> ApiDependencies:
    settings = get_api_settings()
    use_table(settings.videos_table_name)
    return ApiDependencies(
        settings=settings,
        # SigV4 presigning: browsers and S3 in every region expect it.
        s3=boto3.client("s3", config=Config(signature_version="s3v4")),
        sfn=boto3.client("stepfunctions"),
        secrets=boto3.client("secretsmanager"),
        idempotency_store=DynamoDBPersistenceLayer(
            table_name=settings.idempotency_table_name,
            boto3_client=boto3.client("dynamodb"),
        ),
        # The key is the caller and their Idempotency-Key; the body must match on a replay.
        idempotency_config=IdempotencyConfig(
            event_key_jmespath="[owner, key]",
            payload_validation_jmespath="request",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=settings.idempotency_ttl_seconds,
        ),
    )


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
