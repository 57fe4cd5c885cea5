"""Every patch that lets moto's Step Functions interpreter run StreamForge's workflow.

`install()` makes exactly these replacements, each through `_replace`, which refuses to
patch (naming the target) when moto no longer defines it where this module expects. moto is
pinned in requirements.txt, and tests/unit/test_engine_hooks.py checks every target.

- `LambdaFunction._invoke_lambda`: `lambda:invoke` calls the Python handler from `lambdas/`
  in this process, instead of in a Docker container.
- `StateTaskServiceEcs._eval_service_task` and `._eval_integration_pattern` (moto defines the
  second on its base `StateTaskServiceCallback`; only the ECS service is patched):
  `ecs:runTask.sync` starts the task definition's container command as a subprocess
  (`local/tasks.py`); the task stops with that process's exit code, and a non-zero code fails
  the state with States.TaskFailed and the task's description as the cause, as on AWS. A
  state that times out, or an execution that is stopped, kills the process.
- `state_task_service_ecs._SUPPORTED_API_PARAM_BINDINGS`: RunTask's `CapacityProviderStrategy`
  reaches the launcher (Step Functions passes it to ECS; moto's list of RunTask parameters
  predates it and drops it), so the Spot fallback's on-demand attempt is visible offline.
- `iteration_worker.CustomErrorName`: a failed Map iteration keeps its "States.*" error name,
  as on AWS, instead of becoming States.Runtime.

The Claim's conditional write is atomic, as on AWS, because moto's DynamoDB answers one request
at a time (`local/dynamodb_atomic.py`), whoever sends it.

It also turns on moto's `stepfunctions.execute_state_machine` setting, without which moto
only records executions. Everything else in the workflow is moto's own interpreter.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import subprocess
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from moto.awslambda.models import LambdaFunction
from moto.core.config import default_user_config
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
    iteration_worker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_callback,
    state_task_service_ecs,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

from lambdas.core.settings import Settings
from local import iam_audit
from local.lambda_context import LocalLambdaContext
from local.tasks import CapacityRefused, LocalTask, TaskFaults, TaskLauncher

log = logging.getLogger("streamforge.local.engine")

POLL_SECONDS = 0.2


# --- the one way this module patches moto ---------------------------------------------------


class HookTargetError(RuntimeError):
    """moto moved something this module patches: check the pin and the target."""


Owner = type | ModuleType


@dataclass(frozen=True)
class Hook:
    """One replacement: `owner.name = new`, where moto defines `name` on `defined_on`."""

    owner: Owner
    name: str
    new: Any
    defined_on: Owner

    @property
    def target(self) -> str:
        return f"{_dotted(self.owner)}.{self.name}"


def _dotted(owner: Owner) -> str:
    return owner.__name__ if isinstance(owner, ModuleType) else owner.__qualname__


def _definer(owner: Owner, name: str) -> Owner | None:
    """Where `owner.name` comes from: the owner itself, or for a class the first in its MRO."""
    homes = owner.__mro__ if isinstance(owner, type) else (owner,)
    return next((home for home in homes if name in vars(home)), None)


def is_installed(hook: Hook) -> bool:
    return vars(hook.owner).get(hook.name) is hook.new


def check_target(hook: Hook) -> None:
    """Raises unless moto still defines the original where `hook` expects it."""
    if is_installed(hook):
        return
    definer = _definer(hook.owner, hook.name)
    if definer is None:
        raise HookTargetError(f"cannot patch {hook.target}: moto no longer has it")
    if definer is not hook.defined_on:
        raise HookTargetError(
            f"cannot patch {hook.target}: moto defines it on {_dotted(definer)}, "
            f"not on {_dotted(hook.defined_on)} as expected"
        )


def _replace(owner: Owner, name: str, new: Any, *, defined_on: Owner | None = None) -> None:
    """Sets `owner.name = new` after `check_target`; a second call with the same `new` is a
    no-op. `defined_on` names the base class that defines the original, when not the owner."""
    hook = Hook(owner, name, new, defined_on or owner)
    check_target(hook)
    setattr(owner, name, new)


# --- lambda:invoke -> the handler, in-process ----------------------------------------------


def resolve_handler(handler: str) -> Callable[[Any, Any], Any]:
    module_name, _, function_name = handler.rpartition(".")
    function: Callable[[Any, Any], Any] = getattr(
        importlib.import_module(module_name), function_name
    )
    return function


# Functions whose cold start passed, with the configuration they started with
_started: set[tuple[str, str]] = set()


def _cold_start(function: LambdaFunction) -> None:
    """The handlers share this process's environment, so a function's own configuration is
    what a first invocation (after a configuration change, a new one) checks: the settings
    every pipeline function reads must come from it alone, as on Lambda, where a missing
    variable fails the cold start, naming it."""
    variables: dict[str, str] = dict(function.environment_vars or {})
    key = (str(function.function_name), json.dumps(variables, sort_keys=True))
    if key not in _started:
        Settings.from_environment(variables)
        _started.add(key)


def _invoke_in_process(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
    """Replaces moto's docker-based invocation: (payload, errored, logs) as moto expects."""
    context = LocalLambdaContext(
        function_name=self.function_name,
        invoked_function_arn=self.function_arn,
        memory_limit_in_mb=int(self.memory_size or 1024),
        timeout_seconds=int(self.timeout or 900),
    )
    payload = json.loads(event) if isinstance(event, str) else (event or {})
    try:
        _cold_start(self)
        with iam_audit.acting_as(self.function_name):  # its calls are its role's
            result = resolve_handler(str(self.handler))(payload, context)
    except Exception as error:  # the error payload Lambda itself returns
        log.warning("%s raised %s: %s", self.function_name, type(error).__name__, error)
        body = {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "stackTrace": traceback.format_exception(error),
        }
        return json.dumps(body), True, ""
    return json.dumps(result), False, ""


