"""The loopback server the transcoder reads its source through, against moto's S3.

It must behave as S3 itself does for the requests FFmpeg makes (HEAD, GET, Range, a range
past the end), serve only the version it was given, and sign every request afresh with
the client's current credentials: that is what keeps a long encode reading after the
credentials it started with have expired.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
import pytest
import requests
from botocore.credentials import CredentialProvider, RefreshableCredentials

from tests.support.moto_server import aws_env
from transcoder.source_server import SourceServer

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from tests.integration.conftest import Buckets

KEY = "vid-1/source"
FIRST = os.urandom(5000)
SECOND = os.urandom(3000)  # what the key holds now


@pytest.fixture(scope="module")
def stored(s3: S3Client, make_buckets: Callable[[], Buckets]) -> tuple[str, str]:
    """A source uploaded, then overwritten: (bucket, the first version's id)."""
    buckets = make_buckets()
    first = s3.put_object(Bucket=buckets.uploads, Key=KEY, Body=FIRST)["VersionId"]
    s3.put_object(Bucket=buckets.uploads, Key=KEY, Body=SECOND)
    return buckets.uploads, first


@pytest.fixture(scope="module")
def url(s3: S3Client, stored: tuple[str, str]) -> Iterator[str]:
    bucket, first = stored
    with SourceServer(s3, bucket=bucket, key=KEY, version_id=first) as server:
        yield server.url


def get(url: str, byte_range: str | None = None) -> requests.Response:
    headers = {"Range": byte_range} if byte_range else {}
    return requests.get(url, headers=headers, timeout=10)


def test_head_gives_the_pinned_versions_size_and_says_ranges_work(url: str) -> None:
    response = requests.head(url, timeout=10)

    assert response.status_code == 200
    assert response.headers["Content-Length"] == str(len(FIRST))
    assert response.headers["Accept-Ranges"] == "bytes"


def test_a_plain_get_serves_the_pinned_version_not_what_the_key_holds_now(url: str) -> None:
    response = get(url)

    assert response.status_code == 200
    assert response.content == FIRST


@pytest.mark.parametrize(
    ("byte_range", "expected", "content_range"),
    [
        ("bytes=10-19", FIRST[10:20], "bytes 10-19/5000"),
        ("bytes=4990-", FIRST[4990:], "bytes 4990-4999/5000"),  # FFmpeg's seek: open-ended
        ("bytes=-5", FIRST[-5:], "bytes 4995-4999/5000"),
        ("bytes=4000-9999", FIRST[4000:], "bytes 4000-4999/5000"),  # clipped at the end
    ],
    ids=["closed", "open-ended", "suffix", "past-the-end"],
)
def test_a_range_request_gets_206_with_exactly_that_range(
    url: str, byte_range: str, expected: bytes, content_range: str
) -> None:
    response = get(url, byte_range)

    assert response.status_code == 206
    assert response.content == expected
    assert response.headers["Content-Range"] == content_range
    assert response.headers["Content-Length"] == str(len(expected))


def test_a_range_that_starts_beyond_the_end_gets_416(url: str) -> None:
    # 3000 bytes would be inside the current object: the pinned one is what counts.
    assert get(url, "bytes=5000-").status_code == 416
    assert get(url, f"bytes={len(SECOND)}-").status_code == 206


def test_other_paths_and_unknown_versions_get_404(s3: S3Client, stored: tuple[str, str]) -> None:
    bucket, first = stored
    with SourceServer(s3, bucket=bucket, key=KEY, version_id=first) as server:
        assert get(server.url.rsplit("/", 2)[0] + "/other/source").status_code == 404
        assert get(server.url + "x").status_code == 404
    with SourceServer(s3, bucket=bucket, key=KEY, version_id="no-such-version") as server:
        assert get(server.url).status_code in {400, 404}  # moto: 400, S3: 404; never the data
        assert requests.head(server.url, timeout=10).status_code in {400, 404}


def test_the_server_listens_on_loopback_only_and_its_path_is_not_guessable(url: str) -> None:
    assert url.startswith("http://127.0.0.1:")
    token = url.split("/")[3]
    assert len(token) >= 20


class RotatingCredentials(CredentialProvider):  # type: ignore[misc]
    """Credentials that are always about to expire, so botocore refreshes them before every
    signature: each refresh is a new access key, as when a task role's session rotates."""

    METHOD = "rotating-test"

    def __init__(self) -> None:
        self.issued = 0

    def load(self) -> RefreshableCredentials:
        return RefreshableCredentials.create_from_metadata(
            metadata=self._next(), refresh_using=self._next, method=self.METHOD
        )

    def _next(self) -> dict[str, Any]:
        self.issued += 1
        expiry = datetime.now(UTC) + timedelta(seconds=30)  # inside botocore's refresh window
        return {
            "access_key": f"ROTATED{self.issued:04d}",
            "secret_key": uuid.uuid4().hex,
            "token": uuid.uuid4().hex,
            "expiry_time": expiry.isoformat(),
        }


def test_each_read_is_signed_with_the_credentials_current_at_that_moment(
    moto_url: str, stored: tuple[str, str]
) -> None:
    # Given an S3 client whose credentials rotate (moto accepts any key, and shows which
    # one signed each request)
    session = botocore.session.get_session()
    session.get_component("credential_provider").insert_before("env", RotatingCredentials())
    client = boto3.Session(
        botocore_session=session, region_name=aws_env(moto_url)["AWS_DEFAULT_REGION"]
    ).client("s3", endpoint_url=moto_url)
    signed_with: list[str] = []

    def record_key(request: Any, **_: Any) -> None:
        signed_with.append(request.headers["Authorization"].decode().split("Credential=")[1][:11])

    client.meta.events.register("before-send.s3.GetObject", record_key)
    bucket, first = stored

    # When FFmpeg reads twice through the server, the credentials rotating in between
    with SourceServer(client, bucket=bucket, key=KEY, version_id=first) as server:
        reads = [get(server.url, "bytes=0-99"), get(server.url, "bytes=100-199")]

    # Then both reads worked, each signed by a different, then-current key: no signature
    # made at the start of the job is reused, so none can expire under it
    assert [read.status_code for read in reads] == [206, 206]
    assert b"".join(read.content for read in reads) == FIRST[:200]
    assert len(signed_with) == 2
    assert signed_with[0] != signed_with[1]
    assert all(key.startswith("ROTATED") for key in signed_with)
