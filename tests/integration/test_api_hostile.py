"""Hostile and odd input to the API: it answers 4xx, never 5xx, and stores text exactly."""

from __future__ import annotations

from unittest import mock

import pytest
import requests

from local.stack import OfflineStack

VALID = {"title": "t", "filename": "a.mp4", "contentType": "video/mp4", "sizeBytes": 10}
ANY_TEXT = mock.ANY


def post(stack: OfflineStack, **kwargs: object) -> requests.Response:
    headers = {"Authorization": f"Bearer {stack.token('mallory')}"}
    headers.update(kwargs.pop("headers", {}))  # type: ignore[arg-type]
    return requests.post(f"{stack.api_url}/videos", headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "Été à Zürich — 東京 🎬",
        "👩\u200d💻 coding",  # an emoji sequence joined by U+200D
        "مرحبا بالعالم",  # right-to-left script
        "e\u0301 combining accent",
        "x" * 200,
    ],
)
def test_unusual_but_legitimate_text_round_trips_exactly(
    offline_stack: OfflineStack, text: str
) -> None:
    created = post(offline_stack, json={**VALID, "title": text, "tags": [text[:40]]})
    assert created.status_code == 201, created.text
    video = created.json()["video"]
    assert video["title"] == text and video["tags"] == [text[:40]]


@pytest.mark.parametrize(
    ("title", "why"),
    [
        ("evil\u202egnp.exe", "right-to-left override (spoofs file names)"),
        ("line\nbreak", "control character"),
        ("nul\x00byte", "NUL"),
        ("zero\u200bwidth", "invisible space"),
        ("x" * 201, "too long"),
        ("   ", "blank"),
    ],
)
def test_hostile_text_is_refused_naming_the_field(
    offline_stack: OfflineStack, title: str, why: str
) -> None:
    response = post(offline_stack, json={**VALID, "title": title})
    assert response.status_code == 400, why
    assert [f["field"] for f in response.json()["fields"]] == ["title"], why


def test_an_oversized_body_is_refused_before_the_handler(offline_stack: OfflineStack) -> None:
    response = post(offline_stack, data=b"{" + b" " * (11 * 1024 * 1024) + b"}",
                    headers={"Content-Type": "application/json"})  # fmt: skip
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"title": 5}', b"\xff\xfe\x00garbage", b'{"title": "a"'],
)
def test_malformed_bodies_get_400(offline_stack: OfflineStack, body: bytes) -> None:
    response = post(offline_stack, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400


def test_a_body_that_is_not_json_by_its_content_type_gets_415(offline_stack: OfflineStack) -> None:
    response = post(offline_stack, data=b"title=x", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    document = requests.get(f"{offline_stack.api_url}/openapi.json", timeout=30).json()
    assert "415" in document["paths"]["/videos"]["post"]["responses"]


BODY_ROUTES = [
    ("POST", "/videos"),
    ("PATCH", "/videos/{id}"),
    ("POST", "/videos/{id}/upload"),
    ("POST", "/videos/{id}/upload/complete"),
]


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",  # no boundary: Powertools' multipart parser raised (a 500)
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
        "application/json; charset=bogus",
        "application/json; charset=utf-16",
        "application/jsonx",
        "garbage",
        ";;;",
    ],
)
def test_every_route_with_a_body_refuses_other_content_types_with_415(
    offline_stack: OfflineStack, content_type: str
) -> None:
    # Given a video of the caller's, so that every route reaches its body
    video_id = post(offline_stack, json=VALID).json()["video"]["id"]
    headers = {
        "Authorization": f"Bearer {offline_stack.token('mallory')}",
        "Content-Type": content_type,
    }
    for method, path in BODY_ROUTES:
        # When a JSON body arrives labelled as something else
        response = requests.request(
            method,
            offline_stack.api_url + path.format(id=video_id),
            headers=headers,
            data=b'{"title": "x"}',
            timeout=30,
        )
        # Then it is a 415 in the API's error shape, and nothing was read
        assert response.status_code == 415, (method, path, response.text)
        assert response.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
        assert response.json()["fields"] == [{"field": "body", "message": ANY_TEXT}]
    headers = {"Authorization": f"Bearer {offline_stack.token('mallory')}"}
    video = requests.get(f"{offline_stack.api_url}/videos/{video_id}", headers=headers, timeout=30)
    assert video.json()["title"] == VALID["title"]


def test_json_with_a_utf8_charset_is_read(offline_stack: OfflineStack) -> None:
    response = post(
        offline_stack,
        data=b'{"title": "t", "filename": "a.mp4", "contentType": "video/mp4", "sizeBytes": 1}',
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("method", ["TRACE", "CONNECT", "PROPFIND", "HEAD", "FOO"])
@pytest.mark.parametrize("path", ["/videos", "/catalog", "/nowhere", "/"])
def test_unrouted_methods_and_paths_get_the_http_apis_404(
    offline_stack: OfflineStack, method: str, path: str
) -> None:
    # No token: an HTTP API matches the route before its authorizer runs.
    response = requests.request(method, offline_stack.api_url + path, timeout=30)
    assert response.status_code == 404
    if method != "HEAD":
        assert response.json() == {"message": "Not Found"}


def test_a_method_routed_to_the_function_but_not_served_is_a_404_in_the_api_shape(
    offline_stack: OfflineStack,
) -> None:
    headers = {"Authorization": f"Bearer {offline_stack.token('mallory')}"}
    response = requests.put(f"{offline_stack.api_url}/videos/x", headers=headers, timeout=30)
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"