# --- ecs:runTask.sync -> a subprocess (local/tasks.py) ---------------------------------

_launcher: TaskLauncher | None = None


# What Step Functions raises when RunTask answers with Failures (capacity, quota)
CAPACITY_ERROR = "AmazonECS.Unknown"


def _task_failed(
    env: Any, resource: Any, cause: dict[str, Any], error: str = ""
) -> FailureEventException:
    """States.TaskFailed with the task's description as the cause, or `error` (a service
    error's name, such as a refused RunTask's) with the cause it gives."""
    error_name: ErrorName = (
        CustomErrorName(error_name=error)
        if error
        else StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed)
    )
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=error_name,
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(  # type: ignore[typeddict-item]
                taskFailedEventDetails=TaskFailedEventDetails(
                    error=error or StatesErrorNameType.StatesTaskFailed.to_name(),
                    cause=json.dumps(cause),
                    resource=resource._get_sfn_resource(),
                    resourceType=resource._get_sfn_resource_type(),
                )
            ),
        )
    )


def _eval_service_task(
    self: Any,
    env: Any,
    resource_runtime_part: Any,
    normalised_parameters: dict[str, Any],
    state_credentials: Any,
) -> None:
    if _launcher is None:
        raise RuntimeError("local engine hooks are not installed")
    try:
        task = _launcher.run(_pascal_parameters(normalised_parameters))
    except CapacityRefused as refused:  # RunTask started nothing: its Failures are the cause
        raise _task_failed(env, self, {"Failures": refused.failures}, CAPACITY_ERROR) from None
    env.stack.append({"Tasks": [task.describe()], "_local_task_arn": task.task_arn})


