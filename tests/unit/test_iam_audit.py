"""How an SDK call reads to IAM (local/iam_audit.py), and whose call it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from local import iam_audit
from local.iam_audit import RunTaskContext, iam_requests, state_machine_calls


def requests_of(service: str, operation: str, **params: Any) -> list[tuple[str, str]]:
    client = boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]
    model = client.meta.service_model
    return [(a, r) for a, r, _ in iam_requests(model.operation_model(operation), params)]


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("HeadObject", {"Key": "v/source"}, ("s3:GetObject", "arn:aws:s3:::b1/v/source")),
        (
            "GetObject",
            {"Key": "v/source", "VersionId": "3"},
            ("s3:GetObjectVersion", "arn:aws:s3:::b1/v/source"),
        ),
        ("ListObjectsV2", {"Prefix": "v/"}, ("s3:ListBucket", "arn:aws:s3:::b1")),
        ("UploadPart", {"Key": "v/source"}, ("s3:PutObject", "arn:aws:s3:::b1/v/source")),
    ],
)
def test_s3_operations_read_as_the_iam_action_on_the_bucket_or_object(
    operation: str, params: dict[str, Any], expected: tuple[str, str]
) -> None:
    assert requests_of("s3", operation, Bucket="b1", **params) == [expected]


def test_delete_objects_needs_the_action_on_every_key() -> None:
    objects = [{"Key": "v/a"}, {"Key": "v/b", "VersionId": "7"}]
    assert requests_of("s3", "DeleteObjects", Bucket="b1", Delete={"Objects": objects}) == [
        ("s3:DeleteObject", "arn:aws:s3:::b1/v/a"),
        ("s3:DeleteObjectVersion", "arn:aws:s3:::b1/v/b"),
    ]


def test_an_index_query_is_on_the_index_and_an_invoke_is_invoke_function() -> None:
    assert requests_of("dynamodb", "Query", TableName="t", IndexName="by_owner") == [
        ("dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/t/index/by_owner")
    ]
    assert requests_of("lambda", "Invoke", FunctionName="f") == [
        ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:f")
    ]


def test_only_calls_inside_a_principal_are_recorded_and_a_presign_is_the_signers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the session's own recorder (if the offline stack's is installed) comes back afterwards
    monkeypatch.setattr(iam_audit, "_recorder", iam_audit._recorder)
    log = tmp_path / "calls.jsonl"
    iam_audit.install(log)
    s3 = boto3.Session(aws_access_key_id="k", aws_secret_access_key="s").client(
        "s3", region_name="us-east-1"
    )
    s3.generate_presigned_url("get_object", Params={"Bucket": "b1", "Key": "nobody"})
    with iam_audit.acting_as("probe"):
        s3.generate_presigned_url(
            "get_object", Params={"Bucket": "b1", "Key": "v/source", "VersionId": "3"}
        )

    (call,) = iam_audit.read_calls(log)
    assert (call.principal, call.action, call.resource) == (
        "probe",
        "s3:GetObjectVersion",
        "arn:aws:s3:::b1/v/source",
    )
    assert call.operation == "s3.GetObject (presigned)"


def test_a_sync_run_task_needs_the_managed_rule_the_tasks_and_the_passed_roles() -> None:
    history = [
        {
            "type": "TaskScheduled",
            "taskScheduledEventDetails": {
                "resourceType": "ecs",
                "resource": "runTask.sync",
                "parameters": '{"TaskDefinition": "family:1"}',
            },
        }
    ]
    context = RunTaskContext(task_arns=["arn:task/1"], passed_roles=["arn:role/task"])
    calls = {(c.action, c.resource) for c in state_machine_calls(history, context)}
    assert calls == {
        ("ecs:RunTask", "arn:aws:ecs:us-east-1:123456789012:task-definition/family:1"),
        ("iam:PassRole", "arn:role/task"),
        *(
            (
                f"events:{action}",
                "arn:aws:events:us-east-1:123456789012:rule/StepFunctionsGetEventsForECSTaskRule",
            )
            for action in ("PutTargets", "PutRule", "DescribeRule")
        ),
        ("ecs:DescribeTasks", "arn:task/1"),
        ("ecs:StopTask", "arn:task/1"),
    }
