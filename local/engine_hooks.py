"""The two hooks that let moto's Step Functions interpreter run StreamForge's workflow.

- `lambda:invoke` calls the Python handler from `lambdas/` in this process.
- `ecs:runTask.sync` starts the task definition's container command (`python -m transcoder`)
  as a subprocess with the task definition's environment plus the container overrides;
  the task stops with that process's exit code, and a non-zero code fails the state with
  States.TaskFailed and the task's description as the cause, as on AWS. A state that times
  out, or an execution that is stopped, kills the process.

Everything else in the workflow is moto's own interpreter, unpatched.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from moto.awslambda.models import LambdaFunction
from moto.core.config import default_user_config
from moto.dynamodb.models import DynamoDBBackend
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
    state_task_service_ecs,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

from local import iam_audit

log = logging.getLogger("streamforge.local.engine")

POLL_SECONDS = 0.2
KILL_GRACE_SECONDS = 5.0
REPO_ROOT = Path(__file__).resolve().parent.parent


# --- lambda:invoke -> the handler, in-process ----------------------------------------------


@dataclass
class LocalLambdaContext:
    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 1024
    timeout_seconds: int = 900
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        elapsed = time.monotonic() - self._started
        return max(0, int((self.timeout_seconds - elapsed) * 1000))


def resolve_handler(handler: str) -> Callable[[Any, Any], Any]:
    module_name, _, function_name = handler.rpartition(".")
    function: Callable[[Any, Any], Any] = getattr(
        importlib.import_module(module_name), function_name
    )
    return function


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


# --- ecs:runTask.sync -> a subprocess ----------------------------------------------------


@dataclass
class LocalTask:
    task_arn: str
    cluster_arn: str
    container_name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    overrides: dict[str, Any]
    started: float = field(default_factory=time.monotonic)

    def describe(self, *, stopped_reason: str = "") -> dict[str, Any]:
        """The shape Step Functions returns for a stopped task (DescribeTasks, PascalCase)."""
        exit_code = self.process.returncode
        return {
            "TaskArn": self.task_arn,
            "ClusterArn": self.cluster_arn,
            "LastStatus": "STOPPED" if exit_code is not None else "RUNNING",
            "DesiredStatus": "STOPPED",
            "StopCode": "EssentialContainerExited",
            "StoppedReason": stopped_reason or "Essential container in task exited",
            "LaunchType": "FARGATE",
            "Overrides": self.overrides,
            "Containers": [
                {"Name": self.container_name, "ExitCode": exit_code, "LastStatus": "STOPPED"}
            ],
        }

    def stop(self) -> None:
        """Like ECS: SIGTERM to everything in the container, SIGKILL after a grace period."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@dataclass
class TaskLauncher:
    """Starts a task definition's container as a local process."""

    endpoint_url: str
    log_dir: Path
    region: str = "us-east-1"
    base_environment: Mapping[str, str] = field(default_factory=dict)
    tasks: dict[str, LocalTask] = field(default_factory=dict)

    def _ecs(self) -> Any:
        return boto3.client("ecs", endpoint_url=self.endpoint_url, region_name=self.region)

    def run(self, parameters: Mapping[str, Any]) -> LocalTask:
        ecs = self._ecs()
        cluster = parameters["Cluster"]
        definition = ecs.describe_task_definition(taskDefinition=parameters["TaskDefinition"])
        container = definition["taskDefinition"]["containerDefinitions"][0]
        overrides = parameters.get("Overrides", {})
        container_override: dict[str, Any] = next(
            (
                o
                for o in overrides.get("ContainerOverrides", [])
                if o.get("Name") == container["name"]
            ),
            {},
        )
        environment = {e["name"]: e["value"] for e in container.get("environment", [])}
        environment.update(
            {e["Name"]: e["Value"] for e in container_override.get("Environment", [])}
        )
        command = list(container.get("entryPoint", [])) + list(
            container_override.get("Command") or container.get("command", [])
        )
        if command and command[0] in {"python", "python3"}:
            command[0] = sys.executable

        vpc = parameters.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
        started = ecs.run_task(  # moto checks the cluster, task definition, subnets and groups
            cluster=cluster,
            taskDefinition=parameters["TaskDefinition"],
            launchType="FARGATE",
            startedBy="AWS Step Functions",
            count=1,
            networkConfiguration={
                "awsvpcConfiguration": {
                    "subnets": vpc.get("Subnets", []),
                    "securityGroups": vpc.get("SecurityGroups", []),
                    "assignPublicIp": vpc.get("AssignPublicIp", "DISABLED"),
                }
            },
        )["tasks"][0]
        task_arn = started["taskArn"]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{task_arn.rsplit('/', 1)[-1]}.log"
        env = {**os.environ, **self.base_environment, **environment}
        env.update(iam_audit.task_environment(env))  # records the task role's calls
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                command,
                env=env,
                cwd=REPO_ROOT,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        task = LocalTask(
            task_arn=task_arn,
            cluster_arn=started["clusterArn"],
            container_name=container["name"],
            process=process,
            log_path=log_path,
            overrides=overrides,
        )
        self.tasks[task_arn] = task
        log.info("task %s started: %s (log %s)", task_arn, " ".join(command), log_path)
        return task

    def finished(self, task: LocalTask, reason: str = "") -> None:
        try:
            self._ecs().stop_task(cluster=task.cluster_arn, task=task.task_arn, reason=reason)
        except Exception:  # moto's record of the task is informational only
            log.debug("could not mark %s stopped in moto", task.task_arn, exc_info=True)


