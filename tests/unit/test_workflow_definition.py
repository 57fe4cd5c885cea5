"""The ASL file both CDK and the offline runtime load: what must hold for either."""

import json
import re
from pathlib import Path
from typing import Any

from pynamodb.attributes import VersionAttribute

from lambdas.core.models import VIDEO_SORT_KEY, VideoRecord
from lambdas.core.status import VideoStatus
from local.resources import load_definition

ASL = Path(__file__).resolve().parents[2] / "stepfunctions" / "pipeline.asl.json"
PLACEHOLDERS = {
    "VideosTableName", "ProbeFunctionArn", "FinaliseFunctionArn", "RecordFailureFunctionArn",
    "DeadLetterQueueUrl", "ClusterArn", "TaskDefinitionArn", "ContainerName",
    "SubnetId1", "SubnetId2", "SecurityGroupId", "CapacityProvider", "SpotFallback",
}  # fmt: skip


def all_states(states: dict[str, Any]) -> dict[str, Any]:
    found = dict(states)
    for state in states.values():
        if state["Type"] == "Map":
            found |= all_states(state["ItemProcessor"]["States"])
    return found


def definition() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(ASL.read_text())
    return loaded


def test_placeholders_are_exactly_the_documented_set() -> None:
    assert set(re.findall(r"\$\{(\w+)\}", ASL.read_text())) == PLACEHOLDERS


def test_filled_definition_is_json_and_leaves_no_placeholder() -> None:
    text = load_definition({name: f"value-{name}" for name in PLACEHOLDERS})
    assert "${" not in text
    json.loads(text)


def test_every_task_has_a_timeout_and_every_retry_backs_off_with_jitter() -> None:
    for name, state in all_states(definition()["States"]).items():
        if state["Type"] != "Task":
            continue
        assert "TimeoutSeconds" in state or "TimeoutSecondsPath" in state, name
        for retrier in state.get("Retry", []):
            assert retrier["BackoffRate"] >= 2 and retrier["JitterStrategy"] == "FULL", name


