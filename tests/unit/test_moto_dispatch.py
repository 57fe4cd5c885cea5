"""moto's server with the per-host dispatch memo (local/moto_dispatch.py) sends each request
to the backend moto's own lookup names, remembers it, and is undone by uninstall."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from local import moto_dispatch

HOSTS = (
    None,
    "moto_api",
    "dynamodb",
    "s3.us-east-1.amazonaws.com",
    "bucket.s3.us-east-1.amazonaws.com",
    "sqs.eu-west-1.amazonaws.com",
    "states.us-east-1.amazonaws.com",
    "secretsmanager.us-east-1.amazonaws.com",
    "not-a-service.example",
)


@pytest.fixture
def dispatcher() -> Iterator[DomainDispatcherApplication]:
    with moto_dispatch.PATCH.state(installed=False):
        yield DomainDispatcherApplication(create_backend_app)


def test_each_host_goes_where_motos_lookup_sends_it(
    dispatcher: DomainDispatcherApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = {host: dispatcher.get_backend_for_host(host) for host in HOSTS}
    assert own["s3.us-east-1.amazonaws.com"] == "s3"
    assert own["not-a-service.example"] is None

    lookups: list[str | None] = []
    original = moto_dispatch._original

    def counting(self: DomainDispatcherApplication, host: str | None) -> object:
        lookups.append(host)
        return original(self, host)

    monkeypatch.setattr(moto_dispatch, "_original", counting)
    moto_dispatch.PATCH.install()
    first = {host: dispatcher.get_backend_for_host(host) for host in HOSTS}
    again = {host: dispatcher.get_backend_for_host(host) for host in HOSTS}

    assert first == again == own
    assert lookups == list(HOSTS)  # each host looked up once


def test_uninstall_restores_motos_lookup() -> None:
    with moto_dispatch.PATCH.state(installed=True):
        moto_dispatch.PATCH.install()
        DomainDispatcherApplication(create_backend_app).get_backend_for_host("dynamodb")
        moto_dispatch.PATCH.uninstall()
        assert DomainDispatcherApplication.get_backend_for_host is moto_dispatch._original
        assert moto_dispatch._backends == {}  # forgotten: a later install looks hosts up again