_launcher: TaskLauncher | None = None


def _task_failed(env: Any, resource: Any, cause: dict[str, Any]) -> FailureEventException:
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(  # type: ignore[typeddict-item]
                taskFailedEventDetails=TaskFailedEventDetails(
                    error=StatesErrorNameType.StatesTaskFailed.to_name(),
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
    task = _launcher.run(_pascal_parameters(normalised_parameters))
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
        time.sleep(POLL_SECONDS)
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


# --- Map iterations keep their error's name ------------------------------------------------


def _iteration_error_name(error_name: str | None) -> ErrorName:
    """moto re-wraps a failed iteration's error as a custom name, which rejects "States.*"
    and so turns States.TaskFailed into States.Runtime; AWS passes the name through."""
    if error_name is not None and error_name.startswith("States."):
        return StatesErrorName.from_name(error_name)
    return CustomErrorName(error_name=error_name)


# --- DynamoDB writes are atomic --------------------------------------------------------------

_DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")
_dynamodb_write_lock = threading.RLock()


def _serialised(write: Callable[..., Any]) -> Callable[..., Any]:
    def locked(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        with _dynamodb_write_lock:
            return write(self, *args, **kwargs)

    locked.__wrapped__ = write  # type: ignore[attr-defined]
    return locked


def _make_dynamodb_writes_atomic() -> None:
    """DynamoDB checks a condition and writes as one step; moto's threaded server does not,
    so two executions claiming the same video at once could both succeed. One lock for all
    writes makes each conditional write atomic, as on AWS."""
    for name in _DYNAMODB_WRITES:
        method = getattr(DynamoDBBackend, name)
        if not hasattr(method, "__wrapped__"):
            setattr(DynamoDBBackend, name, _serialised(method))


def install(launcher: TaskLauncher) -> None:
    """Installs both hooks into this process's moto. Idempotent; the launcher is replaced."""
    global _launcher  # noqa: PLW0603 - moto calls the hooks as methods, so they reach state here
    _launcher = launcher
    # Without this, moto only records executions; with it, its ASL interpreter runs them.
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    LambdaFunction._invoke_lambda = _invoke_in_process  # type: ignore[method-assign]
    ecs_service = state_task_service_ecs.StateTaskServiceEcs
    ecs_service._eval_service_task = _eval_service_task  # type: ignore[method-assign]
    ecs_service._eval_integration_pattern = _eval_integration_pattern  # type: ignore[method-assign]
    _make_dynamodb_writes_atomic()
    iteration_worker.CustomErrorName = _iteration_error_name  # type: ignore[attr-defined,assignment]


def launched_tasks() -> list[LocalTask]:
    """Every task started since the hooks were installed, oldest first."""
    return list(_launcher.tasks.values()) if _launcher else []


def stop_all_tasks() -> None:
    if _launcher is None:
        return
    threads = [threading.Thread(target=t.stop) for t in _launcher.tasks.values()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
