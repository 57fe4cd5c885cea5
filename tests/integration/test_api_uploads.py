"""The upload endpoints over real HTTP: the single-PUT and multipart plans, the multipart
protocol Uppy's @uppy/aws-s3 speaks (sign part, list parts, complete, abort), and the size
each upload is held to."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from lambdas.core.uploads import part_size_for
from local.stack import OfflineStack

MIB = 1024 * 1024
PART = 5 * MIB  # S3's smallest part (but the last)


def call(
    stack: OfflineStack,
    method: str,
    path: str,
    user: str = "uma",
    **kwargs: Any,
) -> requests.Response:
    headers = {"Authorization": f"Bearer {stack.token(user)}"}
    return requests.request(method, f"{stack.api_url}{path}", headers=headers, timeout=30, **kwargs)


def create(stack: OfflineStack, size: int, user: str = "uma", **extra: Any) -> dict[str, Any]:
    body = {
        "title": "Clip",
        "filename": "clip.mp4",
        "contentType": "video/mp4",
        "sizeBytes": size,
        **extra,
    }
    response = call(stack, "POST", "/videos", user=user, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def put_part(stack: OfflineStack, video_id: str, number: int, data: bytes) -> str:
    signed = call(stack, "GET", f"/videos/{video_id}/upload/parts/{number}/url").json()
    response = requests.put(signed["url"], data=data, headers=signed["headers"], timeout=60)
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


def signed_headers(url: str) -> list[str]:
    return parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")


def uploads_bucket(stack: OfflineStack) -> str:
    return stack.config.names.uploads_bucket


def test_a_large_declared_size_gets_a_multipart_plan(offline_stack: OfflineStack) -> None:
    created = create(offline_stack, 200 * MIB)
    upload = created["upload"]
    assert upload["type"] == "multipart"
    assert upload["key"] == f"{created['video']['id']}/source"
    assert upload["uploadId"] and upload["partSizeBytes"] == 16 * MIB
    assert upload["partCount"] == 13
    # A file bigger than 10,000 default parts (above today's limit) would get bigger parts.
    assert part_size_for(200 * 1024**3, 16 * MIB) * 10_000 >= 200 * 1024**3
    assert part_size_for(200 * 1024**3, 16 * MIB) % MIB == 0


def test_a_client_may_ask_for_either_kind_of_upload(offline_stack: OfflineStack) -> None:
    assert create(offline_stack, 1000, multipart=True)["upload"]["type"] == "multipart"
    assert create(offline_stack, 200 * MIB, multipart=False)["upload"]["type"] == "single"
    too_big_for_one_put = call(
        offline_stack,
        "POST",
        "/videos",
        json={
            "title": "t",
            "filename": "f.mp4",
            "contentType": "video/mp4",
            "sizeBytes": 6 * 1024**3,
            "multipart": False,
        },
    )
    assert too_big_for_one_put.status_code == 400
    assert too_big_for_one_put.json()["fields"][0]["field"] == "multipart"


def test_sign_part_gives_a_sigv4_url_signed_for_that_parts_size(
    offline_stack: OfflineStack,
) -> None:
    created = create(offline_stack, 20 * MIB, multipart=True)  # parts: 16 MiB, 4 MiB
    video_id, upload_id = created["video"]["id"], created["upload"]["uploadId"]
    response = call(offline_stack, "GET", f"/videos/{video_id}/upload/parts/2/url")
    assert response.status_code == 200
    signed = response.json()
    # Content-Length is signed, and browsers set it themselves: nothing else to send.
    assert signed["method"] == "PUT" and signed["expires"] > 0 and signed["headers"] == {}
    assert f"/{video_id}/source?" in signed["url"]
    assert "partNumber=2" in signed["url"] and f"uploadId={upload_id}" in signed["url"]
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in signed["url"]
    assert signed_headers(signed["url"]) == ["content-length", "host"]


def test_a_part_beyond_the_plan_cannot_be_signed(offline_stack: OfflineStack) -> None:
    created = create(offline_stack, 20 * MIB, multipart=True)
    assert created["upload"]["partCount"] == 2
    video_id = created["video"]["id"]
    response = call(offline_stack, "GET", f"/videos/{video_id}/upload/parts/3/url")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "INVALID_REQUEST"
    assert body["fields"][0]["field"] == "part_number"
    assert "parts 1 to 2" in body["message"]


def test_the_single_put_signs_its_size_type_no_overwrite_and_pending_tag(
    offline_stack: OfflineStack,
) -> None:
    upload = create(offline_stack, 1000)["upload"]
    assert upload["type"] == "single"
    assert signed_headers(upload["url"]) == [
        "content-length",
        "content-type",
        "host",
        "if-none-match",
        "x-amz-tagging",
    ]
    assert upload["headers"] == {
        "Content-Type": "video/mp4",
        "If-None-Match": "*",
        "x-amz-tagging": "upload=pending",
    }


@pytest.mark.parametrize("number", ["0", "10001", "one"])
def test_a_bad_part_number_is_a_400_naming_it(offline_stack: OfflineStack, number: str) -> None:
    video_id = create(offline_stack, 20 * MIB, multipart=True)["video"]["id"]
    response = call(offline_stack, "GET", f"/videos/{video_id}/upload/parts/{number}/url")
    assert response.status_code == 400
    assert response.json()["fields"][0]["field"] == "part_number"


def test_parts_are_listed_with_size_and_etag(offline_stack: OfflineStack) -> None:
    video_id = create(offline_stack, 1000, multipart=True)["video"]["id"]
    assert call(offline_stack, "GET", f"/videos/{video_id}/upload/parts").json() == []
    etag = put_part(offline_stack, video_id, 1, b"b" * 1000)
    parts = call(offline_stack, "GET", f"/videos/{video_id}/upload/parts").json()
    assert parts == [{"PartNumber": 1, "Size": 1000, "ETag": etag}]


def test_a_stale_upload_id_is_a_409(offline_stack: OfflineStack) -> None:
    video_id = create(offline_stack, 20 * MIB, multipart=True)["video"]["id"]
    for method, path in [
        ("GET", f"/videos/{video_id}/upload/parts?uploadId=old"),
        ("GET", f"/videos/{video_id}/upload/parts/1/url?uploadId=old"),
    ]:
        response = call(offline_stack, method, path)
        assert response.status_code == 409
        assert response.json()["code"] == "NO_MULTIPART_UPLOAD"


def test_abort_drops_the_upload_and_a_new_one_can_start(offline_stack: OfflineStack) -> None:
    created = create(offline_stack, 100, multipart=True)
    video_id, first = created["video"]["id"], created["upload"]["uploadId"]
    put_part(offline_stack, video_id, 1, b"a" * 100)

    assert call(offline_stack, "DELETE", f"/videos/{video_id}/upload").status_code == 204
    assert call(offline_stack, "DELETE", f"/videos/{video_id}/upload").status_code == 204
    gone = call(offline_stack, "GET", f"/videos/{video_id}/upload/parts")
    assert gone.status_code == 409 and gone.json()["code"] == "NO_MULTIPART_UPLOAD"
    uploads = offline_stack.client("s3").list_multipart_uploads(
        Bucket=offline_stack.config.names.uploads_bucket, Prefix=f"{video_id}/"
    )
    assert not uploads.get("Uploads")

    again = call(offline_stack, "POST", f"/videos/{video_id}/upload", json={"multipart": True})
    assert again.status_code == 200
    second = again.json()["upload"]
    assert second["type"] == "multipart" and second["uploadId"] != first
    # Asking again resumes the upload in progress instead of starting a third.
    resumed = call(offline_stack, "POST", f"/videos/{video_id}/upload", json={}).json()["upload"]
    assert resumed["uploadId"] == second["uploadId"]


def test_a_single_put_video_gets_a_fresh_url_and_has_no_parts(offline_stack: OfflineStack) -> None:
    video_id = create(offline_stack, 1000)["video"]["id"]
    fresh = call(offline_stack, "POST", f"/videos/{video_id}/upload")
    assert fresh.status_code == 200 and fresh.json()["upload"]["type"] == "single"
    no_parts = call(offline_stack, "GET", f"/videos/{video_id}/upload/parts/1/url")
    assert no_parts.status_code == 409 and no_parts.json()["code"] == "NO_MULTIPART_UPLOAD"
    early = call(offline_stack, "POST", f"/videos/{video_id}/upload/complete", json={})
    assert early.status_code == 409 and early.json()["code"] == "UPLOAD_NOT_FINISHED"


def test_complete_checks_the_part_list(offline_stack: OfflineStack) -> None:
    video_id = create(offline_stack, 10, multipart=True)["video"]["id"]
    etag = put_part(offline_stack, video_id, 1, b"x" * 10)
    path = f"/videos/{video_id}/upload/complete"

    without_parts = call(offline_stack, "POST", path, json={})
    assert without_parts.status_code == 400
    assert without_parts.json()["fields"][0]["field"] == "parts"

    wrong_etag = call(
        offline_stack, "POST", path, json={"parts": [{"PartNumber": 1, "ETag": '"0000"'}]}
    )
    assert wrong_etag.status_code == 400
    assert wrong_etag.json()["fields"][0]["field"] == "parts"

    duplicated = {"parts": [{"PartNumber": 1, "ETag": etag}, {"PartNumber": 1, "ETag": etag}]}
    assert call(offline_stack, "POST", path, json=duplicated).status_code == 400

    malformed = call(offline_stack, "POST", path, json={"parts": [{"PartNumber": 0, "ETag": ""}]})
    assert malformed.status_code == 400
    assert malformed.json()["fields"][0]["field"].startswith("parts")


def test_complete_refuses_a_part_list_that_cannot_make_the_declared_size(
    offline_stack: OfflineStack,
) -> None:
    created = create(offline_stack, 20 * MIB, multipart=True)  # parts: 16 MiB, 4 MiB
    video_id = created["video"]["id"]
    etag = put_part(offline_stack, video_id, 2, b"z" * (4 * MIB))
    path = f"/videos/{video_id}/upload/complete"

    missing = call(offline_stack, "POST", path, json={"parts": [{"PartNumber": 2, "ETag": etag}]})
    assert missing.status_code == 400
    assert missing.json()["fields"][0]["field"] == "parts"
    assert "missing parts 1:" in missing.json()["message"]
    # Nothing was assembled, and the upload waits for its missing part.
    listed = call(offline_stack, "GET", f"/videos/{video_id}/upload/parts").json()
    assert [p["PartNumber"] for p in listed] == [2]
    assert call(offline_stack, "GET", f"/videos/{video_id}").json()["status"] == "PENDING_UPLOAD"


def test_a_single_put_cannot_replace_a_source_that_landed(offline_stack: OfflineStack) -> None:
    upload = create(offline_stack, 10)["upload"]
    first = requests.put(upload["url"], data=b"0123456789", headers=upload["headers"], timeout=30)
    assert first.status_code == 200, first.text
    again = requests.put(upload["url"], data=b"9876543210", headers=upload["headers"], timeout=30)
    assert again.status_code == 412
    offline_stack.wait_for_executions(timeout_seconds=120)  # the junk fails in the probe


def test_a_correct_single_put_completes_and_keeps_its_source(offline_stack: OfflineStack) -> None:
    created = create(offline_stack, 10)
    video_id, upload = created["video"]["id"], created["upload"]
    landed = requests.put(upload["url"], data=b"0123456789", headers=upload["headers"], timeout=30)
    assert landed.status_code == 200, landed.text
    s3, key = offline_stack.client("s3"), f"{video_id}/source"
    pending = s3.get_object_tagging(Bucket=uploads_bucket(offline_stack), Key=key)["TagSet"]
    assert pending == [{"Key": "upload", "Value": "pending"}]

    done = call(offline_stack, "POST", f"/videos/{video_id}/upload/complete", json={})
    assert done.status_code == 200, done.text
    assert done.json()["video"]["uploadedAt"]
    # Checked: no longer a candidate for the unfinished-upload expiry.
    assert s3.get_object_tagging(Bucket=uploads_bucket(offline_stack), Key=key)["TagSet"] == []
    assert s3.head_object(Bucket=uploads_bucket(offline_stack), Key=key)["ContentLength"] == 10
    offline_stack.wait_for_executions(timeout_seconds=120)


def _assert_rejected_for_its_size(stack: OfflineStack, video_id: str, response: Any) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "UPLOAD_SIZE_MISMATCH"
    assert "bytes were declared; it has been deleted" in body["message"]
    versions = stack.client("s3").list_object_versions(
        Bucket=uploads_bucket(stack), Prefix=f"{video_id}/"
    )
    assert not versions.get("Versions") and not versions.get("DeleteMarkers")
    stack.wait_for_executions(timeout_seconds=120)
    video = call(stack, "GET", f"/videos/{video_id}").json()
    assert video["status"] == "FAILED"
    assert video["error"]["code"] == "UPLOAD_SIZE_MISMATCH"


def test_a_single_put_of_another_size_ends_upload_size_mismatch_with_the_object_gone(
    offline_stack: OfflineStack,
) -> None:
    # Given a source stored behind the signed URL's back, larger than declared, which the
    # pipeline has already failed as not a video
    video_id = create(offline_stack, 1000)["video"]["id"]
    offline_stack.client("s3").put_object(
        Bucket=uploads_bucket(offline_stack), Key=f"{video_id}/source", Body=b"x" * 5000
    )
    offline_stack.wait_for_executions(timeout_seconds=120)
    assert call(offline_stack, "GET", f"/videos/{video_id}").json()["status"] == "FAILED"
    # When the client completes, then the source is deleted and the video FAILED for its size
    response = call(offline_stack, "POST", f"/videos/{video_id}/upload/complete", json={})
    _assert_rejected_for_its_size(offline_stack, video_id, response)
    reprocess = call(offline_stack, "POST", f"/videos/{video_id}/reprocess")
    assert reprocess.status_code == 409 and reprocess.json()["code"] == "SOURCE_MISSING"


def test_a_multipart_upload_of_another_size_ends_upload_size_mismatch_with_the_object_gone(
    offline_stack: OfflineStack,
) -> None:
    # Given a planned part stored behind the signed URL's back, shorter than planned
    created = create(offline_stack, 1000, multipart=True)
    video_id, upload_id = created["video"]["id"], created["upload"]["uploadId"]
    stored = offline_stack.client("s3").upload_part(
        Bucket=uploads_bucket(offline_stack),
        Key=f"{video_id}/source",
        UploadId=upload_id,
        PartNumber=1,
        Body=b"x" * 10,
    )
    parts = {"parts": [{"PartNumber": 1, "ETag": stored["ETag"]}]}
    response = call(offline_stack, "POST", f"/videos/{video_id}/upload/complete", json=parts)
    _assert_rejected_for_its_size(offline_stack, video_id, response)


def test_completing_twice_is_a_409(offline_stack: OfflineStack) -> None:
    video_id = create(offline_stack, 10, multipart=True)["video"]["id"]
    etag = put_part(offline_stack, video_id, 1, b"not video!")
    parts = {"parts": [{"PartNumber": 1, "ETag": etag}]}
    path = f"/videos/{video_id}/upload/complete"

    done = call(offline_stack, "POST", path, json=parts)
    assert done.status_code == 200, done.text
    assert done.json()["location"] == f"/videos/{video_id}"
    assert done.json()["video"]["uploadedAt"]

    twice = call(offline_stack, "POST", path, json=parts)
    assert twice.status_code == 409
    assert twice.json()["code"] == "UPLOAD_ALREADY_COMPLETED"
    for method, late in [
        ("GET", f"/videos/{video_id}/upload/parts/2/url"),
        ("DELETE", f"/videos/{video_id}/upload"),
        ("POST", f"/videos/{video_id}/upload"),
    ]:
        assert call(offline_stack, method, late).status_code == 409, late
    offline_stack.wait_for_executions(timeout_seconds=120)  # the junk fails in the probe


def test_a_size_over_the_limit_is_413_and_creates_nothing(offline_stack: OfflineStack) -> None:
    before = call(offline_stack, "GET", "/videos", user="vic").json()["items"]
    response = call(
        offline_stack,
        "POST",
        "/videos",
        user="vic",
        json={"title": "t", "filename": "f.mp4", "contentType": "video/mp4", "sizeBytes": 10**13},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "TOO_LARGE"
    assert call(offline_stack, "GET", "/videos", user="vic").json()["items"] == before


@pytest.mark.parametrize("content_type", ["image/png", "application/octet-stream", "video/x-flv"])
def test_only_video_types_are_allowed(offline_stack: OfflineStack, content_type: str) -> None:
    response = call(
        offline_stack,
        "POST",
        "/videos",
        json={"title": "t", "filename": "f.mp4", "contentType": content_type, "sizeBytes": 10},
    )
    assert response.status_code == 400
    assert response.json()["fields"][0]["field"] == "contentType"
