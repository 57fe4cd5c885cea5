"""The API's routes in one process: the resolver's own dependencies replaced through
`app.dependency_overrides` by adapters on moto's in-memory AWS, no stack and no HTTP.

Covers uploads (single PUT and multipart), the request validators, and the status
transitions the routes allow or refuse."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from moto import mock_aws

from lambdas.api.dependencies import ApiDependencies, caller_id, get_dependencies
from lambdas.api.error_responses import domain_error
from lambdas.api.idempotency import IdempotencyInProgress, IdempotencyKeyReused
from lambdas.api.routes import app
from lambdas.core.errors import UploadAlreadyCompleted, VideoBusy
from lambdas.core.models import ProcessingLogEntry, VideoRecord
from lambdas.core.settings import ApiSettings
from local.lambda_context import LocalLambdaContext

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_s3 import S3Client

MIB = 1024 * 1024
VALID = {"title": "Holiday", "filename": "holiday.mp4", "contentType": "video/mp4"}


@dataclass(frozen=True)
class Api:
    deps: ApiDependencies

    @property
    def s3(self) -> S3Client:
        return self.deps.s3

    @property
    def bucket(self) -> str:
        return self.deps.settings.uploads_bucket

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str | None = "alice",
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """Resolves one HTTP API (payload 2.0) request; returns status, headers and JSON."""
        context: dict[str, Any] = {
            "http": {"method": method, "path": path, "sourceIp": "127.0.0.1"},
            "requestId": uuid.uuid4().hex,
            "stage": "$default",
        }
        if user:  # what the JWT authorizer passes on for a valid token
            context["authorizer"] = {"jwt": {"claims": {"sub": user}, "scopes": None}}
        event = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
            "queryStringParameters": query,
            "headers": {"content-type": "application/json", **(headers or {})},
            "body": None if body is None else json.dumps(body),
            "isBase64Encoded": False,
            "requestContext": context,
        }
        lambda_context = LocalLambdaContext("api", "arn:aws:lambda:us-east-1:0:function:api")
        response = app.resolve(event, cast("LambdaContext", lambda_context))
        text = response.get("body") or "null"
        return response["statusCode"], response.get("headers", {}), json.loads(text)

    def create(self, size_bytes: int = 1000, **fields: Any) -> dict[str, Any]:
        status, _, body = self.call("POST", "/videos", {**VALID, "sizeBytes": size_bytes, **fields})
        assert status == 201, body
        return dict(body)

    def put_source(self, video_id: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=f"{video_id}/source", Body=data)


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    # Boto3 clients reach moto in memory, not an endpoint an offline stack may have exported.
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_LAMBDA_FUNCTION_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    suffix = uuid.uuid4().hex[:12]
    settings = ApiSettings(
        videos_table_name=f"videos-{suffix}",
        uploads_bucket=f"uploads-{suffix}",
        media_bucket=f"media-{suffix}",
        state_machine_arn="arn:aws:states:us-east-1:000000000000:stateMachine:none",
        idempotency_table_name=f"idempotency-{suffix}",
        cdn_domain="cdn.example",
        cdn_key_pair_id="K1",
        cdn_private_key_secret_arn="arn:aws:secretsmanager:us-east-1:000000000000:secret:none",
        multipart_threshold_bytes=100 * MIB,
        multipart_part_bytes=5 * MIB,
        max_active_videos_per_user=2,
    )
    for model in (VideoRecord, ProcessingLogEntry):  # restored afterwards, like the env
        monkeypatch.setattr(model.Meta, "table_name", settings.videos_table_name)
    # An offline stack in this session keeps its state in the same moto backends: neither
    # reset them on entry nor remove their data on exit (every name here is unique).
    mock = mock_aws()
    mock.start(reset=False)
    try:
        yield Api(_moto_dependencies(settings))
    finally:
        app.dependency_overrides.clear()
        mock.stop(remove_data=False)


def _moto_dependencies(settings: ApiSettings) -> ApiDependencies:
    deps = ApiDependencies(settings)  # its clients are made on first use, inside the mock
    deps.s3.create_bucket(Bucket=settings.uploads_bucket)
    deps.s3.put_bucket_versioning(
        Bucket=settings.uploads_bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    deps.s3.create_bucket(Bucket=settings.media_bucket)
    VideoRecord.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
    boto3.client("dynamodb").create_table(
        TableName=settings.idempotency_table_name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    app.dependency_overrides[get_dependencies] = lambda: deps
    return deps


# --- the caller -------------------------------------------------------------------------


def test_the_caller_is_the_tokens_subject_and_a_request_without_one_is_401(api: Api) -> None:
    video = api.create()["video"]
    status, _, body = api.call("GET", "/videos", user=None)
    assert status == 401 and "signed-in user" in body["message"]
    _, _, alices = api.call("GET", "/videos", user="alice")
    _, _, bobs = api.call("GET", "/videos", user="bob")
    assert [item["id"] for item in alices["items"]] == [video["id"]]
    assert bobs["items"] == []
    assert api.call("GET", f"/videos/{video['id']}/upload/parts", user="bob")[0] == 404


def test_an_overridden_caller_is_who_the_routes_act_for(api: Api) -> None:
    app.dependency_overrides[caller_id] = lambda: "carol"
    video = api.create()["video"]
    app.dependency_overrides.pop(caller_id)
    _, _, carols = api.call("GET", "/videos", user="carol")
    assert [item["id"] for item in carols["items"]] == [video["id"]]


# --- uploads ----------------------------------------------------------------------------


def test_a_single_put_of_the_declared_size_completes_the_upload_once(api: Api) -> None:
    created = api.create(size_bytes=1000)
    video_id = created["video"]["id"]
    assert created["upload"]["type"] == "single"
    assert created["upload"]["headers"]["If-None-Match"] == "*"
    api.put_source(video_id, b"v" * 1000)

    status, _, body = api.call("POST", f"/videos/{video_id}/upload/complete", {})
    assert status == 200, body
    assert body["video"]["status"] == "UPLOADED"
    assert body["location"] == f"/videos/{video_id}"
    tags = api.s3.get_object_tagging(Bucket=api.bucket, Key=f"{video_id}/source")
    assert tags["TagSet"] == []  # checked: no longer a pending upload the bucket expires

    status, _, again = api.call("POST", f"/videos/{video_id}/upload/complete", {})
    assert status == 409 and again["code"] == "UPLOAD_ALREADY_COMPLETED"


def test_a_source_of_another_size_is_deleted_and_the_video_fails(api: Api) -> None:
    video_id = api.create(size_bytes=1000)["video"]["id"]
    api.put_source(video_id, b"v" * 999)
    status, _, body = api.call("POST", f"/videos/{video_id}/upload/complete", {})
    assert status == 422 and body["code"] == "UPLOAD_SIZE_MISMATCH"
    versions = api.s3.list_object_versions(Bucket=api.bucket, Prefix=f"{video_id}/")
    assert not versions.get("Versions")
    assert VideoRecord.get(video_id, "VIDEO").status == "FAILED"


def test_completing_before_the_source_is_there_is_409(api: Api) -> None:
    video_id = api.create()["video"]["id"]
    status, _, body = api.call("POST", f"/videos/{video_id}/upload/complete", {})
    assert status == 409 and body["code"] == "UPLOAD_NOT_FINISHED"


def test_a_multipart_upload_signs_lists_and_completes_its_planned_parts(api: Api) -> None:
    size = 5 * MIB + 10  # two parts of the 5 MiB part size
    created = api.create(size_bytes=size, multipart=True)
    video_id, upload = created["video"]["id"], created["upload"]
    assert upload["type"] == "multipart" and upload["partCount"] == 2
    upload_id = upload["uploadId"]

    status, _, signed = api.call("GET", f"/videos/{video_id}/upload/parts/2/url")
    assert status == 200 and signed["method"] == "PUT"
    query = parse_qs(urlsplit(signed["url"]).query)
    assert query["partNumber"] == ["2"] and query["uploadId"] == [upload_id]
    assert "content-length" in query["X-Amz-SignedHeaders"][0].split(";")  # the part's size
    status, _, refused = api.call("GET", f"/videos/{video_id}/upload/parts/3/url")
    assert status == 400 and refused["fields"][0]["field"] == "part_number"

    etags = []
    for number, data in ((1, b"a" * 5 * MIB), (2, b"b" * 10)):
        part = api.s3.upload_part(
            Bucket=api.bucket,
            Key=f"{video_id}/source",
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
        )
        etags.append({"PartNumber": number, "ETag": part["ETag"]})
    status, _, parts = api.call("GET", f"/videos/{video_id}/upload/parts")
    assert status == 200 and [(p["PartNumber"], p["Size"]) for p in parts] == [
        (1, 5 * MIB),
        (2, 10),
    ]

    status, _, partial = api.call(
        "POST", f"/videos/{video_id}/upload/complete", {"parts": etags[:1]}
    )
    assert status == 400 and partial["fields"][0]["field"] == "parts"
    status, _, done = api.call("POST", f"/videos/{video_id}/upload/complete", {"parts": etags})
    assert status == 200 and done["video"]["status"] == "UPLOADED", done
    stored = api.s3.head_object(Bucket=api.bucket, Key=f"{video_id}/source")
    assert stored["ContentLength"] == size


def test_an_aborted_multipart_upload_can_be_started_again(api: Api) -> None:
    created = api.create(size_bytes=6 * MIB, multipart=True)
    video_id, first = created["video"]["id"], created["upload"]["uploadId"]
    # An upload that is no longer the video's has nothing to abort: the current one stays.
    stale = {"uploadId": "not-this-one"}
    assert api.call("DELETE", f"/videos/{video_id}/upload", query=stale)[0] == 204
    assert api.call("GET", f"/videos/{video_id}/upload/parts")[0] == 200

    assert api.call("DELETE", f"/videos/{video_id}/upload", query={"uploadId": first})[0] == 204
    status, _, body = api.call("GET", f"/videos/{video_id}/upload/parts")
    assert status == 409 and body["code"] == "NO_MULTIPART_UPLOAD"

    status, _, restarted = api.call("POST", f"/videos/{video_id}/upload", {"multipart": True})
    assert status == 200 and restarted["upload"]["uploadId"] != first
    in_progress = api.s3.list_multipart_uploads(Bucket=api.bucket, Prefix=f"{video_id}/")
    assert [u["UploadId"] for u in in_progress["Uploads"]] == [restarted["upload"]["uploadId"]]


def test_a_retried_create_with_the_same_idempotency_key_returns_the_same_video(api: Api) -> None:
    request = {**VALID, "sizeBytes": 1000}
    key = {"Idempotency-Key": "k-1"}
    first = api.call("POST", "/videos", request, headers=key)
    again = api.call("POST", "/videos", request, headers=key)
    assert first[0] == again[0] == 201
    assert first[2]["video"]["id"] == again[2]["video"]["id"]
    _, _, listed = api.call("GET", "/videos")
    assert len(listed["items"]) == 1

    other = api.call("POST", "/videos", {**request, "title": "Other"}, headers=key)
    assert other[0] == 422 and other[2]["code"] == "IDEMPOTENCY_KEY_REUSED"
    # The records keep the key prefix they had before the routes moved to routers/.
    table = api.deps.settings.idempotency_table_name
    ids = [item["id"]["S"] for item in boto3.client("dynamodb").scan(TableName=table)["Items"]]
    assert len(ids) == 1
    assert ids[0].startswith("test-func.lambdas.api.routes._create_video_idempotently#")


# --- validators -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "tab\tin a title"}, "title"),
        ({"description": "zero\u200bwidth space"}, "description"),
        ({"tags": ["ok", ""]}, "tags.1"),
        ({"filename": "a\u202eb.mp4"}, "filename"),
        ({"contentType": "application/pdf"}, "contentType"),
        ({"sizeBytes": -1}, "sizeBytes"),
        ({"visibility": "friends"}, "visibility"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_each_invalid_field_is_a_400_naming_it(
    api: Api, change: dict[str, Any], field: str
) -> None:
    status, _, body = api.call("POST", "/videos", {**VALID, "sizeBytes": 1000, **change})
    assert status == 400 and body["code"] == "INVALID_REQUEST"
    assert [item["field"] for item in body["fields"]] == [field], body


def test_text_is_trimmed_tags_deduplicated_and_the_content_type_lowered(api: Api) -> None:
    created = api.create(title="  Holiday  ", tags=["sea", "sun", "sea"], contentType="Video/MP4")
    video = created["video"]
    assert video["title"] == "Holiday" and video["tags"] == ["sea", "sun"]
    assert created["upload"]["headers"]["Content-Type"] == "video/mp4"


def test_a_source_over_the_upload_limit_is_413_naming_size_bytes(api: Api) -> None:
    status, _, body = api.call("POST", "/videos", {**VALID, "sizeBytes": 50 * 1024**3 + 1})
    assert status == 413 and body["code"] == "TOO_LARGE"
    assert body["fields"][0]["field"] == "sizeBytes"


def test_a_body_that_is_not_json_is_415_and_a_bad_path_parameter_400(api: Api) -> None:
    form = {"content-type": "application/x-www-form-urlencoded"}
    status, _, body = api.call("POST", "/videos", VALID, headers=form)
    assert status == 415 and body["code"] == "UNSUPPORTED_MEDIA_TYPE"
    video_id = api.create(size_bytes=6 * MIB, multipart=True)["video"]["id"]
    status, _, body = api.call("GET", f"/videos/{video_id}/upload/parts/0/url")
    assert status == 400 and body["fields"][0]["field"] == "part_number"


# --- status transitions -----------------------------------------------------------------


def test_only_a_failed_video_can_be_reprocessed(api: Api) -> None:
    video_id = api.create()["video"]["id"]
    status, _, body = api.call("POST", f"/videos/{video_id}/reprocess")
    assert status == 409 and body["code"] == "INVALID_STATE"
    assert "PENDING_UPLOAD" in body["message"]


def test_an_uploaded_video_takes_no_new_upload_and_a_processing_one_is_not_deleted(
    api: Api,
) -> None:
    video_id = api.create(size_bytes=10)["video"]["id"]
    api.put_source(video_id, b"0123456789")
    assert api.call("POST", f"/videos/{video_id}/upload/complete", {})[0] == 200
    status, _, body = api.call("POST", f"/videos/{video_id}/upload", {})
    assert status == 409 and body["code"] == "UPLOAD_ALREADY_COMPLETED"

    record = VideoRecord.get(video_id, "VIDEO")  # the workflow claims it (a state of the ASL)
    record.update(actions=[VideoRecord.status.set("PROCESSING")])
    status, _, body = api.call("DELETE", f"/videos/{video_id}")
    assert status == 409 and body["code"] == "VIDEO_PROCESSING"
    status, _, body = api.call("POST", f"/videos/{video_id}/reprocess")
    assert status == 409 and body["code"] == "INVALID_STATE"
    assert VideoRecord.get(video_id, "VIDEO").status == "PROCESSING"


def test_a_deleted_video_is_gone_and_deleting_it_again_is_fine(api: Api) -> None:
    video_id = api.create()["video"]["id"]
    assert api.call("DELETE", f"/videos/{video_id}")[0] == 204
    assert api.call("GET", f"/videos/{video_id}/upload/parts")[0] == 404
    assert api.call("DELETE", f"/videos/{video_id}")[0] == 204
    assert VideoRecord.get(video_id, "VIDEO").status == "DELETED"


def test_more_active_videos_than_the_limit_are_refused_with_retry_after(api: Api) -> None:
    for _ in range(2):  # the limit in the fixture's settings
        video_id = api.create(size_bytes=10)["video"]["id"]
        api.put_source(video_id, b"0123456789")
        assert api.call("POST", f"/videos/{video_id}/upload/complete", {})[0] == 200
    status, headers, body = api.call("POST", "/videos", {**VALID, "sizeBytes": 10})
    assert status == 429 and body["code"] == "TOO_MANY_ACTIVE_VIDEOS"
    assert int(headers["Retry-After"]) > 0


def test_a_domain_error_takes_the_status_of_its_nearest_mapped_class() -> None:
    assert domain_error(UploadAlreadyCompleted("done")).status_code == 409
    assert domain_error(VideoBusy("busy")).status_code == 409


def test_the_idempotency_refusals_are_mapped_with_the_domain_errors() -> None:
    reused = domain_error(IdempotencyKeyReused())
    assert reused.status_code == 422 and reused.body["code"] == "IDEMPOTENCY_KEY_REUSED"
    in_progress = domain_error(IdempotencyInProgress())
    assert in_progress.status_code == 409 and in_progress.body["code"] == "IDEMPOTENCY_IN_PROGRESS"


def test_a_video_with_nothing_to_play_is_read_without_the_signing_key(api: Api) -> None:
    # Given an API whose CDN signing key is not stored (the fixture's secret does not exist)
    video_id = api.create()["video"]["id"]
    # When the owner reads a video that has no playlist yet
    status, _, body = api.call("GET", f"/videos/{video_id}")
    # Then it is served without playback, and the key was never asked for
    assert status == 200 and body["playback"] is None
    assert "signer" not in vars(api.deps)


def test_the_api_clients_share_the_models_botocore_session(api: Api) -> None:
    assert api.deps.session is VideoRecord._get_connection().connection.session
