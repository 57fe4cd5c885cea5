"""With local/dynamodb_atomic.py, moto's DynamoDB applies conditional writes atomically, as
DynamoDB does: of several updates racing on one item, each expecting the same state,
exactly one succeeds and the others fail their condition; none gets a 500."""

from __future__ import annotations

import sys
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local import dynamodb_atomic

RACERS = 4
ROUNDS = 60


@pytest.fixture
def client(dynamodb_in_memory: Any) -> Iterator[Any]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        with dynamodb_atomic.PATCH.state(installed=True):
            yield dynamodb_in_memory
    finally:
        sys.setswitchinterval(interval)


def _table(client: Any) -> str:
    name = f"atomic-{uuid.uuid4().hex}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName=name, Item={"pk": {"S": "video"}, "step": {"N": "0"}})
    return name


def _advance(client: Any, table: str, expected_step: int, racer: int) -> str:
    try:
        client.update_item(
            TableName=table,
            Key={"pk": {"S": "video"}},
            UpdateExpression="SET step = step + :one, winner = :racer, #r = :round",
            ConditionExpression="step = :expected",
            ExpressionAttributeNames={"#r": f"round_{expected_step}"},
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":expected": {"N": str(expected_step)},
                ":racer": {"N": str(racer)},
                ":round": {"S": "won"},
            },
        )
        return "succeeded"
    except ClientError as error:
        return str(error.response["Error"]["Code"])


def test_of_updates_racing_on_one_item_exactly_one_succeeds_each_round(client: Any) -> None:
    # Given an item at step 0, and racers that each try to move it on from the step they saw
    table = _table(client)
    outcomes: list[Counter[str]] = []
    with ThreadPoolExecutor(RACERS) as pool:
        for step in range(ROUNDS):
            start = threading.Barrier(RACERS)

            def race(racer: int, step: int = step, start: threading.Barrier = start) -> str:
                start.wait()
                return _advance(client, table, step, racer)

            # When they all try at once
            outcomes.append(Counter(pool.map(race, range(RACERS))))

    # Then each round has one winner, every other racer fails its condition, no 500s
    expected = Counter({"succeeded": 1, "ConditionalCheckFailedException": RACERS - 1})
    assert [dict(o) for o in outcomes if o != expected] == []
    item = client.get_item(TableName=table, Key={"pk": {"S": "video"}})["Item"]
    assert item["step"] == {"N": str(ROUNDS)}
    assert sum(name.startswith("round_") for name in item) == ROUNDS


def test_uninstall_restores_motos_own_handler() -> None:
    with dynamodb_atomic.PATCH.state(installed=False):
        assert not dynamodb_atomic.PATCH.installed()
        with dynamodb_atomic.PATCH.state(installed=True):
            assert dynamodb_atomic.PATCH.installed()
        assert not dynamodb_atomic.PATCH.installed()
