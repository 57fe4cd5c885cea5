"""Hostile and odd input to the API: it answers 4xx, never 5xx, and stores text exactly."""

from __future__ import annotations

import pytest
import requests

from local.stack import OfflineStack

VALID = {"title": "t", "filename": "a.mp4", "contentType": "video/mp4", "sizeBytes": 10}


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
