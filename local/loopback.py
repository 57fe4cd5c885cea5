"""What the offline emulators share: a threaded HTTP server on loopback, and the basics of
their request handlers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger("streamforge.local.http")


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes; Nagle would hold the body ~40 ms
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)


class LoopbackServer:
    """Binds at construction (port 0 picks a free one), serves on a daemon thread."""

    def __init__(
        self,
        handler_class: Callable[..., BaseHTTPRequestHandler],  # a class, or a partial of one
        *,
        host: str,
        port: int,
        allowed_origins: Sequence[str] = (),
    ) -> None:
        self._allowed_origins = tuple(allowed_origins)
        self._server = ThreadingHTTPServer((host, port), handler_class)
        self._server.daemon_threads = True
        # A short poll: stop() waits for the loop to notice, and a stack stops several servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def allow_origin(self, origin: str) -> None:
        """Browsers on this origin may call the server (CORS)."""
        self._allowed_origins = (*self._allowed_origins, origin)

    def allows_origin(self, origin: str | None) -> bool:
        return bool(origin) and (origin in self._allowed_origins or "*" in self._allowed_origins)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
