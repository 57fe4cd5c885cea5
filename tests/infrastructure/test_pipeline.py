"""The workflow as deployed: the ASL file, its substitutions, the ECS task and the trigger."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Match

from cdk import constants
from cdk.nag import logical_id
from cdk.pipeline import FARGATE_STORAGE_GIB, ephemeral_storage_gib
from local.resources import upload_rule_pattern
from tests.infrastructure.conftest import Synthesized
from tests.infrastructure.policies import (
    actions,
    arn_ref,
    as_list,
    function_of_service,
    role_statements,
)


@pytest.fixture(scope="module")
def state_machine(synthesized: Synthesized) -> dict[str, Any]:
    _, resource = synthesized.one("AWS::StepFunctions::StateMachine")
    return resource


@pytest.fixture(scope="module")
def definition(synthesized: Synthesized, state_machine: dict[str, Any]) -> dict[str, Any]:
    """The definition CloudFormation deploys: the file asset staged in the assembly."""
    key = state_machine["Properties"]["DefinitionS3Location"]["Key"]
    staged = synthesized.outdir / f"asset.{key}"
    document: dict[str, Any] = json.loads(staged.read_text())
    return document


def substitutions(state_machine: dict[str, Any]) -> dict[str, Any]:
    subs: dict[str, Any] = state_machine["Properties"]["DefinitionSubstitutions"]
    return subs


def test_the_deployed_definition_is_the_asl_file(definition: dict[str, Any]) -> None:
    assert definition == json.loads(constants.STATE_MACHINE_ASL.read_text())


def test_every_placeholder_and_only_those_is_substituted(state_machine: dict[str, Any]) -> None:
    placeholders = set(re.findall(r"\$\{(\w+)\}", constants.STATE_MACHINE_ASL.read_text()))
    assert placeholders == set(constants.ASL_PLACEHOLDERS)
    assert set(substitutions(state_machine)) == placeholders


def test_the_map_runs_the_transcoder_task_with_ecs_run_task_sync(
    synthesized: Synthesized, state_machine: dict[str, Any], definition: dict[str, Any]
) -> None:
    inner = transcoder_map(definition)["ItemProcessor"]["States"]
    tasks = [s for s in inner.values() if s.get("Resource") == "arn:aws:states:::ecs:runTask.sync"]
    assert len(tasks) == 1
    params = tasks[0]["Parameters"]
    assert params["TaskDefinition"] == "${TaskDefinitionArn}"
    assert params["Cluster"] == "${ClusterArn}"
    assert params["Overrides"]["ContainerOverrides"][0]["Name"] == "${ContainerName}"

    pipeline = synthesized.stack.pipeline
    subs = substitutions(state_machine)
    assert subs["TaskDefinitionArn"] == {"Ref": logical_id(pipeline.task_definition)}
    assert subs["ClusterArn"] == arn_ref(logical_id(pipeline.cluster))
    assert subs["ContainerName"] == constants.TRANSCODER_CONTAINER_NAME
    task_definition = synthesized.resources[logical_id(pipeline.task_definition)]
    containers = task_definition["Properties"]["ContainerDefinitions"]
    assert [c["Name"] for c in containers] == [constants.TRANSCODER_CONTAINER_NAME]


def transcoder_map(definition: dict[str, Any]) -> dict[str, Any]:
    """The Map whose ItemProcessor runs the transcoder task (inside the Map of waves)."""

    def maps(states: dict[str, Any]) -> list[dict[str, Any]]:
        found = [s for s in states.values() if s["Type"] == "Map"]
        return found + [m for s in found for m in maps(s["ItemProcessor"]["States"])]

    (only,) = [
        m for m in maps(definition["States"]) if "RunTranscoder" in m["ItemProcessor"]["States"]
    ]
    return only


def test_tasks_retry_and_failures_are_caught(definition: dict[str, Any]) -> None:
    states = definition["States"]
    run_task = transcoder_map(definition)["ItemProcessor"]["States"]["RunTranscoder"]
    assert run_task["Retry"] and run_task["Catch"]
    waves = next(s for s in states.values() if s["Type"] == "Map")
    assert any(c["Next"] == "RecordFailure" for c in waves["Catch"])
    for name in ("Claim", "Probe", "Finalise"):
        assert states[name]["Retry"], name
        assert any(c["Next"] == "RecordFailure" for c in states[name]["Catch"]), name


def test_failures_reach_the_dead_letter_queue(
    synthesized: Synthesized, state_machine: dict[str, Any], definition: dict[str, Any]
) -> None:
    send = definition["States"]["SendToDeadLetterQueue"]
    assert send["Resource"] == "arn:aws:states:::sqs:sendMessage"
    assert send["Parameters"]["QueueUrl"] == "${DeadLetterQueueUrl}"
    dlq = logical_id(synthesized.stack.pipeline.dead_letter_queue)
    assert substitutions(state_machine)["DeadLetterQueueUrl"] == {"Ref": dlq}
    queue = synthesized.resources[dlq]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True


def test_network_substitutions_are_the_public_subnets_and_the_ingress_free_group(
    synthesized: Synthesized, state_machine: dict[str, Any]
) -> None:
    pipeline = synthesized.stack.pipeline
    subs = substitutions(state_machine)
    subnets = [logical_id(subnet) for subnet in pipeline.vpc.public_subnets]
    assert [subs["SubnetId1"], subs["SubnetId2"]] == [{"Ref": s} for s in subnets]
    group_id = logical_id(pipeline.security_group)
    assert subs["SecurityGroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    assert "SecurityGroupIngress" not in synthesized.resources[group_id]["Properties"]
    assert not synthesized.of_type("AWS::EC2::NatGateway")
    synthesized.template.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"}
    )


def test_logging_all_and_tracing(state_machine: dict[str, Any]) -> None:
    props = state_machine["Properties"]
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["TracingConfiguration"]["Enabled"] is True


def test_the_state_machine_role_may_do_what_the_asl_does_and_no_more(
    synthesized: Synthesized, state_machine: dict[str, Any]
) -> None:
    role = state_machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    statements = role_statements(synthesized, role)
    granted = actions(statements)
    workflow = {
        "dynamodb:UpdateItem",
        "lambda:InvokeFunction",
        "ecs:RunTask",
        "ecs:StopTask",
        "ecs:DescribeTasks",
        "iam:PassRole",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
        "sqs:SendMessage",
    }
    observability = {a for a in granted if a.startswith(("logs:", "xray:"))}
    assert granted - observability == workflow

    by_action = {a: s for s in statements for a in as_list(s["Action"])}
    pipeline = synthesized.stack.pipeline
    assert pipeline.task_definition.family in json.dumps(by_action["ecs:RunTask"]["Resource"])
    rule = by_action["events:PutRule"]["Resource"]
    assert constants.ECS_SYNC_MANAGED_RULE in json.dumps(rule)
    assert by_action["dynamodb:UpdateItem"]["Resource"] == arn_ref(
        logical_id(synthesized.stack.data.table)
    )
    invoked = as_list(by_action["lambda:InvokeFunction"]["Resource"])
    functions = (pipeline.probe, pipeline.finalise, pipeline.record_failure)
    assert sorted(map(repr, invoked)) == sorted(repr(arn_ref(logical_id(f))) for f in functions)


def test_object_created_on_sources_starts_the_state_machine_with_a_dlq(
    synthesized: Synthesized,
) -> None:
    pipeline = synthesized.stack.pipeline
    rule = pipeline.trigger
    uploads = logical_id(synthesized.stack.storage.uploads)
    synthesized.template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "EventPattern": {
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {
                    "bucket": {"name": [{"Ref": uploads}]},
                    "object": {"key": [{"suffix": constants.UPLOAD_SOURCE_SUFFIX}]},
                },
            },
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Ref": logical_id(pipeline.state_machine)},
                        "DeadLetterConfig": {
                            "Arn": arn_ref(logical_id(pipeline.dead_letter_queue))
                        },
                        "RetryPolicy": Match.object_like(
                            {"MaximumRetryAttempts": Match.any_value()}
                        ),
                    }
                )
            ],
        },
    )
    # the offline stack's rule (local/resources.py) is this very pattern
    offline = json.loads(json.dumps(upload_rule_pattern("uploads-bucket")))
    offline["detail"]["bucket"]["name"] = [{"Ref": uploads}]
    deployed = synthesized.template_json["Resources"][logical_id(rule)]["Properties"]
    assert deployed["EventPattern"] == offline
    synthesized.template.has_resource_properties(
        "AWS::S3::Bucket",
        {"NotificationConfiguration": {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}},
    )
    # EventBridge may write to the queue, for this rule only.
    synthesized.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Action": "sqs:SendMessage",
                                "Principal": {"Service": "events.amazonaws.com"},
                                "Condition": {
                                    "ArnEquals": {"aws:SourceArn": arn_ref(logical_id(rule))}
                                },
                            }
                        )
                    ]
                )
            }
        },
    )


def test_the_transcoder_task(synthesized: Synthesized) -> None:
    pipeline = synthesized.stack.pipeline
    props = synthesized.resources[logical_id(pipeline.task_definition)]["Properties"]
    assert (props["Cpu"], props["Memory"]) == ("2048", "4096")
    assert props["RequiresCompatibilities"] == ["FARGATE"]
    (container,) = props["ContainerDefinitions"]
    names = {variable["Name"] for variable in container["Environment"]}
    assert names == {"UPLOADS_BUCKET", "MEDIA_BUCKET"}
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    synthesized.template.has_resource_properties(
        "AWS::ECS::Cluster",
        {"ClusterSettings": [{"Name": "containerInsights", "Value": "enabled"}]},
    )


def test_task_storage_holds_the_largest_accepted_source_and_its_outputs(
    synthesized: Synthesized,
) -> None:
    pipeline = synthesized.stack.pipeline
    props = synthesized.resources[logical_id(pipeline.task_definition)]["Properties"]
    max_upload_gib = synthesized.stack.settings.max_upload_bytes / 1024**3
    storage_gib = props["EphemeralStorage"]["SizeInGiB"]
    assert storage_gib >= min(2 * max_upload_gib, FARGATE_STORAGE_GIB[1])
    assert FARGATE_STORAGE_GIB[0] <= storage_gib <= FARGATE_STORAGE_GIB[1]


@pytest.mark.parametrize(
    ("max_upload_bytes", "expected_gib"),
    [(1, 21), (10 * 1024**3, 24), (50 * 1024**3, 104), (5 * 1024**4, 200)],
)
def test_task_storage_follows_the_upload_limit_within_fargates_range(
    max_upload_bytes: int, expected_gib: int
) -> None:
    assert ephemeral_storage_gib(max_upload_bytes) == expected_gib


def test_the_probe_knows_the_upload_limit_and_outlasts_its_ffprobe_calls(
    synthesized: Synthesized, definition: dict[str, Any]
) -> None:
    probe = function_of_service(synthesized, constants.PROBE_SERVICE)["Properties"]
    limit = synthesized.stack.settings.max_upload_bytes
    assert probe["Environment"]["Variables"]["MAX_UPLOAD_BYTES"] == str(limit)
    # Room for two bounded ffprobe runs, and the state's timeout above the function's own.
    assert probe["Timeout"] >= 180
    assert definition["States"]["Probe"]["TimeoutSeconds"] > probe["Timeout"]


def test_finalise_runs_in_the_ffmpeg_image_with_room_to_remux_the_download(
    synthesized: Synthesized, definition: dict[str, Any]
) -> None:
    finalise = function_of_service(synthesized, constants.FINALISE_SERVICE)["Properties"]
    probe = function_of_service(synthesized, constants.PROBE_SERVICE)["Properties"]
    # The probe's image (FFmpeg inside), started on the finaliser's handler
    assert finalise["PackageType"] == "Image"
    assert finalise["Code"] == probe["Code"]
    assert finalise["ImageConfig"]["Command"] == [constants.FINALISE_HANDLER]
    assert finalise["Environment"]["Variables"]["DOWNLOAD_MAX_HEIGHT"] == str(
        synthesized.stack.settings.download_max_height
    )
    assert finalise["EphemeralStorage"]["Size"] == 10240
    # The final state waits longer than the function may run; the provisional one only
    # publishes manifests and keeps its short timeout.
    assert definition["States"]["Finalise"]["TimeoutSeconds"] > finalise["Timeout"]
