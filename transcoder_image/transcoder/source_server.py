"""A loopback HTTP server that hands FFmpeg one pinned version of the source.

Why not a presigned URL: a URL signed with the task role's temporary credentials stops
working when those credentials expire, and a long encode can outlive them. Here every
request FFmpeg makes (its first read, each seek, each reconnect) becomes a fresh
`get_object` for that exact version, signed with the client's current credentials, which
boto3 refreshes by itself. FFmpeg still reads plain HTTP with Range requests.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectRequestTypeDef, HeadObjectRequestTypeDef

log = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
# Relayed as S3 gave them; anything else becomes a 502, which FFmpeg's
# -reconnect_on_http_error 5xx retries.
_RELAYED_ERRORS = {400, 403, 404, 412, 416}


class SourceServer:
    """Serves GET and HEAD (with Range) of one S3 object version at `url`, until closed.

    The path carries a random token, so nothing else on the host can guess its way in,
    and the source's file name, so FFmpeg sees the same name a presigned URL showed it.
    """

    def __init__(self, s3: S3Client, *, bucket: str, key: str, version_id: str) -> None:
        self._path = f"/{secrets.token_urlsafe(16)}/{quote(key.rsplit('/', 1)[-1])}"
        handler = _handler_for(s3, _Pinned(bucket, key, version_id), self._path)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="source-server", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}{self._path}"

    def __enter__(self) -> SourceServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


@dataclass(frozen=True)
class _Pinned:
    bucket: str
    key: str
    version_id: str

    def head(self) -> HeadObjectRequestTypeDef:
        return {"Bucket": self.bucket, "Key": self.key, "VersionId": self.version_id}

    def get(self, byte_range: str | None) -> GetObjectRequestTypeDef:
        request: GetObjectRequestTypeDef = {
            "Bucket": self.bucket,
            "Key": self.key,
            "VersionId": self.version_id,
        }
        if byte_range:
            request["Range"] = byte_range  # S3 applies it, and answers 416 past the end
        return request


def _handler_for(s3: S3Client, source: _Pinned, path: str) -> type[BaseHTTPRequestHandler]:
    class SourceHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: FFmpeg's next range reuses the socket

        def do_HEAD(self) -> None:
            if not self._is_source():
                return
            try:
                head = s3.head_object(**source.head())
            except ClientError as error:
                self._send_error(error)
                return
            self._send_headers(HTTPStatus.OK, head, int(head["ContentLength"]))

        def do_GET(self) -> None:
            if not self._is_source():
                return
            try:
                response = s3.get_object(**source.get(self.headers.get("Range")))
            except ClientError as error:
                self._send_error(error)
                return
            partial = "ContentRange" in response
            status = HTTPStatus.PARTIAL_CONTENT if partial else HTTPStatus.OK
            self._send_headers(status, response, int(response["ContentLength"]))
            self._copy_body(response["Body"])

        def _is_source(self) -> bool:
            if self.path == path:
                return True
            self._send_empty(HTTPStatus.NOT_FOUND)
            return False

        def _send_headers(self, status: HTTPStatus, s3_response: Any, length: int) -> None:
            self.send_response(status)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(length))
            self.send_header("Content-Type", s3_response.get("ContentType", "binary/octet-stream"))
            if "ContentRange" in s3_response:
                self.send_header("Content-Range", s3_response["ContentRange"])
            self.end_headers()

        def _copy_body(self, body: Any) -> None:
            try:
                for chunk in body.iter_chunks(CHUNK_BYTES):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass  # FFmpeg closed the connection to seek elsewhere: normal
            except BotoCoreError:
                # S3 broke off mid-body. The status is already sent, so drop the connection:
                # FFmpeg sees a short read and reconnects from where it was.
                log.warning("source read from S3 broke off; closing the connection")
                self.close_connection = True
            finally:
                body.close()

        def _send_error(self, error: ClientError) -> None:
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            code = error.response.get("Error", {}).get("Code", "")
            log.warning("S3 refused the source read: %s (%s)", code, status)
            self._send_empty(status if status in _RELAYED_ERRORS else HTTPStatus.BAD_GATEWAY)

        def _send_empty(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            log.debug(format, *args)

    return SourceHandler
