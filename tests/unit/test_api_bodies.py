"""Which request bodies the API reads, and the Powertools hook that enforces it."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)

from lambdas.api.bodies import JsonBodyValidation, is_json, read_json_bodies_only
from lambdas.api.routes import app
from lambdas.api.schemas import RenditionBody
from lambdas.core.models import RenditionAttribute


@pytest.mark.parametrize(
    "content_type",
    [None, "", "application/json", "Application/JSON", "application/json; charset=UTF-8",
     'application/json; charset="utf-8"', "application/json;charset=utf8"],
)  # fmt: skip
def test_json_in_utf8_or_no_content_type_is_read(content_type: str | None) -> None:
    assert is_json(content_type)


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=x",
     "application/x-www-form-urlencoded", "application/json; charset=bogus",
     "application/json; charset=utf-16", "application/jsonx", "application/vnd.api+json",
     "text/plain", "garbage", ";;;", "application/"],
)  # fmt: skip
def test_everything_else_is_refused(content_type: str) -> None:
    assert not is_json(content_type)


def test_the_api_validates_requests_with_the_json_only_middleware() -> None:
    assert type(app._request_validation_middleware) is JsonBodyValidation


def test_the_patch_target_is_where_the_pinned_powertools_keeps_it() -> None:
    resolver = APIGatewayHttpResolver(enable_validation=True)
    assert type(resolver._request_validation_middleware) is OpenAPIRequestValidationMiddleware
    assert callable(OpenAPIRequestValidationMiddleware._get_body)
    read_json_bodies_only(resolver)
    with pytest.raises(RuntimeError, match=r"update lambdas/api/bodies\.py"):
        read_json_bodies_only(APIGatewayHttpResolver(enable_validation=False))


def test_a_rendition_body_is_read_from_the_record_attribute_by_name() -> None:
    """Responses are validated from the stored attributes (from_attributes), whose numbers
    DynamoDB hands back as floats; the track's `default_track` is the API's `default`."""
    stored = RenditionAttribute(  # type: ignore[no-untyped-call]  # PynamoDB: untyped
        name="audio-1", kind="audio", playlist_key="v/hls/audio-1/index.m3u8",
        codecs="mp4a.40.2", average_bitrate_bps=128_000.0, peak_bitrate_bps=131_000.0,
        segment_count=3.0, output_bytes=96_000.0, default_track=False, language="fra",
        loudness="normalised (linear)", loudness_lufs=-16.1, true_peak_dbtp=-1.4,
    )  # fmt: skip

    body = RenditionBody.model_validate(stored).model_dump(by_alias=True)

    assert body["default"] is False and body["language"] == "fra"
    assert (body["averageBitrateBps"], body["segmentCount"]) == (128_000, 3)
    assert body["loudnessLufs"] == -16.1 and body["width"] is None
