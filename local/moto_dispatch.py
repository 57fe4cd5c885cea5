"""moto's server, finding the service a request is for once per host instead of per request.

moto 5.2's `DomainDispatcherApplication.get_backend_for_host` lists moto's package directory
(a `stat` per service, about two hundred) and then tries each service's URL patterns, on
every request, while holding the lock every request thread needs. The answer depends on
the host alone and on which moto is installed, so here it is remembered per host.
tests/unit/test_moto_dispatch.py checks the remembered answers against moto's own.
"""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from local.moto_patch import MotoPatch

_original = DomainDispatcherApplication.get_backend_for_host
_backends: dict[str | None, Any] = {}  # host -> backend, filled under the dispatcher's lock


def _get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    try:
        return _backends[host]
    except KeyError:
        backend = _backends[host] = _original(self, host)
        return backend


PATCH = MotoPatch(
    [(DomainDispatcherApplication, "get_backend_for_host", _get_backend_for_host)],
    on_uninstall=_backends.clear,
)
