"""An S3 front on loopback: every offline S3 request passes through it on its way to moto.

moto stores objects but checks no presigned URL. The front checks a presigned (SigV4 query)
request as S3 does, with botocore's own canonical request and string to sign: the access key,
the expiry, and the signature over the method, path, query (part number, upload id) and every
header the URL signed (host, Content-Length, Content-Type, If-None-Match: a header missing or
with another value breaks it). A refused request gets S3's status and XML error. An accepted
one, and any request signed in its Authorization header (the SDKs, whose streamed payload
signatures the front does not check), is relayed to moto unchanged, its body streamed in
chunks both ways. Conditional writes are moto's own: `If-None-Match: *` on an existing key
gets 412 from moto, for PutObject and CompleteMultipartUpload alike.
"""

from __future__ import annotations

import hmac
import http.client
import logging
import time
import uuid
from calendar import timegm
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler
from io import BufferedIOBase
from typing import Any, cast
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from xml.sax.saxutils import escape

from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.loopback import LoopbackServer, QuietHandler

log = logging.getLogger("streamforge.local.s3front")

CHUNK_BYTES = 1024 * 1024
# A refused body is read and dropped up to this much (so the client reads the answer rather
# than a reset connection); beyond it the connection is closed, as S3 does.
DRAIN_LIMIT_BYTES = 64 * CHUNK_BYTES
UPSTREAM_TIMEOUT_SECONDS = 600
CLIENT_IDLE_SECONDS = 120
MAX_EXPIRES_SECONDS = 7 * 24 * 3600
SIGV4_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
QUERY_AUTH_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
# Per connection, never relayed (RFC 9110 7.6.1), plus Expect: the front answers 100 itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "expect",
    }
)