def test_the_map_runs_one_ecs_task_per_job_and_classifies_a_failed_task() -> None:
    transcode = all_states(definition()["States"])["Transcode"]
    assert transcode["Type"] == "Map"
    task = transcode["ItemProcessor"]["States"]["RunTranscoder"]
    assert task["Resource"] == "arn:aws:states:::ecs:runTask.sync"
    # Retry cannot read the task's exit code or stop code: a Catch hands it to the classifier
    # (tests/unit/test_retry_policy.py).
    assert not any("States.TaskFailed" in r["ErrorEquals"] for r in task["Retry"])
    assert task["Catch"] == [
        {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.failure", "Next": "ReadTaskFailure"}
    ]


# RunTask's `Failures` (no capacity, over the vCPU quota) fail a .sync task as
# AmazonECS.Unknown; ECS API errors read as ECS.<exception>.
CAPACITY_ERRORS = {"AmazonECS.Unknown", "ECS.AmazonECSException", "ECS.ServerException"}


def test_capacity_and_quota_errors_wait_patiently_apart_from_ffmpeg_failures() -> None:
    retry = all_states(definition()["States"])["RunTranscoder"]["Retry"]
    (capacity,) = [r for r in retry if set(r["ErrorEquals"]) & CAPACITY_ERRORS]
    assert set(capacity["ErrorEquals"]) == CAPACITY_ERRORS
    assert "States.TaskFailed" not in capacity["ErrorEquals"]
    # Several attempts, tens of seconds apart and growing: running tasks have time to end.
    assert capacity["MaxAttempts"] >= 6
    assert capacity["IntervalSeconds"] >= 20
    assert capacity["MaxDelaySeconds"] >= 120


def test_every_failure_path_ends_in_the_dead_letter_queue_and_fail() -> None:
    states = definition()["States"]
    for name in ("Claim", "Probe", "Waves", "Finalise"):
        catch_all = [c for c in states[name]["Catch"] if c["ErrorEquals"] == ["States.ALL"]]
        assert catch_all and catch_all[0]["Next"] == "RecordFailure", name
    assert states["RecordFailure"]["Next"] == "SendToDeadLetterQueue"
    assert states["RecordFailure"]["Catch"][0]["Next"] == "SendToDeadLetterQueue"
    assert states["SendToDeadLetterQueue"]["Resource"] == "arn:aws:states:::sqs:sendMessage"
    assert states[states["SendToDeadLetterQueue"]["Next"]]["Type"] == "Fail"


def test_a_duplicate_event_ends_quietly_at_the_claim() -> None:
    claim = definition()["States"]["Claim"]
    assert "ConditionExpression" in claim["Parameters"]
    conditional = [
        c for c in claim["Catch"] if "DynamoDB.ConditionalCheckFailedException" in c["ErrorEquals"]
    ]
    assert definition()["States"][conditional[0]["Next"]]["Type"] == "Succeed"


def test_the_events_object_and_its_version_reach_the_probe_and_each_task_gets_its_job() -> None:
    # The whole object, not $.detail.object['version-id']: a missing version must reach the
    # probe (which refuses it, so the video FAILS) rather than fail ReadEvent before Claim.
    states = definition()["States"]
    assert states["ReadEvent"]["Parameters"]["source_object.$"] == "$.detail.object"
    assert states["Probe"]["Parameters"]["Payload"]["source_object.$"] == "$.source_object"
    # Each task runs the planned job as it is, source_version included.
    transcode = all_states(states)["Transcode"]
    assert transcode["ItemSelector"]["job.$"] == "$$.Map.Item.Value"
    task = transcode["ItemProcessor"]["States"]["RunTranscoder"]
    (override,) = task["Parameters"]["Overrides"]["ContainerOverrides"]
    assert {"Name": "STREAMFORGE_JOB", "Value.$": "States.JsonToString($.job)"} in override[
        "Environment"
    ]


def test_the_claim_writes_the_video_records_own_attribute_names_and_statuses() -> None:
    """The Claim state writes the table directly: its names are VideoRecord's attributes and
    its values VideoStatus's, so a rename in the model fails here rather than in a run."""
    claim = definition()["States"]["Claim"]["Parameters"]
    attributes = VideoRecord.get_attributes()
    names = set(claim["ExpressionAttributeNames"].values()) | set(
        re.findall(r"\b([a-z_]+) =", claim["UpdateExpression"])
    )
    names |= set(re.findall(r"ADD ([a-z_]+) ", claim["UpdateExpression"]))
    assert names == {"status", "active_owner_id", "execution_arn", "updated_at", "version"}
    assert names <= {a.attr_name for a in attributes.values()}
    key = claim["Key"]
    assert set(key) == {attributes["pk"].attr_name, attributes["sk"].attr_name}
    assert key["sk"] == {"S": VIDEO_SORT_KEY}
    assert isinstance(attributes["version"], VersionAttribute)
    values = claim["ExpressionAttributeValues"]
    statuses = {values[k]["S"] for k in (":pending_upload", ":uploaded", ":processing")}
    assert statuses == {
        VideoStatus.PENDING_UPLOAD.value, VideoStatus.UPLOADED.value, VideoStatus.PROCESSING.value
    }  # fmt: skip
    assert values[":processing"]["S"] == VideoStatus.PROCESSING.value


def test_the_run_is_named_once_and_handed_on_never_read_back() -> None:
    """ReadEvent reads the execution and the claim's time; the Claim writes those, the probe
    gets both and every finaliser stage the execution, from the state machine itself."""
    states = all_states(definition()["States"])
    read = states["ReadEvent"]["Parameters"]
    assert read["execution_arn.$"] == "$$.Execution.Id"
    assert read["claimed_at.$"] == "$$.State.EnteredTime"
    claim = states["Claim"]["Parameters"]["ExpressionAttributeValues"]
    assert claim[":execution"] == {"S.$": "$.execution_arn"}
    assert claim[":now"] == {"S.$": "$.claimed_at"}
    probe = states["Probe"]["Parameters"]["Payload"]
    assert (probe["execution_arn.$"], probe["claimed_at.$"]) == ("$.execution_arn", "$.claimed_at")
    for name in (
        "PublishProvisional",
        "Finalise",
        "MakeDownload",
        "RecordDownloadFailure",
        "RecordFailure",
    ):
        assert states[name]["Parameters"]["Payload"]["execution_arn.$"] == "$$.Execution.Id", name


def test_the_download_is_made_after_completion_and_its_failure_never_fails_the_video() -> None:
    states = definition()["States"]
    assert states["Finalise"]["Next"] == "DownloadToMake"
    (planned,) = states["DownloadToMake"]["Choices"]
    assert planned["Variable"] == "$.finalised.video.download_to_make"
    assert (planned["Next"], states["DownloadToMake"]["Default"]) == ("MakeDownload", "Done")
    make = states["MakeDownload"]
    assert make["Parameters"]["Payload"]["stage"] == "download"
    assert make["Next"] == "Done"
    (catch,) = make["Catch"]
    assert (catch["ErrorEquals"], catch["Next"]) == (["States.ALL"], "RecordDownloadFailure")
    record = states["RecordDownloadFailure"]
    assert record["Parameters"]["Payload"]["download_error.$"] == catch["ResultPath"]
    # Not RecordFailure, nor the dead-letter queue: the video is COMPLETED and plays.
    assert {record["Next"], *(c["Next"] for c in record["Catch"])} == {"Done"}
