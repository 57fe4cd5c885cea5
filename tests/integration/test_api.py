"""The HTTP API over real HTTP, through the gateway emulator, against moto."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from lambdas.core import videos
from lambdas.core.models import VideoRecord
from local.stack import OfflineStack

VALID = {
    "title": "Holiday",
    "filename": "holiday.mp4",
    "contentType": "video/mp4",
    "sizeBytes": 1234,
}


def call(
    stack: OfflineStack,
    method: str,
    path: str,
    user: str | None = "alice",
    headers: dict[str, str] | None = None,
    **kwargs: Any,
) -> requests.Response:
    auth = {"Authorization": f"Bearer {stack.token(user)}"} if user else {}
    return requests.request(
        method, f"{stack.api_url}{path}", headers={**auth, **(headers or {})}, timeout=30, **kwargs
    )


def test_create_returns_the_id_at_once_with_a_presigned_put(offline_stack: OfflineStack) -> None:
    response = call(offline_stack, "POST", "/videos", json={**VALID, "tags": ["sea", "sun"]})
    assert response.status_code == 201
    body = response.json()
    video = body["video"]
    assert video["status"] == "PENDING_UPLOAD" and video["tags"] == ["sea", "sun"]
    assert video["visibility"] == "private"
    assert response.headers["Location"] == f"/videos/{video['id']}"
    upload = body["upload"]
    assert upload["type"] == "single" and upload["method"] == "PUT"
    assert f"/{video['id']}/source" in upload["url"] and "X-Amz-Signature=" in upload["url"]
    assert "holiday" not in upload["url"]  # keys come from ids, never from file names
    assert upload["headers"] == {
        "Content-Type": "video/mp4",
        "If-None-Match": "*",
        "x-amz-tagging": "upload=pending",
    }


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


def test_list_pages_with_an_opaque_cursor(offline_stack: OfflineStack) -> None:
    ids = [
        call(offline_stack, "POST", "/videos", user="fay", json={**VALID, "title": f"p{i}"}).json()[
            "video"
        ]["id"]
        for i in range(5)
    ]
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = call(offline_stack, "GET", "/videos", user="fay", params=params).json()
        assert len(page["items"]) <= 2
        seen += [v["id"] for v in page["items"]]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == list(reversed(ids))


@pytest.mark.parametrize("cursor", ["not-a-cursor", "eyJwayI6IDF9", "x" * 3000])
def test_a_cursor_that_was_not_issued_is_a_400(offline_stack: OfflineStack, cursor: str) -> None:
    response = call(offline_stack, "GET", "/videos", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["fields"][0]["field"] == "cursor"


def test_a_cursor_cannot_walk_another_users_list(offline_stack: OfflineStack) -> None:
    for i in range(2):
        call(offline_stack, "POST", "/videos", user="gus", json={**VALID, "title": f"g{i}"})
    page = call(offline_stack, "GET", "/videos", user="gus", params={"limit": 1}).json()
    assert page["nextCursor"]
    stolen = call(
        offline_stack, "GET", "/videos", user="hal", params={"cursor": page["nextCursor"]}
    )
    assert stolen.status_code == 400


def test_a_bad_limit_is_a_400_naming_it(offline_stack: OfflineStack) -> None:
    for limit in ("0", "101", "ten"):
        response = call(offline_stack, "GET", "/videos", params={"limit": limit})
        assert response.status_code == 400
        assert response.json()["fields"][0]["field"] == "limit"


def test_an_idempotency_key_makes_one_video_for_retries(offline_stack: OfflineStack) -> None:
    headers = {"Idempotency-Key": "retry-me-1"}
    first = call(offline_stack, "POST", "/videos", user="ida", json=VALID, headers=headers)
    second = call(offline_stack, "POST", "/videos", user="ida", json=VALID, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["video"]["id"] == second.json()["video"]["id"]
    assert len(call(offline_stack, "GET", "/videos", user="ida").json()["items"]) == 1

    # The same key from another user is another request.
    other = call(offline_stack, "POST", "/videos", user="jon", json=VALID, headers=headers)
    assert other.json()["video"]["id"] != first.json()["video"]["id"]

    # The same key with another body is refused.
    changed = call(
        offline_stack, "POST", "/videos", user="ida", json={**VALID, "title": "x"}, headers=headers
    )
    assert changed.status_code == 422
    assert changed.json()["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_detail_has_the_log_and_no_playback_before_processing(offline_stack: OfflineStack) -> None:
    video_id = call(offline_stack, "POST", "/videos", json=VALID).json()["video"]["id"]
    video = call(offline_stack, "GET", f"/videos/{video_id}").json()
    assert video["status"] == "PENDING_UPLOAD"
    assert video["playback"] is None and video["processingLog"] == []
    assert video["slug"] == "holiday" and video["uploadedAt"] is None


def test_update_changes_only_the_given_fields(offline_stack: OfflineStack) -> None:
    video_id = call(
        offline_stack, "POST", "/videos", user="kim", json={**VALID, "description": "old"}
    ).json()["video"]["id"]
    response = call(
        offline_stack,
        "PATCH",
        f"/videos/{video_id}",
        user="kim",
        json={"title": "Sommer am Meer!", "tags": ["sea", "sea", "sun"], "visibility": "public"},
    )
    assert response.status_code == 200
    video = response.json()
    assert video["title"] == "Sommer am Meer!" and video["slug"] == "sommer-am-meer"
    assert video["tags"] == ["sea", "sun"]  # duplicates dropped
    assert video["visibility"] == "public" and video["description"] == "old"
    # Not COMPLETED yet: not in the public catalog.
    catalog = requests.get(f"{offline_stack.api_url}/catalog", timeout=30).json()["items"]
    assert video_id not in [v["id"] for v in catalog]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"visibility": "friends"}, "visibility"),
        ({"tags": "sea"}, "tags"),
        ({"description": "a\u0000b"}, "description"),
        ({"owner": "mallory"}, "owner"),
    ],
)
def test_bad_updates_get_400_naming_the_field(
    offline_stack: OfflineStack, change: dict[str, Any], field: str
) -> None:
    video_id = call(offline_stack, "POST", "/videos", json=VALID).json()["video"]["id"]
    response = call(offline_stack, "PATCH", f"/videos/{video_id}", json=change)
    assert response.status_code == 400
    assert any(item["field"].startswith(field) for item in response.json()["fields"])


def test_another_user_cannot_read_change_or_delete_a_private_video(
    offline_stack: OfflineStack,
) -> None:
    video_id = call(offline_stack, "POST", "/videos", user="liz", json=VALID).json()["video"]["id"]
    attempts = [
        ("GET", f"/videos/{video_id}", None),
        ("PATCH", f"/videos/{video_id}", {"title": "mine now"}),
        ("DELETE", f"/videos/{video_id}", None),
        ("POST", f"/videos/{video_id}/reprocess", None),
        ("POST", f"/videos/{video_id}/upload", {}),
        ("GET", f"/videos/{video_id}/upload/parts", None),
        ("GET", f"/videos/{video_id}/upload/parts/1/url", None),
        ("POST", f"/videos/{video_id}/upload/complete", {}),
        ("DELETE", f"/videos/{video_id}/upload", None),
        ("GET", f"/catalog/{video_id}", None),
    ]
    for method, path, body in attempts:
        response = call(offline_stack, method, path, user="mallory", json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert video_id not in response.text or response.json()["code"] == "NOT_FOUND"
    video = call(offline_stack, "GET", f"/videos/{video_id}", user="liz").json()
    assert video["title"] == VALID["title"] and video["status"] == "PENDING_UPLOAD"


def test_delete_is_idempotent_and_removes_the_video_everywhere(offline_stack: OfflineStack) -> None:
    junk = b"not a video"
    body = {**VALID, "sizeBytes": len(junk)}  # the PUT is signed for the declared size
    created = call(offline_stack, "POST", "/videos", user="max", json=body).json()
    video_id = created["video"]["id"]
    put = requests.put(
        created["upload"]["url"],
        data=junk,
        headers=created["upload"]["headers"],
        timeout=30,
    )
    assert put.status_code == 200
    offline_stack.wait_for_executions(timeout_seconds=120)  # FAILED: not a video

    assert call(offline_stack, "DELETE", f"/videos/{video_id}", user="max").status_code == 204
    assert call(offline_stack, "DELETE", f"/videos/{video_id}", user="max").status_code == 204
    assert call(offline_stack, "GET", f"/videos/{video_id}", user="max").status_code == 404
    assert (
        call(offline_stack, "PATCH", f"/videos/{video_id}", user="max", json={}).status_code == 404
    )
    listed = call(offline_stack, "GET", "/videos", user="max").json()["items"]
    assert video_id not in [v["id"] for v in listed]
    # Someone else deleting the tombstone learns nothing either.
    assert call(offline_stack, "DELETE", f"/videos/{video_id}", user="ned").status_code == 404
    uploads = offline_stack.client("s3").list_objects_v2(
        Bucket=offline_stack.config.names.uploads_bucket, Prefix=f"{video_id}/"
    )
    assert uploads.get("KeyCount", 0) == 0


def test_only_a_failed_video_can_be_reprocessed(offline_stack: OfflineStack) -> None:
    video_id = call(offline_stack, "POST", "/videos", json=VALID).json()["video"]["id"]
    response = call(offline_stack, "POST", f"/videos/{video_id}/reprocess")
    assert response.status_code == 409
    assert response.json()["code"] == "INVALID_STATE"


def test_public_routes_need_no_token(offline_stack: OfflineStack) -> None:
    catalog = requests.get(f"{offline_stack.api_url}/catalog", timeout=30)
    assert catalog.status_code == 200
    assert set(catalog.json()) == {"items", "nextCursor"}
    document = requests.get(f"{offline_stack.api_url}/openapi.json", timeout=30)
    assert document.status_code == 200
    spec = document.json()
    assert spec["openapi"].startswith("3.")
    assert {"/videos", "/videos/{video_id}", "/catalog", "/videos/{video_id}/upload/parts"} <= set(
        spec["paths"]
    )
    assert spec["paths"]["/videos"]["post"]["security"] == [{"bearerAuth": []}]
    missing = requests.get(f"{offline_stack.api_url}/catalog/{'0' * 32}", timeout=30)
    assert missing.status_code == 404


def test_unknown_routes_are_404(offline_stack: OfflineStack) -> None:
    assert call(offline_stack, "GET", "/videos/a/b/c/d").status_code == 404


def _complete_without_processing(video_id: str) -> None:
    """What the pipeline's Claim and Finalise do to the record, without transcoding."""
    record = VideoRecord.get(video_id, "VIDEO")
    record.update(actions=[VideoRecord.status.set("PROCESSING")], add_version_condition=False)
    videos.mark_completed(video_id, renditions=[], master_playlist_key=f"{video_id}/hls/m.m3u8")


