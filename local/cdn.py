"""A CloudFront emulator for the media bucket, on loopback.

It serves an object only for a request that carries a valid signed-URL query of the kind the
API issues (custom policy): `Policy` (CloudFront's URL-safe base64 of the policy JSON),
`Signature` (RSA-SHA1 over the policy bytes, same encoding) and `Key-Pair-Id`. As CloudFront
does, it checks the key pair, the signature, the policy's `Resource` (with `*` and `?`
wildcards) against the request URL, `DateLessThan` and `DateGreaterThan`, and `IpAddress`;
anything else gets 403. Objects are read from the bucket through S3 (moto), with their
Content-Type and Range support, and CORS for the web app's origin.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import logging
import mimetypes
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from local.loopback import LoopbackServer, QuietHandler

log = logging.getLogger("streamforge.local.cdn")

SIGNING_PARAMS = ("Policy", "Signature", "Key-Pair-Id")
CHUNK_BYTES = 1024 * 1024
CONTENT_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".m4a": "audio/mp4",
    ".jpg": "image/jpeg",
    ".vtt": "text/vtt",
}


class Forbidden(Exception):
    """Why a request is refused (logged; the client only sees 403, as from CloudFront)."""


def cloudfront_b64decode(text: str) -> bytes:
    """CloudFront's URL-safe base64: '-' for '+', '_' for '=', '~' for '/'."""
    standard = text.replace("-", "+").replace("_", "=").replace("~", "/")
    try:
        return base64.b64decode(standard, validate=True)
    except (binascii.Error, ValueError) as error:
        raise Forbidden("malformed base64") from error


