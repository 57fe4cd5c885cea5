"""moto's ranged GetObject with the lazy read (local/s3_ranges.py) answers exactly what moto
answers without it: status, headers (but the request id) and body, for every kind of Range."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import boto3
import pytest
from moto.s3.models import FakeKey
from moto.s3.responses import S3Response

from local import s3_ranges
from tests.support.moto_server import moto_endpoint

BUCKET = "ranges"
KEY = "source.bin"
# Over one chunk, so that a long range is streamed in several reads
BODY = bytes(range(256)) * (3 * s3_ranges.CHUNK_BYTES // 256 + 17)
SIZE = len(BODY)
RANGES = [
    "bytes=0-9",
    "bytes=100-",  # open-ended, as ffprobe reads
    f"bytes={SIZE - 1}-",
    f"bytes=5-{SIZE + 1000}",  # end past the object: cut to its end
    "bytes=-500",  # suffix
    f"bytes=-{SIZE + 10}",  # suffix longer than the object: all of it
    "bytes=-0",  # unsatisfiable suffix: 416
    f"bytes={SIZE}-",  # start past the end: 416
    f"bytes={SIZE + 5}-{SIZE + 9}",
    "bytes=0-0,5-9",  # several parts: moto answers the whole object
    "bytes=abc",  # unparseable: the whole object
    "bytes=9-5",  # reversed: the whole object
    f"bytes=0-{SIZE - 1}",  # all of it, as a range
    "",
]
VOLATILE_HEADERS = {"x-amzn-requestid", "x-amz-request-id", "x-amz-id-2", "date", "server"}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[str, int]]:
    with s3_ranges.PATCH.state(installed=True), moto_endpoint() as url:
        s3 = boto3.client(
            "s3",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key=KEY, Body=BODY)
        parts = urlsplit(url)
        assert parts.hostname and parts.port
        yield parts.hostname, parts.port


def _get(endpoint: tuple[str, int], range_header: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(*endpoint, timeout=30)
    headers = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/s3/aws4_request"
    }
    if range_header:
        headers["Range"] = range_header
    try:
        connection.request("GET", f"/{BUCKET}/{KEY}", headers=headers)
        response = connection.getresponse()
        body = response.read()
        kept = {
            name.lower(): value
            for name, value in response.getheaders()
            if name.lower() not in VOLATILE_HEADERS
        }
        return response.status, kept, body
    finally:
        connection.close()


@pytest.mark.parametrize("range_header", RANGES)
def test_a_ranged_get_is_answered_as_moto_answers_it(
    endpoint: tuple[str, int], range_header: str
) -> None:
    s3_ranges.PATCH.uninstall()
    expected = _get(endpoint, range_header)
    s3_ranges.PATCH.install()
    assert s3_ranges.PATCH.installed()
    got = _get(endpoint, range_header)
    assert got[0] == expected[0]
    assert got[1] == expected[1]
    assert got[2] == expected[2]


def test_the_cases_cover_partial_whole_and_refused_answers(endpoint: tuple[str, int]) -> None:
    s3_ranges.PATCH.install()
    statuses = {_get(endpoint, r)[0] for r in RANGES}
    assert statuses == {200, 206, 416}


def test_uninstall_restores_moto_s_own_methods() -> None:
    with s3_ranges.PATCH.state(installed=False):
        assert not s3_ranges.PATCH.installed()
        assert S3Response.get_object is s3_ranges._original_get_object
        assert FakeKey.value is s3_ranges._original_value
