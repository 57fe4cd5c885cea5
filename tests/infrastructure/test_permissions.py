"""Least privilege: who may touch what."""

from __future__ import annotations

from typing import Any

from cdk import constants
from cdk.nag import logical_id
from tests.infrastructure.conftest import Synthesized
from tests.infrastructure.policies import (
    actions,
    arn_ref,
    as_list,
    objects_of,
    role_of_service,
    role_statements,
)


def _task_role(synthesized: Synthesized) -> str:
    task_definition = logical_id(synthesized.stack.pipeline.task_definition)
    props = synthesized.resources[task_definition]["Properties"]
    role: str = props["TaskRoleArn"]["Fn::GetAtt"][0]
    return role


def test_the_transcoder_reads_sources_and_writes_media_and_nothing_else(
    synthesized: Synthesized,
) -> None:
    storage = synthesized.stack.storage
    statements = role_statements(synthesized, _task_role(synthesized))
    granted = sorted(
        (action, repr(resource))
        for statement in statements
        for action in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    )
    assert all(statement["Effect"] == "Allow" for statement in statements)
    assert granted == sorted(
        [
            ("s3:GetObject", repr(objects_of(logical_id(storage.uploads), "*/source"))),
            ("s3:GetObjectVersion", repr(objects_of(logical_id(storage.uploads), "*/source"))),
            ("s3:PutObject", repr(objects_of(logical_id(storage.media), "*"))),
        ]
    )
    role = synthesized.resources[_task_role(synthesized)]["Properties"]
    assert "ManagedPolicyArns" not in role


def test_the_api_cannot_delete_the_table_or_do_anything(synthesized: Synthesized) -> None:
    statements = role_statements(synthesized, role_of_service(synthesized, constants.API_SERVICE))
    granted = actions(statements)
    assert "*" not in granted
    assert not any(a.endswith(":*") for a in granted)
    table_level = {"dynamodb:DeleteTable", "dynamodb:UpdateTable", "dynamodb:CreateTable"}
    assert not granted & table_level
    assert {"dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"} <= granted
    assert {"states:StartExecution", "secretsmanager:GetSecretValue"} <= granted
    assert "events:PutEvents" not in granted


def test_the_api_reads_only_the_cdn_key_secret(synthesized: Synthesized) -> None:
    statements = role_statements(synthesized, role_of_service(synthesized, constants.API_SERVICE))
    secret = {"Ref": logical_id(synthesized.stack.delivery.private_key_secret)}
    for statement in statements:
        if any(a.startswith("secretsmanager:") for a in as_list(statement["Action"])):
            assert as_list(statement["Resource"]) == [secret]


def test_the_api_uploads_only_sources_and_caption_files(synthesized: Synthesized) -> None:
    statements = role_statements(synthesized, role_of_service(synthesized, constants.API_SERVICE))
    uploads = logical_id(synthesized.stack.storage.uploads)
    media = logical_id(synthesized.stack.storage.media)
    put = [s for s in statements if "s3:PutObject" in as_list(s["Action"])]
    granted = sorted(repr(r) for s in put for r in as_list(s["Resource"]))
    assert granted == sorted(
        repr(objects_of(bucket, pattern))
        for bucket, pattern in [
            (uploads, "*/source"),
            (uploads, "*/captions/*"),
            (media, "*/hls/subs/*"),
            (media, "*/hls/master.m3u8"),
            (media, "*/dash/manifest.mpd"),
        ]
    )


def test_the_api_reads_of_the_media_only_the_manifests_it_rewrites(
    synthesized: Synthesized,
) -> None:
    statements = role_statements(synthesized, role_of_service(synthesized, constants.API_SERVICE))
    media = logical_id(synthesized.stack.storage.media)
    readers = [s for s in statements if "s3:GetObject" in as_list(s["Action"])]
    media_reads = [
        resource
        for s in readers
        for resource in as_list(s["Resource"])
        if repr(resource).count(media)
    ]
    assert sorted(map(repr, media_reads)) == sorted(
        repr(objects_of(media, pattern)) for pattern in ("*/hls/master.m3u8", "*/dash/manifest.mpd")
    )