def test_the_catalog_lists_public_completed_videos_newest_first(
    offline_stack: OfflineStack,
) -> None:
    public = {**VALID, "visibility": "public"}
    ids = []
    for i in range(3):
        ids.append(
            call(
                offline_stack, "POST", "/videos", user="olga", json={**public, "title": f"c{i}"}
            ).json()["video"]["id"]
        )
        time.sleep(0.005)  # distinct creation times
    private = call(offline_stack, "POST", "/videos", user="olga", json=VALID).json()["video"]["id"]
    for video_id in [*ids, private]:
        _complete_without_processing(video_id)
    unprocessed = call(offline_stack, "POST", "/videos", user="olga", json=public).json()

    listed: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = requests.get(f"{offline_stack.api_url}/catalog", params=params, timeout=30).json()
        listed += page["items"]
        cursor = page["nextCursor"]
        if not cursor:
            break
    listed_ids = [v["id"] for v in listed]
    assert [i for i in listed_ids if i in ids] == list(reversed(ids))
    assert private not in listed_ids and unprocessed["video"]["id"] not in listed_ids
    assert len(listed_ids) == len(set(listed_ids))
    created = [v["createdAt"] for v in listed]
    assert created == sorted(created, reverse=True)
    assert set(listed[0]) == {
        "id", "title", "slug", "description", "tags", "durationSeconds", "width", "height",
        "posterUrl", "createdAt", "processedAt",
    }  # fmt: skip

    # A cursor of the owner's list does not page the catalog.
    own = call(offline_stack, "GET", "/videos", user="olga", params={"limit": 1}).json()
    response = requests.get(
        f"{offline_stack.api_url}/catalog", params={"cursor": own["nextCursor"]}, timeout=30
    )
    assert response.status_code == 400


