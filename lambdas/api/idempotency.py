"""Idempotency-Key on create: Powertools' idempotency utility over its DynamoDB table.

The utility (and the boto3 it imports) is loaded by the first request that carries a key,
not at cold start. Its two refusals become the errors below, which
lambdas/api/error_responses.py maps with the domain errors.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lambdas.core.errors import DomainError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
    )
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_dynamodb import DynamoDBClient

    from lambdas.core.settings import ApiSettings

# Powertools keys an idempotency record "<Lambda function>.<module>.<function>#<hash>". The
# prefix is pinned to the one it derived before the routes moved to routers/, so that a retry
# made across a deploy still finds its record.
CREATE_VIDEO_RECORDS = "lambdas.api.routes._create_video_idempotently"


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self) -> None:
        super().__init__("this Idempotency-Key was used with a different request body")


class IdempotencyInProgress(DomainError):
    code = "IDEMPOTENCY_IN_PROGRESS"

    def __init__(self) -> None:
        super().__init__(
            "a request with this Idempotency-Key is still being handled; retry shortly"
        )


def create_video_key_prefix() -> str:
    return f"{os.getenv('AWS_LAMBDA_FUNCTION_NAME', 'test-func')}.{CREATE_VIDEO_RECORDS}"


def persistence_store(settings: ApiSettings, dynamodb: DynamoDBClient) -> DynamoDBPersistenceLayer:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(
        table_name=settings.idempotency_table_name, boto3_client=dynamodb
    )


def config(settings: ApiSettings) -> IdempotencyConfig:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    # The key is the caller and their Idempotency-Key; the body must match on a replay.
    return IdempotencyConfig(
        event_key_jmespath="[owner, key]",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=settings.idempotency_ttl_seconds,
    )


def run_once(
    function: Callable[..., dict[str, Any]],
    *,
    store: DynamoDBPersistenceLayer,
    config: IdempotencyConfig,
    key_prefix: str,
    lambda_context: LambdaContext,
    **kwargs: Any,
) -> dict[str, Any]:
    """`function(**kwargs)`, or the result it returned for the same `payload` keyword
    argument before; `payload` holds the key (`owner`, `key`) and the body (`request`)."""
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config.register_lambda_context(lambda_context)
    once = idempotent_function(
        function,
        data_keyword_argument="payload",
        persistence_store=store,
        config=config,
        key_prefix=key_prefix,
    )
    try:
        result: dict[str, Any] = once(**kwargs)
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReused from error
    except IdempotencyAlreadyInProgressError as error:
        raise IdempotencyInProgress from error
    return result