def _eval_integration_pattern(
    self: Any,
    env: Any,
    resource_runtime_part: Any,
    normalised_parameters: dict[str, Any],
    state_credentials: Any,
) -> None:
    """Waits for the process. Polls env.is_running() so that a state timeout or a stopped
    execution (both end this frame) kills the process instead of leaving it behind."""
    assert _launcher is not None
    submitted = env.stack.pop()
    task = _launcher.tasks[submitted["_local_task_arn"]]
    while task.process.poll() is None:
        if not env.is_running():
            task.stop()
            _launcher.finished(task, "Stopped: state timed out or execution ended")
            log.warning("task %s stopped: its state ended first", task.task_arn)
            return
        with contextlib.suppress(subprocess.TimeoutExpired):  # returns as the task exits
            task.process.wait(timeout=POLL_SECONDS)
    _launcher.finished(task)
    description = task.describe()
    seconds = time.monotonic() - task.started
    log.info("task %s exited %s after %.1fs", task.task_arn, task.process.returncode, seconds)
    if task.process.returncode != 0:
        raise _task_failed(env, self, description)
    env.stack.append(description)


def _pascal_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
    """moto hands the ASL's parameters through in camelCase (boto) or PascalCase (ASL)."""
    return {key[:1].upper() + key[1:]: value for key, value in parameters.items()}


def _run_task_parameters() -> dict[str, set[str]]:
    bindings: dict[str, set[str]] = state_task_service_ecs._SUPPORTED_API_PARAM_BINDINGS
    return {**bindings, "runtask": {*bindings["runtask"], "CapacityProviderStrategy"}}


_ECS_PARAMETERS = _run_task_parameters()


# --- Map iterations keep their error's name ------------------------------------------------


def _iteration_error_name(error_name: str | None) -> ErrorName:
    """moto re-wraps a failed iteration's error as a custom name, which rejects "States.*"
    and so turns States.TaskFailed into States.Runtime; AWS passes the name through."""
    if error_name is not None and error_name.startswith("States."):
        return StatesErrorName.from_name(error_name)
    return CustomErrorName(error_name=error_name)


def hooks() -> list[Hook]:
    """Every replacement `install()` makes, in order."""
    ecs_service = state_task_service_ecs.StateTaskServiceEcs
    return [
        Hook(LambdaFunction, "_invoke_lambda", _invoke_in_process, LambdaFunction),
        Hook(ecs_service, "_eval_service_task", _eval_service_task, ecs_service),
        Hook(
            ecs_service,
            "_eval_integration_pattern",
            _eval_integration_pattern,
            state_task_service_callback.StateTaskServiceCallback,
        ),
        Hook(
            state_task_service_ecs,
            "_SUPPORTED_API_PARAM_BINDINGS",
            _ECS_PARAMETERS,
            state_task_service_ecs,
        ),
        Hook(iteration_worker, "CustomErrorName", _iteration_error_name, iteration_worker),
    ]


def install(launcher: TaskLauncher) -> None:
    """Installs every hook into this process's moto. Idempotent; the launcher is replaced.
    Checks every target before replacing any, so a moved target leaves moto untouched."""
    global _launcher  # noqa: PLW0603 - moto calls the hooks as methods, so they reach state here
    planned = hooks()
    for hook in planned:
        check_target(hook)
    if "execute_state_machine" not in default_user_config.get("stepfunctions", {}):
        raise HookTargetError("cannot set moto's stepfunctions.execute_state_machine: gone")
    _launcher = launcher
    # Without this, moto only records executions; with it, its ASL interpreter runs them.
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    for hook in planned:
        _replace(hook.owner, hook.name, hook.new, defined_on=hook.defined_on)


def launched_tasks() -> list[LocalTask]:
    """Every task started since the hooks were installed, oldest first."""
    return list(_launcher.tasks.values()) if _launcher else []


def injected_faults() -> TaskFaults:
    """What the launcher's fault injection has done so far."""
    return _launcher.faults if _launcher else TaskFaults()


def stop_all_tasks() -> None:
    if _launcher is None:
        return
    threads = [threading.Thread(target=t.stop) for t in _launcher.tasks.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