class S3Refusal(Exception):
    """A request S3 would refuse, with S3's status, error code, message and extra elements."""

    def __init__(self, status: int, code: str, message: str, **details: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def xml(self, request_id: str) -> bytes:
        elements = {
            "Code": self.code,
            "Message": self.message,
            **self.details,
            "RequestId": request_id,
        }
        inner = "".join(f"<{name}>{escape(value)}</{name}>" for name, value in elements.items())
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<Error>{inner}</Error>'.encode()


def _query_auth_error(message: str) -> S3Refusal:
    return S3Refusal(400, "AuthorizationQueryParametersError", message)


@dataclass(frozen=True)
class PresignedVerifier:
    """Checks SigV4 query authentication against the known secret of each access key."""

    credentials: Mapping[str, str]  # access key id -> secret access key
    region: str
    clock: Callable[[], float] = field(default=time.time)

    def verify(
        self, method: str, path: str, query: list[tuple[str, str]], headers: Message
    ) -> None:
        """Raises S3Refusal unless the presigned request is valid now, as signed."""
        params = dict(query)
        if any(name not in params for name in QUERY_AUTH_PARAMS):
            raise _query_auth_error(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                "and X-Amz-Expires parameters."
            )
        if params["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
            raise _query_auth_error('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
        access_key, secret, service = self._credential(params)
        self._check_validity(params)
        signed_names = params["X-Amz-SignedHeaders"].split(";")
        unsigned = [
            name
            for name in headers
            if name.lower().startswith("x-amz-") and name.lower() not in signed_names
        ]
        if unsigned:
            raise S3Refusal(
                403,
                "AccessDenied",
                "There were headers present in the request which were not signed",
                HeadersNotSigned=", ".join(name.lower() for name in unsigned),
            )

        # botocore's signer, given the request as received: only the signed headers, with the
        # values sent; the query without the signature (it canonicalises and sorts the pairs).
        # The pairs stay a list: a repeated parameter must count, as moto reads the first one.
        pairs = [(name, value) for name, value in query if name != "X-Amz-Signature"]
        request = AWSRequest(
            method=method,
            url=f"http://{headers.get('Host', '')}{quote(unquote(path), safe='/~')}",
            params=cast(Any, pairs),  # typed as a mapping; the signer takes pairs too
        )
        for name in signed_names:
            for value in headers.get_all(name) or []:
                request.headers[name] = value
        request.context["timestamp"] = params["X-Amz-Date"]
        signer = S3SigV4QueryAuth(Credentials(access_key, secret), service, self.region)
        canonical_request = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical_request)
        expected = signer.signature(string_to_sign, request)
        if not hmac.compare_digest(expected, params["X-Amz-Signature"]):
            absent = [name for name in signed_names if name not in headers]
            log.info("signature mismatch; signed headers absent: %s", absent or "none")
            raise S3Refusal(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method.",
                AWSAccessKeyId=access_key,
                StringToSign=string_to_sign,
                SignatureProvided=params["X-Amz-Signature"],
                CanonicalRequest=canonical_request,
            )

    def _credential(self, params: Mapping[str, str]) -> tuple[str, str, str]:
        """The key, its secret and the service, from `key/date/region/service/aws4_request`."""
        scope = params["X-Amz-Credential"].split("/")
        if len(scope) != 5 or scope[4] != "aws4_request":
            raise _query_auth_error(
                "Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; "
                'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".'
            )
        access_key, date, region, service, _ = scope
        secret = self.credentials.get(access_key)
        if secret is None:
            raise S3Refusal(
                403,
                "InvalidAccessKeyId",
                "The AWS Access Key Id you provided does not exist in our records.",
                AWSAccessKeyId=access_key,
            )
        if region != self.region:
            raise _query_auth_error(
                "Error parsing the X-Amz-Credential parameter; the region "
                f"'{region}' is wrong; expecting '{self.region}'"
            )
        if service != "s3":
            raise _query_auth_error(
                "Error parsing the X-Amz-Credential parameter; incorrect service "
                f"'{service}'. This endpoint belongs to 's3'."
            )
        if date != params["X-Amz-Date"][:8]:
            raise _query_auth_error(
                "Error parsing the X-Amz-Credential parameter; "
                "Invalid credential date. Date is not the same as X-Amz-Date."
            )
        return access_key, secret, service

    def _check_validity(self, params: Mapping[str, str]) -> None:
        try:
            signed_at = timegm(time.strptime(params["X-Amz-Date"], SIGV4_DATE_FORMAT))
        except ValueError as error:
            raise _query_auth_error(
                "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
            ) from error
        try:
            expires = int(params["X-Amz-Expires"])
        except ValueError as error:
            raise _query_auth_error("X-Amz-Expires should be a number") from error
        if expires < 0:
            raise _query_auth_error("X-Amz-Expires must be non-negative")
        if expires > MAX_EXPIRES_SECONDS:
            raise _query_auth_error(
                "X-Amz-Expires must be less than a week (in seconds) that is 604800"
            )
        now = self.clock()
        if now > signed_at + expires:
            raise S3Refusal(
                403,
                "AccessDenied",
                "Request has expired",
                **{
                    "X-Amz-Expires": str(expires),
                    "Expires": _iso8601(signed_at + expires),
                    "ServerTime": _iso8601(now),
                },
            )
        if now < signed_at:
            raise S3Refusal(403, "AccessDenied", "Request is not valid yet")


def _iso8601(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def admit(method: str, path: str, headers: Message, verifier: PresignedVerifier) -> None:
    """Raises S3Refusal for what S3 refuses before it reads a body."""
    if method == "OPTIONS":  # a CORS preflight is never signed: the bucket's CORS rules answer
        return
    if "Transfer-Encoding" in headers:
        raise S3Refusal(
            501,
            "NotImplemented",
            "A header you provided implies functionality that is not implemented",
            Header="Transfer-Encoding",
        )
    if method == "PUT" and "Content-Length" not in headers:
        raise S3Refusal(
            411, "MissingContentLength", "You must provide the Content-Length HTTP header."
        )
    query = parse_qsl(urlsplit(path).query, keep_blank_values=True)
    names = {name for name, _ in query}
    if names & {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"}:
        verifier.verify(method, urlsplit(path).path, query, headers)
    elif {"AWSAccessKeyId", "Signature"} <= names:  # buckets made since 2020 refuse SigV2
        raise S3Refusal(
            400,
            "InvalidRequest",
            "The authorization mechanism you have provided is not supported. "
            "Please use AWS4-HMAC-SHA256.",
        )
    elif "Authorization" not in headers:
        raise S3Refusal(403, "AccessDenied", "Access Denied")


class S3FrontServer(LoopbackServer):
    """Relays http://host:port to moto at `upstream_url`, refusing what S3 would refuse."""

    def __init__(
        self,
        upstream_url: str,
        verifier: PresignedVerifier,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        upstream = urlsplit(upstream_url)
        assert upstream.hostname and upstream.port, f"not a host:port URL: {upstream_url}"
        self._upstream = (upstream.hostname, upstream.port)
        self._verifier = verifier
        super().__init__(self._request_handler_class(), host=host, port=port)

    def _connect(self) -> http.client.HTTPConnection:
        host, port = self._upstream
        return http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT_SECONDS)

    def _request_handler_class(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class RequestHandler(QuietHandler):
            timeout = CLIENT_IDLE_SECONDS  # a stalled client ends its connection, as on S3
            # One connection to moto per client connection, kept alive with it.
            upstream: http.client.HTTPConnection | None = None

            def handle_expect_100(self) -> bool:
                return True  # answered in _relay, once the request is admitted

            def finish(self) -> None:
                if self.upstream is not None:
                    self.upstream.close()
                super().finish()

            def _handle(self) -> None:
                try:
                    admit(self.command, self.path, self.headers, front._verifier)
                except S3Refusal as refused:
                    log.info("%s %s: %s", self.command, urlsplit(self.path).path, refused)
                    self._refuse(refused)
                    return
                self._relay()

            do_GET = do_HEAD = do_PUT = do_POST = do_DELETE = do_OPTIONS = _handle

            def _refuse(self, refused: S3Refusal, *, body_read: bool = False) -> None:
                if not body_read:
                    self._drop_body()
                body = refused.xml(uuid.uuid4().hex[:16].upper())
                self.send_response(refused.status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                if self.close_connection:
                    self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _drop_body(self) -> None:
                """Reads a refused body away, or closes the connection when it is too big or
                was never sent (the client waits for 100 Continue)."""
                length = int(self.headers.get("Content-Length") or 0)
                if self.headers.get("Expect", "").lower() == "100-continue" or (
                    length > DRAIN_LIMIT_BYTES or "Transfer-Encoding" in self.headers
                ):
                    self.close_connection = True
                    return
                try:
                    _copy(self.rfile, length, lambda chunk: None)
                except IncompleteBody:
                    self.close_connection = True

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    response = self._forward(length)
                except IncompleteBody:
                    self.close_connection = True
                    self._refuse(
                        S3Refusal(
                            400,
                            "IncompleteBody",
                            "You did not provide the number of bytes specified by the "
                            "Content-Length HTTP header",
                        ),
                        body_read=True,
                    )
                    return
                except OSError as error:  # moto unreachable: the client may retry, as on S3
                    log.warning("moto did not answer %s %s: %s", self.command, self.path, error)
                    self.close_connection = True
                    self._refuse(
                        S3Refusal(503, "ServiceUnavailable", "Please reduce your request rate."),
                        body_read=True,
                    )
                    return
                self._send_back(response)

            def _forward(self, length: int) -> http.client.HTTPResponse:
                if self.headers.get("Expect", "").lower() == "100-continue":
                    self.send_response_only(100)
                    self.end_headers()
                # A kept-alive connection moto has closed fails on first use: a request
                # without a body is sent again on a fresh one.
                for attempt in (1, 2):
                    if self.upstream is None:
                        self.upstream = front._connect()
                    upstream = self.upstream
                    try:
                        upstream.putrequest(
                            self.command, self.path, skip_host=True, skip_accept_encoding=True
                        )
                        for name, value in self.headers.items():
                            if name.lower() not in HOP_BY_HOP:
                                upstream.putheader(name, value)
                        if "Host" not in self.headers:
                            upstream.putheader("Host", "{}:{}".format(*front._upstream))
                        upstream.endheaders()
                        _copy(self.rfile, length, upstream.send)
                        return upstream.getresponse()
                    except IncompleteBody:
                        upstream.close()  # moto must not store a truncated body
                        self.upstream = None
                        raise
                    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                        upstream.close()
                        self.upstream = None
                        if length or attempt == 2:
                            raise
                raise AssertionError("unreachable")

            def _send_back(self, response: http.client.HTTPResponse) -> None:
                self.send_response_only(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                bodiless = self.command == "HEAD" or response.status in (204, 304)
                chunked = not bodiless and response.getheader("Content-Length") is None
                if chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    while chunk := response.read(CHUNK_BYTES):
                        if chunked:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        else:
                            self.wfile.write(chunk)
                    if chunked:
                        self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    # The client stopped reading (ffprobe seeking away, a player aborting a
                    # segment): as a proxy does, drop the rest with the upstream connection.
                    log.debug("client went away during %s %s", self.command, self.path)
                    self.close_connection = True
                    response.close()
                    self._drop_upstream()
                    return
                response.close()
                if response.will_close:
                    self._drop_upstream()

            def _drop_upstream(self) -> None:
                if self.upstream is not None:
                    self.upstream.close()
                    self.upstream = None

        return RequestHandler


class IncompleteBody(Exception):
    """The client sent fewer bytes than its Content-Length said."""


def _copy(source: BufferedIOBase, length: int, write: Callable[[bytes], object]) -> None:
    """Moves exactly `length` bytes from `source` to `write`, a chunk at a time."""
    remaining = length
    while remaining:
        try:
            chunk = source.read(min(CHUNK_BYTES, remaining))
        except OSError as error:  # the client stalled past the idle timeout, or went away
            raise IncompleteBody from error
        if not chunk:
            raise IncompleteBody
        write(chunk)
        remaining -= len(chunk)