def test_every_owner_route_needs_a_token(offline_stack: OfflineStack) -> None:
    spec = requests.get(f"{offline_stack.api_url}/openapi.json", timeout=30).json()
    owner_routes = [
        (
            method.upper(),
            path.replace("{video_id}", "0" * 32)
            .replace("{part_number}", "1")
            .replace("{language}", "en"),
        )
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if operation.get("security")
    ]
    assert len(owner_routes) == 15  # 11 for videos and uploads, 4 for captions
    for method, path in owner_routes:
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
            response = requests.request(
                method, f"{offline_stack.api_url}{path}", headers=headers, json={}, timeout=30
            )
            assert response.status_code == 401, (method, path)


def test_a_user_at_the_active_video_limit_gets_429_with_retry_after(
    offline_stack: OfflineStack,
) -> None:
    # Given a user with a video still to complete, a FAILED one, and 5 (the limit) processing
    user = "busy-bee"
    waiting = call(offline_stack, "POST", "/videos", user, json=VALID).json()["video"]["id"]
    failed = call(offline_stack, "POST", "/videos", user, json=VALID).json()["video"]["id"]
    videos.mark_failed(failed, error_code="X", error_message="x")
    for _ in range(5):
        video_id = call(offline_stack, "POST", "/videos", user, json=VALID).json()["video"]["id"]
        videos.mark_uploaded(VideoRecord.get(video_id, "VIDEO"))  # active until settled
    # When they try to start one more transcode, in each of the three ways
    attempts = {
        "create": call(offline_stack, "POST", "/videos", user, json=VALID),
        "complete": call(offline_stack, "POST", f"/videos/{waiting}/upload/complete", user),
        "reprocess": call(offline_stack, "POST", f"/videos/{failed}/reprocess", user),
    }
    # Then each is a 429 in the API's error shape, saying when to try again
    for way, response in attempts.items():
        assert response.status_code == 429, (way, response.text)
        assert response.json()["code"] == "TOO_MANY_ACTIVE_VIDEOS", way
        assert "at most 5" in response.json()["message"], way
        assert int(response.headers["Retry-After"]) > 0, way
    # and another user is not held back by them
    assert call(offline_stack, "POST", "/videos", "someone-else", json=VALID).status_code == 201


