"""What the routes declare in common: the owner's security requirement, the path and query
parameters, and the documented responses (401 from the JWT authorizer, others from here)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from lambdas.api.schemas import AuthorizerError, ErrorResponse

OWNER: list[dict[str, list[str]]] = [{"bearerAuth": []}]
VideoId = Annotated[str, Path(min_length=1, max_length=64)]
Language = Annotated[str, Path(min_length=1, max_length=35, description="BCP-47 tag")]
Limit = Annotated[int, Query(ge=1, le=100, description="Items per page")]
Cursor = Annotated[
    str | None, Query(max_length=2048, description="nextCursor of the previous page")
]
UploadIdQuery = Annotated[
    str | None,
    Query(
        alias="uploadId",
        min_length=1,
        max_length=1024,
        description="Refuse the request if this is no longer the video's upload (Uppy sends it)",
    ),
]


def documented(success: int, description: str, *errors: int) -> dict[int, OpenAPIResponse]:
    """The responses of one route: its success, then each error status in the API's shape."""
    responses: dict[int, OpenAPIResponse] = {success: {"description": description}}
    for status in errors:
        # 401 comes from the JWT authorizer in front of the function, with its own body.
        model = AuthorizerError if status == HTTPStatus.UNAUTHORIZED else ErrorResponse
        responses[status] = {
            "description": HTTPStatus(status).phrase,
            "content": {"application/json": {"model": model}},
        }
    return responses
