"""Records which AWS calls each principal makes offline, as IAM sees them: action, resource
ARN and the condition keys a policy may test.

moto does not enforce IAM, so a missing grant would show up only on AWS. With the audit
installed, every botocore client in the process reports each call it makes or presigns
(the principal that signs a URL is the one that needs the action), attributed to the
principal set around the handler's invocation (`acting_as`, used by the engine hooks and
the gateway) or, in a transcoder task, to the task role named in its environment. The
calls go to a JSON-lines file that tests/infrastructure/test_iam_sufficiency.py checks
against the policies in the synthesized template.

The state machine's own calls are not SDK calls offline; `state_machine_calls` derives them
from the Task states an execution ran, as Step Functions' service integrations make them.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore import handlers

from local.config import ACCOUNT, REGION

AUDIT_LOG_ENV = "STREAMFORGE_IAM_AUDIT_LOG"
PRINCIPAL_ENV = "STREAMFORGE_IAM_PRINCIPAL"
TRANSCODER_TASK = "transcoder-task"
STATE_MACHINE = "state-machine"
# Holds the sitecustomize that installs the audit when a task's Python starts.
TASK_SITE_DIR = Path(__file__).resolve().parent / "task_audit"

_EVENT = "before-parameter-build"  # emitted for calls and presigns alike, once per call
_acting_as: ContextVar[str | None] = ContextVar("streamforge_iam_principal", default=None)


@dataclass(frozen=True)
class Call:
    principal: str
    action: str
    resource: str
    conditions: Mapping[str, str] = field(default_factory=dict)
    operation: str = ""  # what the code called, e.g. "s3.HeadObject (presigned)"

    def describe(self) -> str:
        keys = "".join(f" [{k}={v}]" for k, v in sorted(self.conditions.items()))
        return f"{self.principal}: {self.action} on {self.resource}{keys} ({self.operation})"


# --- attribution -----------------------------------------------------------------------------


@contextmanager
def acting_as(principal: str) -> Iterator[None]:
    """Calls made in this block, in this thread, are `principal`'s (handlers run in threads
    of one process, so the principal is per context, not per process)."""
    token = _acting_as.set(principal)
    try:
        yield
    finally:
        _acting_as.reset(token)


# --- recording -------------------------------------------------------------------------------


@dataclass
class _Recorder:
    path: Path
    process_principal: str | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    seen: set[str] = field(default_factory=set)

    def write(self, calls: list[Call]) -> None:
        lines = [json.dumps(asdict(call), sort_keys=True) for call in calls]
        with self.lock:
            new = [line for line in lines if line not in self.seen]
            self.seen.update(new)
            if new:  # one write per batch: appends from several processes interleave whole
                with self.path.open("a") as log:
                    log.write("".join(line + "\n" for line in new))


_recorder: _Recorder | None = None


def _record(params: Mapping[str, Any], model: Any, context: Any = None, **_: Any) -> None:
    """botocore's before-parameter-build handler: one SDK call or presign."""
    recorder = _recorder
    principal = _acting_as.get() or (recorder.process_principal if recorder else None)
    if recorder is None or principal is None:  # the runtime's or a test's own client
        return
    presigned = bool(context and context.get("is_presign_request"))
    operation = f"{model.service_model.service_name}.{model.name}"
    recorder.write(
        [
            Call(
                principal=principal,
                action=action,
                resource=resource,
                conditions=conditions,
                operation=f"{operation} (presigned)" if presigned else operation,
            )
            for action, resource, conditions in iam_requests(model, params)
        ]
    )


def install(path: Path, principal: str | None = None) -> None:
    """Records every botocore client's calls from now on into `path`. `principal` is this
    process's own (a task's role); otherwise only calls inside `acting_as` are recorded.
    Sessions read botocore's built-in handler list when they are made, so clients made
    earlier are not covered, except those of boto3's default session."""
    global _recorder  # noqa: PLW0603 - one recorder per process, as botocore's handler list is
    already = _recorder is not None
    _recorder = _Recorder(path, principal)
    if already:
        return
    if not isinstance(getattr(handlers, "BUILTIN_HANDLERS", None), list):
        raise RuntimeError("botocore.handlers.BUILTIN_HANDLERS moved: the IAM audit needs it")
    handlers.BUILTIN_HANDLERS.append((_EVENT, _record))
    if boto3.DEFAULT_SESSION is not None:
        boto3.DEFAULT_SESSION.events.register(_EVENT, _record)


