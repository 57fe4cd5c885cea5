"""The HTTP API over real HTTP, through the gateway emulator, against moto."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from local.stack import OfflineStack

VALID = {
    "title": "Holiday",
    "filename": "holiday.mp4",
    "contentType": "video/mp4",
    "sizeBytes": 1234,
}


def call(
    stack: OfflineStack, method: str, path: str, user: str | None = "alice", **kwargs: Any
) -> requests.Response:
    headers = {"Authorization": f"Bearer {stack.token(user)}"} if user else {}
    return requests.request(method, f"{stack.api_url}{path}", headers=headers, timeout=30, **kwargs)


def test_create_returns_the_id_at_once_with_a_presigned_put(offline_stack: OfflineStack) -> None:
    response = call(offline_stack, "POST", "/videos", json={**VALID, "tags": ["sea", "sun"]})
    assert response.status_code == 201
    body = response.json()
    video = body["video"]
    assert video["status"] == "PENDING_UPLOAD" and video["tags"] == ["sea", "sun"]
    assert video["visibility"] == "private"
    assert response.headers["Location"] == f"/videos/{video['id']}"
    upload = body["upload"]
    assert upload["method"] == "PUT"
    assert f"/{video['id']}/source" in upload["url"] and "X-Amz-Signature=" in upload["url"]
    assert "holiday" not in upload["url"]  # keys come from ids, never from file names
    assert upload["headers"] == {"Content-Type": "video/mp4"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "bad\u0007bell"}, "title"),
        ({"contentType": "text/plain"}, "contentType"),
        ({"sizeBytes": 0}, "sizeBytes"),
        ({"visibility": "everyone"}, "visibility"),
        ({"tags": ["x" * 41]}, "tags"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
def test_bad_fields_get_400_naming_the_field(
    offline_stack: OfflineStack, change: dict[str, Any], field: str
) -> None:
    response = call(offline_stack, "POST", "/videos", json={**VALID, **change})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_REQUEST"
    assert any(item["field"].startswith(field) for item in body["fields"]), body


def test_missing_body_is_a_400(offline_stack: OfflineStack) -> None:
    response = call(offline_stack, "POST", "/videos", data="not json")
    assert response.status_code == 400


def test_over_the_size_limit_is_413_naming_size(offline_stack: OfflineStack) -> None:
    response = call(offline_stack, "POST", "/videos", json={**VALID, "sizeBytes": 10**15})
    assert response.status_code == 413
    assert response.json()["fields"][0]["field"] == "sizeBytes"


def test_requests_without_a_valid_token_get_401(offline_stack: OfflineStack) -> None:
    assert call(offline_stack, "GET", "/videos", user=None).status_code == 401
    forged = offline_stack.token("alice")[:-4] + "AAAA"
    response = requests.get(
        f"{offline_stack.api_url}/videos", headers={"Authorization": f"Bearer {forged}"}, timeout=30
    )
    assert response.status_code == 401
    expired = offline_stack.issuer.issue("alice", seconds=-60)
    response = requests.get(
        f"{offline_stack.api_url}/videos",
        headers={"Authorization": f"Bearer {expired}"},
        timeout=30,
    )
    assert response.status_code == 401
    wrong_audience = offline_stack.issuer.issue("alice", audience="someone-else")
    response = requests.get(
        f"{offline_stack.api_url}/videos",
        headers={"Authorization": f"Bearer {wrong_audience}"},
        timeout=30,
    )
    assert response.status_code == 401


def test_users_see_only_their_own_videos_and_others_get_404(offline_stack: OfflineStack) -> None:
    mine = call(offline_stack, "POST", "/videos", user="carol", json=VALID).json()["video"]["id"]
    theirs = call(offline_stack, "POST", "/videos", user="dave", json=VALID).json()["video"]["id"]

    own = call(offline_stack, "GET", "/videos", user="carol").json()["items"]
    assert [v["id"] for v in own] == [mine]
    assert call(offline_stack, "GET", f"/videos/{mine}", user="carol").status_code == 200
    hidden = call(offline_stack, "GET", f"/videos/{theirs}", user="carol")
    assert hidden.status_code == 404
    assert call(offline_stack, "GET", "/videos/does-not-exist", user="carol").status_code == 404


def test_list_is_newest_first(offline_stack: OfflineStack) -> None:
    ids = [
        call(
            offline_stack, "POST", "/videos", user="erin", json={**VALID, "title": f"t{i}"}
        ).json()["video"]["id"]
        for i in range(3)
    ]
    listed = [v["id"] for v in call(offline_stack, "GET", "/videos", user="erin").json()["items"]]
    assert listed == list(reversed(ids))
