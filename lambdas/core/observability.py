"""Logger, Metrics and the tracer, created once; the service name comes from the environment.

The tracer is Powertools' X-Ray Tracer, built on the first traced invocation and only when
tracing is on. `Tracer()` imports the X-Ray SDK even when it is disabled, which is about
half of a handler's cold import; a function that does not trace never loads it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics
from aws_lambda_powertools.shared import constants
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice

if TYPE_CHECKING:
    from aws_lambda_powertools.tracing import Tracer

logger = Logger()
metrics = Metrics(namespace="StreamForge")

Handler = TypeVar("Handler", bound=Callable[..., Any])


def tracing_enabled() -> bool:
    """Powertools' own rule: on Lambda (not SAM or Chalice local) unless
    POWERTOOLS_TRACE_DISABLED is true."""
    if resolve_truthy_env_var_choice(env=os.getenv(constants.TRACER_DISABLED_ENV, "false")):
        return False
    local = os.getenv(constants.SAM_LOCAL_ENV) or os.getenv(constants.CHALICE_LOCAL_ENV)
    return bool(os.getenv(constants.LAMBDA_TASK_ROOT_ENV)) and not local


@functools.cache
def get_tracer() -> Tracer | None:
    """The one Tracer (patching botocore and the HTTP clients), or None when not tracing."""
    if not tracing_enabled():
        return None
    from aws_lambda_powertools.tracing import Tracer

    return Tracer()


def capture_lambda_handler(handler: Handler) -> Handler:
    """`Tracer.capture_lambda_handler`, applied on the first invocation when tracing is on."""
    traced: list[Callable[..., Any]] = []

    @functools.wraps(handler)
    def invoke(event: Any, context: Any) -> Any:
        if not traced:
            tracer = get_tracer()
            traced.append(handler if tracer is None else tracer.capture_lambda_handler(handler))
        return traced[0](event, context)

    return invoke  # type: ignore[return-value]
