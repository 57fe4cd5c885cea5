"""The one place the API decides which request bodies it reads: JSON, encoded as UTF-8.

Powertools' request validation also parses form and multipart bodies, and answers a
`multipart/form-data` without a boundary with a bare ValueError (a 500). This API takes JSON
only, so every other Content-Type is refused before Powertools parses the body, and the
resolver's RequestUnsupportedContentType handler answers 415 in the API's error shape.
"""

from __future__ import annotations

from email.message import Message
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType

JSON_MEDIA_TYPE = "application/json"
UTF8_NAMES = frozenset({"utf-8", "utf8"})


def is_json(content_type: str | None) -> bool:
    """True for no Content-Type (Powertools reads the body as JSON then) and for
    `application/json` with no charset but UTF-8 (RFC 8259: JSON between systems is UTF-8).
    A header that is not a media type at all reads as text/plain, so it is refused too."""
    if content_type is None or not content_type.strip():
        return True
    header = Message()  # the standard library's RFC 2045 parser of Content-Type
    header["content-type"] = content_type
    if header.get_content_type() != JSON_MEDIA_TYPE:
        return False
    charset = header.get_content_charset()
    return charset is None or charset in UTF8_NAMES


class JsonBodyValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading JSON bodies only."""

    def _get_body(self, app: Any) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type")
        if not is_json(content_type):
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[
                    {
                        "type": "unsupported_content_type",
                        "loc": ("body",),
                        "msg": "send the body as application/json (UTF-8)",
                        "input": {},
                        "ctx": {},
                    }
                ],
            )
        body: dict[str, Any] = super()._get_body(app)
        return body


def read_json_bodies_only(app: APIGatewayHttpResolver) -> None:
    """Installs JsonBodyValidation where Powertools 3.37 keeps its request validation (a
    private attribute of the resolver); fails loudly, at import, if Powertools moved it."""
    current = getattr(app, "_request_validation_middleware", None)
    if type(current) is not OpenAPIRequestValidationMiddleware or not callable(
        getattr(current, "_get_body", None)
    ):
        raise RuntimeError(
            "aws_lambda_powertools no longer keeps an OpenAPIRequestValidationMiddleware with "
            "_get_body at APIGatewayHttpResolver._request_validation_middleware: update "
            "lambdas/api/bodies.py for the pinned version"
        )
    app._request_validation_middleware = JsonBodyValidation()  # type: ignore[no-untyped-call]
