"""The web app, offline: the built site (web/dist) on loopback, with the `config.json` that
points it at the local API and CDN, and the local sign-in the app uses instead of Cognito's
Hosted UI (`POST /auth/local/token` with a user name returns a token of the local issuer).

    webapp = WebAppServer(WebConfig(api_url=stack.api_url, cdn_url=stack.cdn_url,
                                    uploads_url=stack.s3_endpoint_url), stack.issuer)
    webapp.start()              # serves at webapp.url
    for origin in webapp.origins:               # the app calls the API and the CDN
        stack.gateway.allow_origin(origin)      # from its own origin (CORS)
        stack.cdn.allow_origin(origin)
    ...
    webapp.stop()
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

from local.auth import TOKEN_SECONDS, LocalIssuer
from local.config import REGION, REPO_ROOT
from local.loopback import LoopbackServer, QuietHandler

log = logging.getLogger("streamforge.local.webapp")

WEB_DIST = REPO_ROOT / "web" / "dist"
CONFIG_PATH = "/config.json"
TOKEN_PATH = "/auth/local/token"
USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
MAX_TOKEN_REQUEST_BYTES = 4096
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
}
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(
    *, api: str, uploads: str | None, cdn: str | None, sign_in: str | None = None
) -> str:
    """Exactly what the built app loads: its own scripts and styles (Vite emits no inline
    ones), JSON from the API, upload PUTs to the uploads bucket, media and images from the
    CDN, hls.js's blob: worker, MediaSource (blob:) media and caption tracks (data:). The
    same rules as the web distribution's response headers policy in cdk/web.py."""
    remote = [origin_of(url) for url in (api, uploads, cdn, sign_in) if url]
    cdn_origin = [origin_of(cdn)] if cdn else []
    directives = {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:", *cdn_origin],
        "media-src": ["blob:", "data:", *cdn_origin],  # data: hls.js's caption <track>s
        "worker-src": ["blob:"],
        "connect-src": ["'self'", *dict.fromkeys(remote)],
        "font-src": ["'self'"],
        "manifest-src": ["'self'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


@dataclass(frozen=True)
class WebConfig:
    """What the app reads from config.json offline (the AWS deployment writes the Cognito
    variant: see cdk/stack.py and web/src/config.ts)."""

    api_url: str
    cdn_url: str | None = None
    uploads_url: str | None = None  # where presigned upload URLs point (the S3 endpoint)
    region: str = REGION
    max_upload_bytes: int | None = None

    @property
    def content_security_policy(self) -> str:
        return content_security_policy(api=self.api_url, uploads=self.uploads_url, cdn=self.cdn_url)

    def as_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "apiUrl": self.api_url,
            "region": self.region,
            "auth": "local",
            "localTokenUrl": TOKEN_PATH.lstrip("/"),
        }
        if self.cdn_url:
            document["cdnUrl"] = self.cdn_url
        if self.uploads_url:
            document["uploadsUrl"] = self.uploads_url
        if self.max_upload_bytes:
            document["maxUploadBytes"] = self.max_upload_bytes
        return document


class WebAppServer(LoopbackServer):
    """Serves `dist_dir` at http://host:port/ (the port is bound here; 0 picks a free one)."""

    def __init__(
        self,
        config: WebConfig,
        issuer: LocalIssuer,
        *,
        dist_dir: Path = WEB_DIST,
        host: str = "127.0.0.1",
        port: int = 0,
        token_seconds: int = TOKEN_SECONDS,
    ) -> None:
        if not (dist_dir / "index.html").is_file():
            raise FileNotFoundError(
                f"{dist_dir} has no index.html: build the web app first (make web/dist)"
            )
        self.config = config
        self._dist = dist_dir.resolve()
        self._issuer = issuer
        self._token_seconds = token_seconds
        super().__init__(self._request_handler_class(), host=host, port=port)

    @property
    def origin(self) -> str:
        """What the browser sends as `Origin`: the API and the CDN must allow it."""
        return self.url

    @property
    def origins(self) -> tuple[str, ...]:
        """Every origin a person may open the app at: on 127.0.0.1 also as localhost."""
        host, port = self._server.server_address[:2]
        if str(host) == "127.0.0.1":
            return (self.url, f"http://localhost:{port}")
        return (self.url,)

    def __enter__(self) -> WebAppServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def config_json(self) -> bytes:
        return json.dumps(self.config.as_json(), indent=2).encode()

    def issue_token(self, username: str) -> dict[str, Any]:
        token = self._issuer.issue(username, seconds=self._token_seconds)
        return {"idToken": token, "expiresIn": self._token_seconds, "tokenType": "Bearer"}

    def file_for(self, url_path: str) -> Path | None:
        """The file under dist for a request path, never outside it; `/` is index.html."""
        relative = unquote(url_path).lstrip("/") or "index.html"
        candidate = (self._dist / relative).resolve()
        if not candidate.is_relative_to(self._dist) or not candidate.is_file():
            return None
        return candidate

    def _request_handler_class(self) -> type[BaseHTTPRequestHandler]:
        app = self

        class RequestHandler(QuietHandler):
            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                policy = {"Content-Security-Policy": app.config.content_security_policy}
                for name, value in {**SECURITY_HEADERS, **policy, **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
                self._send(status, headers, body)

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == CONFIG_PATH:
                    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
                    self._send(HTTPStatus.OK, headers, app.config_json())
                    return
                file = app.file_for(path)
                if file is None:
                    self._send(
                        HTTPStatus.NOT_FOUND,
                        {"Content-Type": "text/plain; charset=utf-8"},
                        b"Not found",
                    )
                    return
                # Hashed asset names never change content; the rest is read afresh.
                cache = (
                    "public, max-age=31536000, immutable"
                    if file.parent.name == "assets"
                    else "no-cache"
                )
                content_type = (
                    TYPES.get(file.suffix)
                    or mimetypes.guess_type(file.name)[0]
                    or "application/octet-stream"
                )
                self._send(
                    HTTPStatus.OK,
                    {"Content-Type": content_type, "Cache-Control": cache},
                    file.read_bytes(),
                )

            do_HEAD = do_GET

            def do_POST(self) -> None:
                if urlsplit(self.path).path != TOKEN_PATH:
                    self._json(HTTPStatus.NOT_FOUND, {"message": "Not found"})
                    return
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_TOKEN_REQUEST_BYTES:
                    self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"message": "too large"})
                    self.close_connection = True
                    return
                try:
                    request = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    request = None
                username = request.get("username") if isinstance(request, dict) else None
                if not isinstance(username, str) or not USERNAME.fullmatch(username):
                    self._json(
                        HTTPStatus.BAD_REQUEST,
                        {"message": "a user name is 1-64 letters, digits or . _ @ -"},
                    )
                    return
                self._json(HTTPStatus.OK, app.issue_token(username))

        return RequestHandler
