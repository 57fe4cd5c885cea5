"""local/webapp.py on its own: the built files, the generated config.json, the local
sign-in, and nothing outside the site's folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.auth import LocalIssuer
from local.webapp import WebAppServer, WebConfig


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    return LocalIssuer(tmp_path / "key.pem")


@pytest.fixture
def server(tmp_path: Path, issuer: LocalIssuer) -> Iterator[WebAppServer]:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>StreamForge</title>")
    (dist / "assets" / "index-abc.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("not for the browser")
    config = WebConfig(api_url="http://127.0.0.1:8080", cdn_url="http://127.0.0.1:9000")
    with WebAppServer(config, issuer, dist_dir=dist) as running:
        yield running


def test_serves_the_site_and_its_config(server: WebAppServer) -> None:
    port = server.url.rsplit(":", 1)[1]
    assert server.origins == (server.url, f"http://localhost:{port}")
    index = requests.get(f"{server.url}/", timeout=5)
    assert index.status_code == 200
    assert index.headers["Content-Type"].startswith("text/html")
    assert index.headers["X-Content-Type-Options"] == "nosniff"
    asset = requests.get(f"{server.url}/assets/index-abc.js", timeout=5)
    assert asset.headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in asset.headers["Cache-Control"]

    config = requests.get(f"{server.url}/config.json", timeout=5)
    assert config.headers["Cache-Control"] == "no-store"
    assert config.json() == {
        "apiUrl": "http://127.0.0.1:8080",
        "region": "us-east-1",
        "auth": "local",
        "localTokenUrl": "auth/local/token",
        "cdnUrl": "http://127.0.0.1:9000",
    }


def test_signs_in_a_local_user_with_the_stack_issuer(
    server: WebAppServer, issuer: LocalIssuer
) -> None:
    response = requests.post(
        f"{server.url}/auth/local/token", json={"username": "alice@example"}, timeout=5
    )
    assert response.status_code == 200
    body = response.json()
    assert body["expiresIn"] > 0
    assert issuer.verify(body["idToken"])["sub"] == "alice@example"


@pytest.mark.parametrize(
    "payload", [{}, {"username": ""}, {"username": "a b"}, {"username": "x" * 65}, ["alice"]]
)
def test_refuses_a_bad_user_name(server: WebAppServer, payload: object) -> None:
    response = requests.post(f"{server.url}/auth/local/token", json=payload, timeout=5)
    assert response.status_code == 400
    assert "user name" in response.json()["message"]


@pytest.mark.parametrize("path", ["/../secret.txt", "/%2e%2e/secret.txt", "/nope.js"])
def test_serves_nothing_outside_the_site(server: WebAppServer, path: str) -> None:
    assert requests.get(f"{server.url}{path}", timeout=5).status_code == 404


def test_needs_a_built_site(tmp_path: Path, issuer: LocalIssuer) -> None:
    with pytest.raises(FileNotFoundError, match="make web/dist"):
        WebAppServer(WebConfig(api_url="http://x"), issuer, dist_dir=tmp_path / "missing")
