"""An API Gateway (HTTP API, payload 2.0) emulator on loopback.

It does what the deployed HTTP API does in front of the API Lambda: routes (the same
public/protected split as cdk/), the JWT authorizer's check, CORS, the v2 event, and the
Lambda's response mapped back to HTTP. Concurrent requests run on separate Lambda
instances (worker processes, local/lambda_instances.py), up to the function's concurrency,
as the HTTP API's Lambda integration scales out.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local import iam_audit
from local.auth import InvalidToken, LocalIssuer
from local.config import REPO_ROOT
from local.lambda_instances import FunctionError, FunctionInstances
from local.loopback import LoopbackServer, QuietHandler

log = logging.getLogger("streamforge.local.gateway")

MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
# The routes cdk/api.py gives the HTTP API, as its route keys (a test compares them with the
# synthesized template). A request no route matches gets the HTTP API's own 404, whatever
# its method, before any authorizer runs.
OWNER_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
OWNER_ROUTES = tuple(
    f"{method} {path}" for path in ("/videos", "/videos/{proxy+}") for method in OWNER_METHODS
)
PUBLIC_ROUTES = ("GET /catalog", "GET /catalog/{proxy+}", "GET /openapi.json")
GREEDY = "{proxy+}"
NOT_FOUND = {"message": "Not Found"}
CORS_METHODS = "GET,POST,PUT,PATCH,DELETE,OPTIONS"
CORS_HEADERS = "authorization,content-type,idempotency-key"
INTERNAL_ERROR = {"message": "Internal Server Error"}


def instance_environment(function_name: str, environment: Mapping[str, str]) -> dict[str, str]:
    """A new instance's environment: the function's (given), the repository importable, and
    the IAM audit's recording when it is on. Every call an instance makes is the function's,
    so the audit's principal is the process's own."""
    pythonpath = os.pathsep.join(p for p in (str(REPO_ROOT), environment.get("PYTHONPATH")) if p)
    environment = {**environment, "PYTHONPATH": pythonpath}
    audit = iam_audit.task_environment(environment)
    if audit:
        audit[iam_audit.PRINCIPAL_ENV] = function_name
    return {**environment, **audit}


def build_event(  # noqa: PLR0917 - one argument per part of the request
    route_key: str,
    method: str,
    raw_path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    claims: dict[str, Any] | None,
    source_ip: str,
) -> dict[str, Any]:
    now = time.time()
    is_text = not body or (_is_text(headers.get("content-type", "")) and _is_utf8(body))
    parameters: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": headers.get("host", "localhost"),
        "domainPrefix": "local",
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if claims is not None:
        context["authorizer"] = {
            "jwt": {"claims": {k: str(v) for k, v in claims.items()}, "scopes": None}
        }
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "queryStringParameters": parameters or None,
        "requestContext": context,
        "body": body.decode() if is_text else base64.b64encode(body).decode(),
        "isBase64Encoded": not is_text,
    }


def _is_text(content_type: str) -> bool:
    return content_type.startswith("text/") or "json" in content_type or not content_type


def _is_utf8(body: bytes) -> bool:
    """A body that does not decode is passed on base64-encoded, as API Gateway does."""
    try:
        body.decode()
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class Route:
    key: str  # "GET /videos/{proxy+}", as in the template
    needs_token: bool

    @property
    def pattern(self) -> re.Pattern[str]:  # of "METHOD /path"
        # A greedy path variable ({proxy+}) matches one or more whole segments.
        return re.compile(re.escape(self.key).replace(re.escape(GREEDY), "[^/].*"))


ROUTES = (
    *(Route(key, needs_token=True) for key in OWNER_ROUTES),
    *(Route(key, needs_token=False) for key in PUBLIC_ROUTES),
)


def match_route(method: str, path: str) -> Route | None:
    request = f"{method} {path}"
    return next((route for route in ROUTES if route.pattern.fullmatch(request)), None)


class GatewayServer(LoopbackServer):
    def __init__(
        self,
        functions: FunctionInstances,
        issuer: LocalIssuer,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allowed_origins: Sequence[str] = (),
    ):
        self.functions = functions
        self._issuer = issuer
        super().__init__(
            self._request_handler_class(), host=host, port=port, allowed_origins=allowed_origins
        )

    def invoke(self, event: Mapping[str, Any]) -> dict[str, Any]:
        return self.functions.invoke(event)

    def stop(self) -> None:
        super().stop()
        self.functions.stop()

    def _request_handler_class(self) -> type[BaseHTTPRequestHandler]:
        gateway = self

        class RequestHandler(QuietHandler):
            def _cors_headers(self) -> dict[str, str]:
                origin = self.headers.get("Origin")
                if origin and gateway.allows_origin(origin):
                    return {
                        "Access-Control-Allow-Origin": origin,
                        "Access-Control-Expose-Headers": "location",
                        "Vary": "Origin",
                    }
                return {}

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in {**headers, **self._cors_headers()}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _send_json(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self._send(status, {"Content-Type": "application/json"}, body)

            def do_OPTIONS(self) -> None:
                cors = self._cors_headers()
                if not cors:
                    self._send(HTTPStatus.NO_CONTENT, {}, b"")
                    return
                self._send(
                    HTTPStatus.NO_CONTENT,
                    {
                        "Access-Control-Allow-Methods": CORS_METHODS,
                        "Access-Control-Allow-Headers": CORS_HEADERS,
                        "Access-Control-Max-Age": "600",
                    },
                    b"",
                )

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                route = match_route(self.command, parts.path)
                if route is None:
                    self._send_json(HTTPStatus.NOT_FOUND, NOT_FOUND)
                    self.close_connection = True  # an unread body must not become a request
                    return
                length_header = self.headers.get("Content-Length") or "0"
                if not length_header.isdigit():
                    self._send_json(HTTPStatus.BAD_REQUEST, {"message": "Bad Request"})
                    self.close_connection = True
                    return
                length = int(length_header)
                if length > MAX_BODY_BYTES:
                    self._send_json(
                        HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "Request too long"}
                    )
                    self.close_connection = True
                    return
                body = self.rfile.read(length) if length else b""
                claims = None
                if route.needs_token:
                    claims = self._authorize()
                    if claims is None:
                        return
                headers = {name.lower(): value for name, value in self.headers.items()}
                event = build_event(
                    route.key,
                    self.command,
                    parts.path,
                    parts.query,
                    headers,
                    body,
                    claims,
                    self.client_address[0],
                )
                try:
                    response = gateway.invoke(event)
                except FunctionError:  # raised, crashed or timed out: Lambda's error
                    log.exception("API function failed")
                    self._send_json(HTTPStatus.INTERNAL_SERVER_ERROR, INTERNAL_ERROR)
                    return
                self._reply(response)

            def _authorize(self) -> dict[str, Any] | None:
                header = self.headers.get("Authorization", "")
                scheme, _, token = header.partition(" ")
                if scheme.lower() != "bearer" or not token:
                    self._send_json(HTTPStatus.UNAUTHORIZED, {"message": "Unauthorized"})
                    return None
                try:
                    return gateway._issuer.verify(token.strip())
                except InvalidToken:
                    self._send_json(HTTPStatus.UNAUTHORIZED, {"message": "Unauthorized"})
                    return None

            def _reply(self, response: dict[str, Any]) -> None:
                body_text = response.get("body") or ""
                body = (
                    base64.b64decode(body_text)
                    if response.get("isBase64Encoded")
                    else str(body_text).encode()
                )
                headers = {k: str(v) for k, v in (response.get("headers") or {}).items()}
                for name, values in (response.get("multiValueHeaders") or {}).items():
                    headers[name] = ", ".join(str(v) for v in values)
                self._send(int(response.get("statusCode", 200)), headers, body)

            def __getattr__(self, name: str) -> Any:
                # http.server looks up do_<METHOD> and answers a missing one with its own
                # 501 page; every method but OPTIONS (CORS, above) goes through the routes.
                if name.startswith("do_"):
                    return self._handle
                raise AttributeError(name)

        return RequestHandler