def test_the_api_tags_and_deletes_versions_of_sources_and_caption_files_only(
    synthesized: Synthesized,
) -> None:
    statements = role_statements(synthesized, role_of_service(synthesized, constants.API_SERVICE))
    uploads = logical_id(synthesized.stack.storage.uploads)
    sources, caption_files = objects_of(uploads, "*/source"), objects_of(uploads, "*/captions/*")
    expected = {
        "s3:PutObjectTagging": [[sources], [caption_files]],
        "s3:DeleteObjectTagging": [[sources]],
        "s3:DeleteObjectVersion": [[sources], [caption_files]],
    }
    for action, resources in expected.items():
        granted = [s for s in statements if action in as_list(s["Action"])]
        assert [as_list(s["Resource"]) for s in granted] == resources
    (versions,) = [s for s in statements if "s3:ListBucketVersions" in as_list(s["Action"])]
    assert [r["Fn::GetAtt"][0] for r in as_list(versions["Resource"])] == [uploads]


def test_the_api_lists_only_the_uploads_and_media_buckets(synthesized: Synthesized) -> None:
    statements = role_statements(synthesized, role_of_service(synthesized, constants.API_SERVICE))
    (listing,) = [s for s in statements if "s3:ListBucket" in as_list(s["Action"])]
    buckets = {
        logical_id(synthesized.stack.storage.uploads),
        logical_id(synthesized.stack.storage.media),
    }
    assert {r["Fn::GetAtt"][0] for r in as_list(listing["Resource"])} == buckets


def test_only_finalise_and_record_failure_put_events_with_our_source(
    synthesized: Synthesized,
) -> None:
    for service in (constants.FINALISE_SERVICE, constants.RECORD_FAILURE_SERVICE):
        statements = role_statements(synthesized, role_of_service(synthesized, service))
        (put_events,) = [s for s in statements if s["Action"] == "events:PutEvents"]
        assert put_events["Condition"] == {
            "StringEquals": {"events:source": constants.EVENT_SOURCE}
        }
    for service in (constants.API_SERVICE, constants.PROBE_SERVICE):
        granted = actions(role_statements(synthesized, role_of_service(synthesized, service)))
        assert "events:PutEvents" not in granted


def test_no_project_role_has_wildcard_actions_or_managed_policies(
    synthesized: Synthesized,
) -> None:
    ours = [
        _task_role(synthesized),
        *(
            role_of_service(synthesized, service)
            for service in (
                constants.API_SERVICE,
                constants.PROBE_SERVICE,
                constants.FINALISE_SERVICE,
                constants.RECORD_FAILURE_SERVICE,
            )
        ),
    ]
    for role in ours:
        granted = actions(role_statements(synthesized, role))
        assert not [a for a in granted if "*" in a], role
        assert "ManagedPolicyArns" not in synthesized.resources[role]["Properties"], role