def install_from_environment() -> None:
    """For a task's start-up: records if the environment names an audit log."""
    if path := os.environ.get(AUDIT_LOG_ENV):
        install(Path(path), os.environ.get(PRINCIPAL_ENV, TRANSCODER_TASK))


def task_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """What a transcoder task's process needs so that its calls are recorded as the task
    role's: nothing when the audit is off."""
    if _recorder is None:
        return {}
    paths = [str(TASK_SITE_DIR), environment.get("PYTHONPATH", "")]
    return {
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        AUDIT_LOG_ENV: str(_recorder.path),
        PRINCIPAL_ENV: TRANSCODER_TASK,
    }


def read_calls(path: Path) -> list[Call]:
    if not path.exists():
        return []
    return [Call(**json.loads(line)) for line in path.read_text().splitlines() if line]


# --- an SDK call, as IAM sees it -------------------------------------------------------------

IamRequest = tuple[str, str, dict[str, str]]  # action, resource ARN, condition keys

# Where the IAM action is not the operation's name.
_ACTION_OF = {
    "s3": {
        "ListObjectsV2": "ListBucket",
        "ListObjects": "ListBucket",
        "HeadBucket": "ListBucket",
        "ListObjectVersions": "ListBucketVersions",
        "ListMultipartUploads": "ListBucketMultipartUploads",
        "HeadObject": "GetObject",
        "CreateMultipartUpload": "PutObject",
        "UploadPart": "PutObject",
        "CompleteMultipartUpload": "PutObject",
        "ListParts": "ListMultipartUploadParts",
        "DeleteObjects": "DeleteObject",
        "CopyObject": "PutObject",
        "UploadPartCopy": "PutObject",
    },
    "lambda": {"Invoke": "InvokeFunction", "InvokeWithResponseStream": "InvokeFunction"},
}
# An object operation naming a version needs the action's Version variant.
_VERSIONED = {
    "GetObject": "GetObjectVersion",
    "DeleteObject": "DeleteObjectVersion",
    "GetObjectTagging": "GetObjectVersionTagging",
    "PutObjectTagging": "PutObjectVersionTagging",
    "DeleteObjectTagging": "DeleteObjectVersionTagging",
}
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


