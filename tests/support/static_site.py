"""A player page, its script and a media folder served from one loopback origin, as the
browser tests that play published output outside the web app need."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

from local.loopback import LoopbackServer


@contextmanager
def serve_player_page(
    root: Path, page: str, script: Path, script_name: str, media: Path
) -> Iterator[str]:
    """Serves `page` as index.html, `script` as `script_name` and `media` as media/ from
    `root`; yields the page's URL."""
    root.mkdir()
    shutil.copy(script, root / script_name)
    (root / "index.html").write_text(page)
    (root / "media").symlink_to(media)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    server = LoopbackServer(handler, host="127.0.0.1", port=0)
    server.start()
    try:
        yield f"{server.url}/index.html"
    finally:
        server.stop()