def test_functions_run_python_312_on_arm64_except_the_ffmpeg_images(
    synthesized: Synthesized,
) -> None:
    functions: dict[str, Any] = {}
    for function in synthesized.of_type("AWS::Lambda::Function").values():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if "POWERTOOLS_SERVICE_NAME" in variables:
            functions[variables["POWERTOOLS_SERVICE_NAME"]] = function["Properties"]
    assert set(functions) == {
        constants.API_SERVICE,
        constants.PROBE_SERVICE,
        constants.FINALISE_SERVICE,
        constants.RECORD_FAILURE_SERVICE,
    }
    for service, props in functions.items():
        assert props["TracingConfig"] == {"Mode": "Active"}
        env = props["Environment"]["Variables"]
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == constants.METRICS_NAMESPACE
        assert {"VIDEOS_TABLE_NAME", "UPLOADS_BUCKET", "MEDIA_BUCKET", "LOG_LEVEL"} <= set(env)
        if service == constants.PROBE_SERVICE:
            assert props["PackageType"] == "Image"
            assert {"X264_PRESET", "MAX_PARALLEL_JOBS", "LADDER_MAX_HEIGHT"} <= set(env)
            assert env["JOB_STRATEGY"] == "per_rung"
            assert env["CHUNK_SECONDS"] == "120"  # the chunkSeconds context's default
            assert (env["AV1_LADDER"], env["NATIVE_TOP_RUNG"]) == ("false", "true")
            assert env["LOUDNESS_TARGET_LUFS"] == "-16"  # loudnessTargetLufs' default
        elif service == constants.FINALISE_SERVICE:  # FFmpeg remuxes the MP4 download
            assert props["PackageType"] == "Image"
            assert env["DOWNLOAD_MAX_HEIGHT"] == "1080"  # the downloadMaxHeight default
        else:
            assert (props["Runtime"], props["Architectures"]) == ("python3.12", ["arm64"])
    api_env = functions[constants.API_SERVICE]["Environment"]["Variables"]
    assert {
        "MAX_UPLOAD_BYTES",
        "STATE_MACHINE_ARN",
        "CDN_DOMAIN",
        "CDN_KEY_PAIR_ID",
        "CDN_PRIVATE_KEY_SECRET_ARN",
        "IDEMPOTENCY_TABLE_NAME",
    } <= set(api_env)
    assert api_env["STATE_MACHINE_ARN"] == {
        "Ref": logical_id(synthesized.stack.pipeline.state_machine)
    }
    assert api_env["CDN_PRIVATE_KEY_SECRET_ARN"] == {
        "Ref": logical_id(synthesized.stack.delivery.private_key_secret)
    }


def test_the_table_is_retained_with_pitr_and_its_indexes(synthesized: Synthesized) -> None:
    table_id = logical_id(synthesized.stack.data.table)
    table = synthesized.resources[table_id]
    assert table["DeletionPolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["pk", "sk"]
    indexes = {
        index["IndexName"]: [k["AttributeName"] for k in index["KeySchema"]]
        for index in props["GlobalSecondaryIndexes"]
    }
    assert indexes == {
        constants.BY_OWNER_INDEX: ["owner_id", "created_at"],
        constants.PUBLIC_CATALOG_INDEX: ["catalog_partition", "created_at"],
        constants.ACTIVE_BY_OWNER_INDEX: ["active_owner_id"],
    }


def test_the_idempotency_table_expires_records_and_only_the_api_uses_it(
    synthesized: Synthesized,
) -> None:
    table_id = logical_id(synthesized.stack.data.idempotency_table)
    props = synthesized.resources[table_id]["Properties"]
    assert [k["AttributeName"] for k in props["KeySchema"]] == ["id"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    for service in (
        constants.API_SERVICE,
        constants.PROBE_SERVICE,
        constants.FINALISE_SERVICE,
        constants.RECORD_FAILURE_SERVICE,
    ):
        statements = role_statements(synthesized, role_of_service(synthesized, service))
        touches = [s for s in statements if arn_ref(table_id) in as_list(s["Resource"])]
        assert bool(touches) == (service == constants.API_SERVICE), service


def test_the_workflow_may_run_any_revision_of_the_transcoder_family_only(
    synthesized: Synthesized,
) -> None:
    # A deploy during processing registers a new revision; videos already running still
    # start tasks from the revision their execution began with.
    _, state_machine = synthesized.one("AWS::StepFunctions::StateMachine")
    statements = role_statements(
        synthesized, state_machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    )
    (run_task,) = [s for s in statements if "ecs:RunTask" in as_list(s["Action"])]
    family = synthesized.stack.pipeline.task_definition.family
    assert run_task["Resource"] == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":ecs:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                f":task-definition/{family}:*",
            ],
        ]
    }


def test_the_probe_reads_sources_and_may_only_untag_them(synthesized: Synthesized) -> None:
    uploads = logical_id(synthesized.stack.storage.uploads)
    statements = role_statements(synthesized, role_of_service(synthesized, constants.PROBE_SERVICE))
    on_sources = {
        action
        for statement in statements
        if objects_of(uploads, "*/source") in as_list(statement["Resource"])
        for action in as_list(statement["Action"])
    }
    assert on_sources == {"s3:GetObject", "s3:GetObjectVersion", "s3:DeleteObjectVersionTagging"}
    assert not {"s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"} & actions(statements)