def resource_matches(pattern: str, url: str) -> bool:
    """CloudFront's wildcards: `*` any run of characters (slashes too), `?` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, url) is not None


@dataclass(frozen=True)
class SignedUrlVerifier:
    public_key: rsa.RSAPublicKey
    key_pair_id: str

    def verify(self, url_without_signing: str, query: dict[str, str], source_ip: str) -> None:
        """Raises Forbidden unless the query grants access to the URL now."""
        if any(name not in query for name in SIGNING_PARAMS):
            raise Forbidden("missing Policy, Signature or Key-Pair-Id")
        if query["Key-Pair-Id"] != self.key_pair_id:
            raise Forbidden("unknown key pair")
        policy_bytes = cloudfront_b64decode(query["Policy"])
        signature = cloudfront_b64decode(query["Signature"])
        try:
            self.public_key.verify(signature, policy_bytes, padding.PKCS1v15(), hashes.SHA1())
        except InvalidSignature as error:
            raise Forbidden("signature does not match the policy") from error
        statement = _statement(policy_bytes)
        resource = statement.get("Resource")
        if not isinstance(resource, str) or not resource_matches(resource, url_without_signing):
            raise Forbidden(f"policy resource {resource!r} does not cover {url_without_signing}")
        _check_condition(statement.get("Condition"), source_ip)


def _statement(policy_bytes: bytes) -> dict[str, Any]:
    try:
        policy = json.loads(policy_bytes)
        statement = policy["Statement"][0]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise Forbidden("malformed policy") from error
    if not isinstance(statement, dict):
        raise Forbidden("malformed policy")
    return statement


def _check_condition(condition: Any, source_ip: str) -> None:
    if not isinstance(condition, dict):
        raise Forbidden("policy without a condition")
    now = time.time()
    try:
        expires = float(condition["DateLessThan"]["AWS:EpochTime"])
    except (KeyError, TypeError, ValueError) as error:
        raise Forbidden("policy without DateLessThan") from error
    if now >= expires:
        raise Forbidden("expired")
    not_before = condition.get("DateGreaterThan", {}).get("AWS:EpochTime")
    if not_before is not None and now <= float(not_before):
        raise Forbidden("not valid yet")
    allowed = condition.get("IpAddress", {}).get("AWS:SourceIp")
    if allowed is not None and ipaddress.ip_address(source_ip) not in ipaddress.ip_network(
        allowed, strict=False
    ):
        raise Forbidden("source address not allowed")


def content_type_for(key: str, stored: str | None) -> str:
    suffix = "." + key.rsplit(".", 1)[-1].lower() if "." in key else ""
    if suffix in CONTENT_TYPES and stored in (None, "", "binary/octet-stream"):
        return CONTENT_TYPES[suffix]
    return (
        stored
        or CONTENT_TYPES.get(suffix)
        or mimetypes.guess_type(key)[0]
        or ("application/octet-stream")
    )


class CdnServer(LoopbackServer):
    """Serves `bucket` at http://host:port/{key} to signed requests only."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        verifier: SignedUrlVerifier,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allowed_origins: Sequence[str] = (),
    ):
        self._s3 = s3
        self._bucket = bucket
        self._verifier = verifier
        super().__init__(
            self._request_handler_class(), host=host, port=port, allowed_origins=allowed_origins
        )

    @property
    def domain(self) -> str:
        return self.url.split("://", 1)[1]

    def _request_handler_class(self) -> type[BaseHTTPRequestHandler]:
        cdn = self

        class RequestHandler(QuietHandler):
            def _cors(self) -> dict[str, str]:
                origin = self.headers.get("Origin")
                if origin and cdn.allows_origin(origin):
                    return {
                        "Access-Control-Allow-Origin": origin,
                        "Access-Control-Expose-Headers": "Content-Length,Content-Range,ETag",
                        "Vary": "Origin",
                    }
                return {}

            def _send(self, status: int, headers: dict[str, str], body: bytes = b"") -> None:
                self.send_response(status)
                for name, value in {**headers, **self._cors()}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _forbidden(self, reason: str) -> None:
                log.info("403 %s: %s", urlsplit(self.path).path, reason)
                body = b"<Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>"
                self._send(HTTPStatus.FORBIDDEN, {"Content-Type": "text/xml"}, body)

            def do_OPTIONS(self) -> None:
                headers = {}
                if self._cors():
                    headers = {
                        "Access-Control-Allow-Methods": "GET,HEAD,OPTIONS",
                        "Access-Control-Allow-Headers": "*",
                        "Access-Control-Max-Age": "600",
                    }
                self._send(HTTPStatus.NO_CONTENT, headers)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                pairs = parse_qsl(parts.query, keep_blank_values=True)
                query = dict(pairs)
                others = [(k, v) for k, v in pairs if k not in SIGNING_PARAMS]
                url = f"{cdn.url}{parts.path}" + (f"?{urlencode(others)}" if others else "")
                try:
                    cdn._verifier.verify(url, query, self.client_address[0])
                except Forbidden as refused:
                    self._forbidden(str(refused))
                    return
                self._serve(unquote(parts.path.lstrip("/")))

            do_HEAD = do_GET

            def _serve(self, key: str) -> None:
                arguments: dict[str, Any] = {"Bucket": cdn._bucket, "Key": key}
                if self.headers.get("Range"):
                    arguments["Range"] = self.headers["Range"]
                try:
                    obj = cdn._s3.get_object(**arguments)
                except ClientError as error:
                    code = error.response.get("Error", {}).get("Code", "")
                    if code == "InvalidRange":
                        self._send(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE, {})
                    else:  # CloudFront with origin access control: S3 says 403 for missing keys
                        self._forbidden(f"{key}: {code}")
                    return
                status = HTTPStatus.PARTIAL_CONTENT if "ContentRange" in obj else HTTPStatus.OK
                headers = {
                    "Content-Type": content_type_for(key, obj.get("ContentType")),
                    "Content-Length": str(obj["ContentLength"]),
                    "Accept-Ranges": "bytes",
                    "ETag": obj.get("ETag", ""),
                    "Cache-Control": obj.get("CacheControl") or "max-age=86400",
                    **self._cors(),
                }
                if "ContentRange" in obj:
                    headers["Content-Range"] = obj["ContentRange"]
                if obj.get("ContentDisposition"):  # CloudFront passes S3's stored header on
                    headers["Content-Disposition"] = obj["ContentDisposition"]
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                body = obj["Body"]
                if self.command == "HEAD":
                    body.close()
                    return
                while chunk := body.read(CHUNK_BYTES):
                    self.wfile.write(chunk)

        return RequestHandler