def iam_requests(model: Any, params: Mapping[str, Any]) -> list[IamRequest]:
    """The (action, resource, condition keys) IAM evaluates for one SDK call."""
    prefix = model.service_model.signing_name or model.service_model.endpoint_prefix
    name = model.name
    action = _ACTION_OF.get(prefix, {}).get(name, name)
    if prefix == "s3":
        return _s3_requests(name, action, params)
    if prefix == "dynamodb":
        return _dynamodb_requests(name, action, params)
    if prefix == "events" and name == "PutEvents":
        return [
            (
                "events:PutEvents",
                arn("events", f"event-bus/{entry.get('EventBusName') or 'default'}"),
                {"events:source": entry.get("Source", "")},
            )
            for entry in params.get("Entries", [])
        ]
    return [(f"{prefix}:{action}", _resource(prefix, params), {})]


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _s3_object(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


def _s3_requests(name: str, action: str, params: Mapping[str, Any]) -> list[IamRequest]:
    bucket = params.get("Bucket", "")
    if name == "DeleteObjects":
        return [
            (
                f"s3:{_VERSIONED[action] if item.get('VersionId') else action}",
                _s3_object(bucket, item["Key"]),
                {},
            )
            for item in params.get("Delete", {}).get("Objects", [])
        ]
    if "Key" not in params:
        return [(f"s3:{action}", f"arn:aws:s3:::{bucket}", {})]
    if params.get("VersionId"):
        action = _VERSIONED.get(action, action)
    requests: list[IamRequest] = [(f"s3:{action}", _s3_object(bucket, params["Key"]), {})]
    if copy_source := params.get("CopySource"):
        requests.append(_s3_copy_source(copy_source))
    return requests


def _s3_copy_source(source: str | Mapping[str, str]) -> IamRequest:
    if isinstance(source, str):
        path, _, query = source.lstrip("/").partition("?versionId=")
        bucket, _, key = path.partition("/")
        source = {"Bucket": bucket, "Key": key, "VersionId": query}
    action = "GetObjectVersion" if source.get("VersionId") else "GetObject"
    return (f"s3:{action}", _s3_object(source["Bucket"], source["Key"]), {})


def _table(name: str, index: str | None = None) -> str:
    if name.startswith("arn:"):
        return name
    return arn("dynamodb", f"table/{name}" + (f"/index/{index}" if index else ""))


def _dynamodb_requests(name: str, action: str, params: Mapping[str, Any]) -> list[IamRequest]:
    if name in {"TransactWriteItems", "TransactGetItems"}:
        return [
            (f"dynamodb:{_TRANSACT_ACTIONS[kind]}", _table(operation["TableName"]), {})
            for item in params.get("TransactItems", [])
            for kind, operation in item.items()
        ]
    if name in {"BatchWriteItem", "BatchGetItem"}:
        return [(f"dynamodb:{action}", _table(t), {}) for t in params.get("RequestItems", {})]
    table = params.get("TableName", "*")
    return [(f"dynamodb:{action}", _table(table, params.get("IndexName")), {})]


def _resource(prefix: str, params: Mapping[str, Any]) -> str:
    """The resource ARN of a call on one named resource; `*` where the call names none
    (which a resource-scoped grant does not allow, so an unknown shape fails loudly)."""
    if prefix == "sqs" and (url := params.get("QueueUrl") or params.get("QueueName")):
        return arn("sqs", str(url).rstrip("/").rsplit("/", 1)[-1])
    if prefix == "lambda" and (function := params.get("FunctionName")):
        return (
            str(function) if function.startswith("arn:") else arn("lambda", f"function:{function}")
        )
    if prefix == "secretsmanager" and (secret := params.get("SecretId")):
        return (
            str(secret) if secret.startswith("arn:") else arn("secretsmanager", f"secret:{secret}")
        )
    for key, value in params.items():  # stateMachineArn, executionArn, ResourceArn...
        if key.lower().endswith("arn") and isinstance(value, str) and value.startswith("arn:"):
            return value
    return "*"


# --- the state machine's service integrations ----------------------------------------------

ECS_SYNC_RULE = "StepFunctionsGetEventsForECSTaskRule"


@dataclass(frozen=True)
class RunTaskContext:
    """What `ecs:runTask.sync` acts on besides the task definition: the tasks it started
    (it describes and stops them) and the roles of the task definition (it passes them)."""

    task_arns: Sequence[str]
    passed_roles: Sequence[str]


def state_machine_calls(history: Iterable[Mapping[str, Any]], ecs: RunTaskContext) -> list[Call]:
    """The calls Step Functions makes for the Task states of one execution's history."""
    calls: list[Call] = []
    for event in history:
        details = event.get("taskScheduledEventDetails")
        if event.get("type") != "TaskScheduled" or not details:
            continue
        service, resource = details["resourceType"], details["resource"]
        api, _, pattern = resource.partition(".")  # "runTask.sync": the integration pattern
        parameters = json.loads(details.get("parameters") or "{}")
        action = f"{service}:{api[:1].upper()}{api[1:]}"
        for iam_action, arn_, conditions in _integration_requests(
            action, parameters, sync=pattern.startswith("sync"), ecs=ecs
        ):
            calls.append(Call(STATE_MACHINE, iam_action, arn_, conditions, f"{service}:{resource}"))
    return calls


def _integration_requests(
    action: str, parameters: Mapping[str, Any], *, sync: bool, ecs: RunTaskContext
) -> list[IamRequest]:
    if action == "lambda:Invoke":
        return [("lambda:InvokeFunction", _resource("lambda", parameters), {})]
    service = action.split(":", 1)[0]
    if service == "dynamodb":
        return [(action, _table(parameters.get("TableName", "*")), {})]
    if action != "ecs:RunTask":
        return [(action, _resource(service, parameters), {})]
    definition = str(parameters.get("TaskDefinition", "*"))
    requests: list[IamRequest] = [
        (
            "ecs:RunTask",
            definition
            if definition.startswith("arn:")
            else arn("ecs", f"task-definition/{definition}"),
            {},
        )
    ]
    requests += [
        ("iam:PassRole", role, {"iam:PassedToService": "ecs-tasks.amazonaws.com"})
        for role in ecs.passed_roles
    ]
    if sync:  # .sync watches the task through a managed EventBridge rule, and stops it on abort
        rule = arn("events", f"rule/{ECS_SYNC_RULE}")
        requests += [(f"events:{a}", rule, {}) for a in ("PutTargets", "PutRule", "DescribeRule")]
        requests += [
            (f"ecs:{a}", task, {}) for task in ecs.task_arns for a in ("DescribeTasks", "StopTask")
        ]
    return requests
