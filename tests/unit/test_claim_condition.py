"""The state machine's Claim, its UpdateItem as the ASL writes it, run against moto's
DynamoDB: one execution claims a waiting video (which counts as active from then on), a
retry of that same claim (its first attempt landed, its answer was lost) passes, and any
other execution is refused."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.unit.test_workflow_definition import definition

FIRST = "arn:aws:states:us-east-1:123456789012:execution:pipeline:first"
SECOND = "arn:aws:states:us-east-1:123456789012:execution:pipeline:second"


def _resolved(value: Any, state: dict[str, str]) -> Any:
    """The ASL's parameters with each `"X.$": "$.name"` replaced by `"X": state[name]`."""
    if isinstance(value, dict):
        resolved = {}
        for key, inner in value.items():
            if key.endswith(".$"):
                resolved[key[:-2]] = state[inner.removeprefix("$.")]
            else:
                resolved[key] = _resolved(inner, state)
        return resolved
    return value


@pytest.fixture
def table(dynamodb_in_memory: Any) -> str:
    name = f"claim-{uuid.uuid4().hex}"
    dynamodb_in_memory.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _claim(client: Any, table: str, video_id: str, execution_arn: str) -> str:
    parameters = _resolved(
        definition()["States"]["Claim"]["Parameters"],
        {"video_id": video_id, "execution_arn": execution_arn, "claimed_at": "2026-12-02T10:00Z"},
    )
    try:
        client.update_item(**{**parameters, "TableName": table})
        return "claimed"
    except ClientError as error:
        return str(error.response["Error"]["Code"])


def _video(client: Any, table: str, status: str) -> str:
    video_id = uuid.uuid4().hex
    item = {
        "pk": {"S": video_id},
        "sk": {"S": "VIDEO"},
        "owner_id": {"S": "ada"},
        "status": {"S": status},
        "version": {"N": "1"},
    }
    client.put_item(TableName=table, Item=item)
    return video_id


def test_a_claim_retried_by_its_own_execution_passes_and_another_is_refused(
    dynamodb_in_memory: Any, table: str
) -> None:
    client = dynamodb_in_memory
    video_id = _video(client, table, "UPLOADED")
    assert _claim(client, table, video_id, FIRST) == "claimed"
    assert _claim(client, table, video_id, FIRST) == "claimed"  # the retry of a lost answer
    assert _claim(client, table, video_id, SECOND) == "ConditionalCheckFailedException"
    item = client.get_item(TableName=table, Key={"pk": {"S": video_id}, "sk": {"S": "VIDEO"}})
    assert item["Item"]["status"] == {"S": "PROCESSING"}
    assert item["Item"]["execution_arn"] == {"S": FIRST}
    assert item["Item"]["active_owner_id"] == {"S": "ada"}  # counted as active from now on


@pytest.mark.parametrize("status", ["COMPLETED", "FAILED", "DELETED"])
def test_a_settled_video_is_claimed_by_no_execution_not_even_the_one_that_ran_it(
    dynamodb_in_memory: Any, table: str, status: str
) -> None:
    client = dynamodb_in_memory
    video_id = _video(client, table, "PENDING_UPLOAD")
    assert _claim(client, table, video_id, FIRST) == "claimed"
    client.update_item(
        TableName=table,
        Key={"pk": {"S": video_id}, "sk": {"S": "VIDEO"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}},
    )
    assert _claim(client, table, video_id, FIRST) == "ConditionalCheckFailedException"
