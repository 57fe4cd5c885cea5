"""The offline S3 front refuses what S3 refuses: presigned URLs that are tampered with,
expired, or used with other headers or another body size than signed; and it relays what S3
accepts to moto, which stores it (single PUT, multipart parts, Range GET, SDK calls)."""

from __future__ import annotations

import io
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from xml.etree import ElementTree

import boto3
import pytest
import requests
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from local.s3front import PresignedVerifier, S3FrontServer
from local.stack import OfflineStack

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

REGION = "us-east-1"
CREDENTIALS = {"testing": "testing"}  # what tests/support/moto_server.py gives every client
MIB = 1024 * 1024


@dataclass
class Clock:
    """The front's clock: a test moves it forward instead of waiting."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass(frozen=True)
class Front:
    url: str
    s3: S3Client  # header-authenticated SDK client, through the front
    bucket: str
    clock: Clock


@pytest.fixture(scope="module")
def front(moto_url: str) -> Iterator[Front]:
    clock = Clock()
    server = S3FrontServer(moto_url, PresignedVerifier(CREDENTIALS, REGION, clock))
    server.start()
    s3 = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    ).client("s3", endpoint_url=server.url, config=Config(signature_version="s3v4"))
    bucket = f"front-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    try:
        yield Front(server.url, s3, bucket, clock)
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def clock_now(front: Front) -> None:
    front.clock.offset = 0.0


def new_key() -> str:
    return f"{uuid.uuid4().hex}/source"


def presign_put(front: Front, key: str, **params: Any) -> str:
    url: str = front.s3.generate_presigned_url(
        "put_object", Params={"Bucket": front.bucket, "Key": key, **params}, ExpiresIn=600
    )
    return url


def error_code(response: requests.Response) -> str:
    code = ElementTree.fromstring(response.content).findtext("Code")
    return code or ""


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit(parts._replace(query=urlencode({**query, **changes})))


def exists(front: Front, key: str) -> bool:
    return "Contents" in front.s3.list_objects_v2(Bucket=front.bucket, Prefix=key)


def test_a_valid_presigned_put_stores_the_object(front: Front) -> None:
    key = new_key()
    url = presign_put(front, key, ContentType="video/mp4", ContentLength=11)

    response = requests.put(url, data=b"hello video", headers={"Content-Type": "video/mp4"})

    assert response.status_code == 200, response.text
    stored = front.s3.get_object(Bucket=front.bucket, Key=key)
    assert stored["Body"].read() == b"hello video"
    assert stored["ContentType"] == "video/mp4"
    assert response.headers["ETag"] == stored["ETag"]


@pytest.mark.parametrize("body", [b"x" * 12, b"x" * 10], ids=["larger", "smaller"])
def test_a_body_of_another_size_than_signed_is_refused(front: Front, body: bytes) -> None:
    key = new_key()
    url = presign_put(front, key, ContentType="video/mp4", ContentLength=11)

    response = requests.put(url, data=body, headers={"Content-Type": "video/mp4"})

    assert response.status_code == 403
    assert error_code(response) == "SignatureDoesNotMatch"
    assert not exists(front, key)


def test_a_body_shorter_than_its_content_length_is_not_stored(front: Front) -> None:
    # Given a client that declares the signed length, then sends less and stops
    key = new_key()
    url = urlsplit(presign_put(front, key, ContentLength=11))
    assert url.hostname and url.port
    with socket.create_connection((url.hostname, url.port)) as connection:
        connection.sendall(
            f"PUT {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n"
            "Content-Length: 11\r\n\r\nhello".encode()
        )
        connection.shutdown(socket.SHUT_WR)
        answer = connection.makefile("rb").read()

    assert answer.startswith(b"HTTP/1.1 400")
    assert b"<Code>IncompleteBody</Code>" in answer
    assert not exists(front, key)


def test_an_expired_url_is_refused_as_expired(front: Front) -> None:
    key = new_key()
    url = front.s3.generate_presigned_url(
        "put_object", Params={"Bucket": front.bucket, "Key": key}, ExpiresIn=60
    )
    front.clock.offset = 61  # a minute and a second later

    response = requests.put(url, data=b"late")

    assert response.status_code == 403
    assert error_code(response) == "AccessDenied"
    message = ElementTree.fromstring(response.content).findtext("Message")
    assert message == "Request has expired"
    assert not exists(front, key)


def test_a_tampered_key_is_refused(front: Front) -> None:
    url = presign_put(front, new_key())
    other = new_key()
    parts = urlsplit(url)
    tampered = urlunsplit(parts._replace(path=f"/{front.bucket}/{other}"))

    response = requests.put(tampered, data=b"data")

    assert response.status_code == 403
    assert error_code(response) == "SignatureDoesNotMatch"
    assert not exists(front, other)


def test_a_tampered_signature_is_refused(front: Front) -> None:
    key = new_key()
    url = presign_put(front, key)
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]

    response = requests.put(with_query(url, **{"X-Amz-Signature": flipped}), data=b"data")

    assert response.status_code == 403
    assert error_code(response) == "SignatureDoesNotMatch"
    assert not exists(front, key)


def test_a_part_url_signs_its_part_number_and_length(front: Front) -> None:
    # Given a multipart upload and a URL signed for part 1 of 5 MiB
    key = new_key()
    upload_id = front.s3.create_multipart_upload(Bucket=front.bucket, Key=key)["UploadId"]
    url = front.s3.generate_presigned_url(
        "upload_part",
        Params={
            "Bucket": front.bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": 1,
            "ContentLength": 5 * MIB,
        },
        ExpiresIn=600,
    )
    part = b"p" * (5 * MIB)

    # When it is used for another part number, or with another size, then as signed
    other_part = requests.put(with_query(url, partNumber="2"), data=part)
    repeated_part = requests.put(url.replace("?", "?partNumber=2&", 1), data=part)
    other_size = requests.put(url, data=part + b"p")
    as_signed = requests.put(url, data=part)

    # Then only the signed use reaches S3
    assert (other_part.status_code, error_code(other_part)) == (403, "SignatureDoesNotMatch")
    assert (repeated_part.status_code, error_code(repeated_part)) == (403, "SignatureDoesNotMatch")
    assert (other_size.status_code, error_code(other_size)) == (403, "SignatureDoesNotMatch")
    assert as_signed.status_code == 200, as_signed.text
    parts = front.s3.list_parts(Bucket=front.bucket, Key=key, UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * MIB)]


def test_another_content_type_than_signed_is_refused(front: Front) -> None:
    key = new_key()
    url = presign_put(front, key, ContentType="video/mp4")

    response = requests.put(url, data=b"data", headers={"Content-Type": "text/html"})

    assert response.status_code == 403
    assert error_code(response) == "SignatureDoesNotMatch"
    assert not exists(front, key)


def test_an_unsigned_amz_header_is_refused(front: Front) -> None:
    key = new_key()
    url = presign_put(front, key)

    response = requests.put(url, data=b"data", headers={"x-amz-acl": "public-read"})

    assert response.status_code == 403
    assert error_code(response) == "AccessDenied"
    assert not exists(front, key)


def test_a_signed_if_none_match_refuses_a_second_put(front: Front) -> None:
    key = new_key()
    url = presign_put(front, key, IfNoneMatch="*")
    headers = {"If-None-Match": "*"}

    first = requests.put(url, data=b"first", headers=headers)
    second = requests.put(url, data=b"second", headers=headers)
    without_condition = requests.put(url, data=b"third")  # the condition is signed

    assert first.status_code == 200, first.text
    assert (second.status_code, error_code(second)) == (412, "PreconditionFailed")
    assert without_condition.status_code == 403
    assert front.s3.get_object(Bucket=front.bucket, Key=key)["Body"].read() == b"first"


def test_a_presigned_get_serves_ranges_and_keeps_the_connection(front: Front) -> None:
    key = new_key()
    body = bytes(range(256)) * 8192  # 2 MiB: more than one relayed chunk
    front.s3.put_object(Bucket=front.bucket, Key=key, Body=body)
    url = front.s3.generate_presigned_url(
        "get_object", Params={"Bucket": front.bucket, "Key": key}, ExpiresIn=600
    )

    with requests.Session() as session:  # one kept-alive connection, as ffmpeg uses
        whole = session.get(url)
        tail = session.get(url, headers={"Range": "bytes=2097000-"})
        middle = session.get(url, headers={"Range": "bytes=1000-1999"})

    assert whole.status_code == 200 and whole.content == body
    assert tail.status_code == 206 and tail.content == body[2097000:]
    assert middle.status_code == 206 and middle.content == body[1000:2000]
    assert middle.headers["Content-Range"] == f"bytes 1000-1999/{len(body)}"


def test_a_presigned_get_used_for_head_is_refused(front: Front) -> None:
    key = new_key()
    front.s3.put_object(Bucket=front.bucket, Key=key, Body=b"x")
    get_url = front.s3.generate_presigned_url(
        "get_object", Params={"Bucket": front.bucket, "Key": key}, ExpiresIn=600
    )
    head_url = front.s3.generate_presigned_url(
        "head_object", Params={"Bucket": front.bucket, "Key": key}, ExpiresIn=600
    )

    assert requests.head(get_url).status_code == 403  # the method is signed
    head = requests.head(head_url)
    assert head.status_code == 200 and head.headers["Content-Length"] == "1"


def test_an_unsigned_request_is_refused(front: Front) -> None:
    key = new_key()
    front.s3.put_object(Bucket=front.bucket, Key=key, Body=b"private")

    response = requests.get(f"{front.url}/{front.bucket}/{key}")

    assert (response.status_code, error_code(response)) == (403, "AccessDenied")


def test_cors_preflight_is_answered_by_the_bucket_configuration(front: Front) -> None:
    front.s3.put_bucket_cors(
        Bucket=front.bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedMethods": ["PUT"],
                    "AllowedOrigins": ["http://app.example"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                }
            ]
        },
    )
    key = new_key()
    url = presign_put(front, key)
    origin = {"Origin": "http://app.example"}

    preflight = requests.options(url, headers={**origin, "Access-Control-Request-Method": "PUT"})
    upload = requests.put(url, data=b"from a browser", headers=origin)

    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://app.example"
    assert "PUT" in preflight.headers["Access-Control-Allow-Methods"]
    assert upload.status_code == 200
    assert "ETag" in upload.headers["Access-Control-Expose-Headers"]


def test_sdk_calls_pass_through(front: Front) -> None:
    # Given a large object sent with the SDK's managed (multipart) upload
    key = new_key()
    body = b"s" * (9 * MIB)
    config = TransferConfig(multipart_threshold=5 * MIB)
    front.s3.upload_fileobj(io.BytesIO(body), front.bucket, key, Config=config)

    head = front.s3.head_object(Bucket=front.bucket, Key=key)
    ranged = front.s3.get_object(Bucket=front.bucket, Key=key, Range="bytes=0-9")
    front.s3.delete_object(Bucket=front.bucket, Key=key)

    assert head["ContentLength"] == len(body)
    assert ranged["Body"].read() == b"s" * 10
    assert not exists(front, key)


def test_the_offline_stack_presigns_and_transcodes_through_the_front(
    offline_stack: OfflineStack,
) -> None:
    # Given the API's upload instructions for a small video
    body: dict[str, Any] = {
        "title": "Clip",
        "filename": "clip.mp4",
        "contentType": "video/mp4",
        "sizeBytes": 4,
    }
    created = requests.post(
        f"{offline_stack.api_url}/videos",
        json=body,
        headers={"Authorization": f"Bearer {offline_stack.token('fran')}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    upload = created.json()["upload"]

    # When the URL is used with another content type than signed
    refused = requests.put(
        upload["url"], data=b"\0\0\0\0", headers={**upload["headers"], "Content-Type": "text/html"}
    )

    # Then the front refuses it, and the transcoder tasks reach S3 through the front too
    assert upload["url"].startswith(f"{offline_stack.s3_endpoint_url}/")
    assert (refused.status_code, error_code(refused)) == (403, "SignatureDoesNotMatch")
    ecs = offline_stack.client("ecs")
    container = ecs.describe_task_definition(taskDefinition=offline_stack.config.names.task_family)[
        "taskDefinition"
    ]["containerDefinitions"][0]
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["AWS_ENDPOINT_URL_S3"] == offline_stack.s3_endpoint_url


def test_a_client_that_resets_mid_body_is_let_go_quietly(
    front: Front, capfd: pytest.CaptureFixture[str]
) -> None:
    """ffprobe and players close a connection mid-object all the time: the front drops the
    rest with its upstream connection, prints no traceback, and serves the next request."""
    key = new_key()
    body = bytes(range(256)) * 16384  # 4 MiB: the client leaves after the first bytes
    front.s3.put_object(Bucket=front.bucket, Key=key, Body=body)
    url = urlsplit(
        front.s3.generate_presigned_url(
            "get_object", Params={"Bucket": front.bucket, "Key": key}, ExpiresIn=600
        )
    )
    with socket.create_connection((url.hostname, url.port), timeout=10) as client:
        client.sendall(
            f"GET {url.path}?{url.query} HTTP/1.1\r\nHost: {url.netloc}\r\n\r\n".encode()
        )
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
        # close with a reset (SO_LINGER 0), as a killed ffprobe's socket goes
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    time.sleep(0.5)  # the front meets the reset on its next writes

    again = requests.get(url.geturl(), headers={"Range": "bytes=0-99"}, timeout=10)

    assert again.status_code == 206 and again.content == body[:100]
    assert "Traceback" not in capfd.readouterr().err