def test_the_download_is_offered_once_ready_and_not_after_a_reprocess_without_one(
    offline_stack: OfflineStack,
) -> None:
    # Given a video just completed, its download being made
    video_id = call(offline_stack, "POST", "/videos", user="dan", json=VALID).json()["video"]["id"]
    record = VideoRecord.get(video_id, "VIDEO")
    record.update(actions=[VideoRecord.status.set("PROCESSING")], add_version_condition=False)
    master = f"{video_id}/hls/m.m3u8"
    download = f"{video_id}/download/video.mp4"
    videos.mark_completed(
        video_id, renditions=[], master_playlist_key=master, download_planned=True
    )
    preparing = call(offline_stack, "GET", f"/videos/{video_id}", user="dan").json()
    assert (preparing["status"], preparing["downloadStatus"]) == ("COMPLETED", "PREPARING")
    assert preparing["playback"]["hlsUrl"] and preparing["playback"]["downloadUrl"] is None
    # When it is made, then it is offered
    assert videos.mark_download(videos.get_video(video_id), None, download) is not None
    first = call(offline_stack, "GET", f"/videos/{video_id}", user="dan").json()
    assert first["downloadStatus"] == "READY"
    assert first["playback"]["downloadUrl"].split("?", 1)[0].endswith(f"/{download}")
    assert videos.mark_download(videos.get_video(video_id), None, download) is None  # once
    # When it is processed again with downloads off (Finalise plans no download)
    record = VideoRecord.get(video_id, "VIDEO")
    record.update(actions=[VideoRecord.status.set("PROCESSING")], add_version_condition=False)
    videos.mark_completed(video_id, renditions=[], master_playlist_key=master)
    # Then its playback offers no download
    again = call(offline_stack, "GET", f"/videos/{video_id}", user="dan").json()
    assert again["status"] == "COMPLETED"
    assert again["downloadStatus"] is None
    assert again["playback"]["downloadUrl"] is None
    assert VideoRecord.get(video_id, "VIDEO").download_key is None
