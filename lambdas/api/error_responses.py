"""The one place errors become HTTP responses: domain errors by class (the table below),
request validation, bodies the API does not read and unknown routes.
Every body has the API's error shape: {code, message, fields?}."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from lambdas.api.idempotency import IdempotencyInProgress, IdempotencyKeyReused
from lambdas.core.errors import (
    CaptionInvalid,
    CaptionNotFound,
    DomainError,
    FieldError,
    InvalidVideoState,
    ServiceUnavailable,
    TooManyActiveVideos,
    UploadSizeMismatch,
    UploadTooLarge,
    VideoNotFound,
)

STATUS_OF: dict[type[DomainError], HTTPStatus] = {
    VideoNotFound: HTTPStatus.NOT_FOUND,
    CaptionNotFound: HTTPStatus.NOT_FOUND,
    CaptionInvalid: HTTPStatus.UNPROCESSABLE_ENTITY,
    InvalidVideoState: HTTPStatus.CONFLICT,
    FieldError: HTTPStatus.BAD_REQUEST,
    UploadTooLarge: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
    UploadSizeMismatch: HTTPStatus.UNPROCESSABLE_ENTITY,
    ServiceUnavailable: HTTPStatus.SERVICE_UNAVAILABLE,
    TooManyActiveVideos: HTTPStatus.TOO_MANY_REQUESTS,
    IdempotencyKeyReused: HTTPStatus.UNPROCESSABLE_ENTITY,
    IdempotencyInProgress: HTTPStatus.CONFLICT,
}


def map_errors_to_responses(app: APIGatewayHttpResolver) -> None:
    """Registers the API's exception handlers on `app`."""

    @app.not_found
    def no_such_route(error: NotFoundError) -> Response[Any]:
        # A method the HTTP API routes to the function but no route here serves (PUT /videos/x).
        event = app.current_event
        message = f"no route {event.http_method} {event.path}"
        return error_response(HTTPStatus.NOT_FOUND, "NOT_FOUND", message)

    handlers: list[tuple[type[Exception], Any]] = [
        (RequestValidationError, invalid_request),
        (RequestUnsupportedContentType, unsupported_content_type),
        (UnicodeDecodeError, undecodable_body),
        (DomainError, domain_error),
        (TooManyActiveVideos, too_many_active_videos),
    ]
    for error_class, handler in handlers:
        app.exception_handler(error_class)(handler)


def error_response(status: HTTPStatus, code: str, message: str, **extra: Any) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"code": code, "message": message, **extra},
    )


def invalid_request(error: RequestValidationError) -> Response[Any]:
    fields = [
        {
            "field": ".".join(str(part) for part in item.get("loc", ())[1:]) or "body",
            "message": item.get("msg", "invalid"),
        }
        for item in error.errors()
    ]
    names = ", ".join(f["field"] for f in fields)
    return error_response(
        HTTPStatus.BAD_REQUEST, "INVALID_REQUEST", f"invalid fields: {names}", fields=fields
    )


def _body_error(status: HTTPStatus, code: str, message: str) -> Response[Any]:
    fields = [{"field": "body", "message": message}]
    return error_response(status, code, f"body: {message}", fields=fields)


def unsupported_content_type(error: RequestUnsupportedContentType) -> Response[Any]:
    return _body_error(
        HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        "send the body as application/json",
    )


def undecodable_body(error: UnicodeDecodeError) -> Response[Any]:
    # Powertools decodes the body before validating it; bytes that are not UTF-8 fail there.
    return _body_error(HTTPStatus.BAD_REQUEST, "INVALID_REQUEST", "must be JSON encoded as UTF-8")


def domain_error(error: DomainError) -> Response[Any]:
    status = next(
        (code for cls, code in STATUS_OF.items() if isinstance(error, cls)),
        HTTPStatus.BAD_REQUEST,
    )
    field = getattr(error, "field", None)
    extra = {"fields": [{"field": field, "message": str(error)}]} if field else {}
    return error_response(status, error.code, str(error), **extra)


def too_many_active_videos(error: TooManyActiveVideos) -> Response[Any]:
    response = domain_error(error)
    response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response
