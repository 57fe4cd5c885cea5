"""Every AWS call a principal of the offline stack made in this test session is allowed by
that principal's policies in the synthesized template (moto does not enforce IAM, so
without this a missing grant shows up only on AWS).

The calls are those of every end-to-end test run before this one in the session (this tier
runs after tests/e2e) plus a short run of its own: one clip processed and deleted, one
upload that is not a video. Grants no call needed are reported, not failed: some are
needed only on AWS (logs, X-Ray, the uploads rule's role).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from local import engine_hooks
from local.client import ApiClient
from local.config import ASL_PATH, REPO_ROOT
from local.iam_audit import Call, RunTaskContext, read_calls, state_machine_calls
from local.stack import OfflineStack
from tests.infrastructure.conftest import Synthesized
from tests.infrastructure.iam_evaluation import (
    FUNCTION_SERVICES,
    OfflineContracts,
    OfflineNames,
    filled_placeholders,
    principal_policies,
    principal_roles,
)

REPORT = REPO_ROOT / "test-artifacts" / "iam-grants-unused-offline.txt"


def run_short_pipeline(stack: OfflineStack, clip: Path, tmp_path: Path) -> None:
    """The calls of a success, a failure and a delete, even when this test runs alone."""
    client = ApiClient(stack.api_url, stack.token("iam-audit"))
    created = client.create_video(clip, "IAM audit")
    client.upload(created["upload"], clip)
    not_a_video = tmp_path / "notes.mp4"
    not_a_video.write_text("this is not a video\n" * 100)
    rejected = client.create_video(not_a_video, "IAM audit, not a video")
    client.upload(rejected["upload"], not_a_video)
    for video_id in (created["video"]["id"], rejected["video"]["id"]):
        client.wait_until_done(video_id, timeout_seconds=300)
    stack.wait_for_executions(timeout_seconds=120)
    client.delete_video(created["video"]["id"])


def offline_contracts(stack: OfflineStack) -> OfflineContracts:
    assert stack.deployed is not None
    names = stack.config.names
    aws_lambda = stack.client("lambda")
    definition = stack.client("ecs").describe_task_definition(taskDefinition=names.task_family)
    container = definition["taskDefinition"]["containerDefinitions"][0]
    machine = stack.client("stepfunctions").describe_state_machine(
        stateMachineArn=stack.deployed.state_machine_arn
    )
    return OfflineContracts(
        function_environments={
            service: aws_lambda.get_function_configuration(FunctionName=getattr(names, name))[
                "Environment"
            ]["Variables"]
            for name, service in FUNCTION_SERVICES.items()
        },
        task_environment={e["name"]: e["value"] for e in container["environment"]},
        task_family=definition["taskDefinition"]["family"],
        definition_substitutions=filled_placeholders(
            json.loads(ASL_PATH.read_text()), json.loads(machine["definition"])
        ),
    )


def state_machine_role_calls(
    stack: OfflineStack, names: OfflineNames, task: dict[str, Any]
) -> list[Call]:
    """What Step Functions itself called for the Task states every execution ran."""
    sfn = stack.client("stepfunctions")
    ecs = RunTaskContext(
        task_arns=[launched.task_arn for launched in engine_hooks.launched_tasks()],
        passed_roles=[
            names.resolve(task["Properties"]["TaskRoleArn"]),
            names.resolve(task["Properties"]["ExecutionRoleArn"]),
        ],
    )
    calls = []
    for execution in stack.executions():
        pages = sfn.get_paginator("get_execution_history").paginate(
            executionArn=execution["executionArn"]
        )
        history = [event for page in pages for event in page["events"]]
        calls += state_machine_calls(history, ecs)
    return calls


def test_every_call_a_principal_made_offline_is_allowed_by_its_policies_in_the_template(
    offline_stack: OfflineStack,
    synthesized: Synthesized,
    iam_calls_log: Path,
    clip_720p: Path,
    tmp_path: Path,
) -> None:
    # Given every call recorded in this session, with a short pipeline run of our own
    run_short_pipeline(offline_stack, clip_720p, tmp_path)
    names = OfflineNames(synthesized, offline_contracts(offline_stack))
    _, task = synthesized.one("AWS::ECS::TaskDefinition")
    calls = read_calls(iam_calls_log) + state_machine_role_calls(offline_stack, names, task)
    roles = principal_roles(synthesized, offline_stack.config.names)
    assert {call.principal for call in calls} == set(roles), "a principal made no recorded call"

    # When each call is evaluated against its principal's policies
    denied, unused = [], []
    for principal, role in sorted(roles.items()):
        policies = principal_policies(synthesized, names, role, principal)
        own = [call for call in calls if call.principal == principal]
        denied += [
            f"{call.describe()} denied to {role}" for call in own if not policies.allows(call)
        ]
        unused += [grant.describe() for grant in policies.unused(own)]

    # Then none is denied; grants never used offline are a report
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text("".join(f"{line}\n" for line in unused))
    print(f"grants never used offline ({REPORT}):", *unused, sep="\n  ")
    assert not denied, "calls the deployed policies would deny:\n" + "\n".join(denied)
