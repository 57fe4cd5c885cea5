"""moto's DynamoDB responses with the wire-form shortcut (local/dynamodb_wire.py) are the
same bytes' worth of JSON as moto's own serializer writes, for every operation the project's
code and Powertools' idempotency store make, and for every attribute type."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.core.serialize import BaseJSONSerializer

from local import dynamodb_wire

Operation = Callable[[Any, str], object]

ITEMS: list[dict[str, Any]] = [
    {
        "pk": {"S": "v1"},
        "sk": {"S": "VIDEO"},
        "owner_id": {"S": "alice"},
        "created_at": {"S": "2026-12-02T00:00:01Z"},
        "title": {"S": ""},
        "size_bytes": {"N": "123456789012"},
        "ratio": {"N": "-1.5e-3"},
        "public": {"BOOL": False},
        "gone": {"NULL": True},
        "tags": {"L": [{"S": "a"}, {"N": "1"}, {"L": []}, {"M": {}}]},
        "renditions": {"L": [{"M": {"name": {"S": "720p"}, "codecs": {"SS": ["avc1", "mp4a"]}}}]},
        "thumbnails": {"M": {"poster": {"S": "p.jpg"}, "sizes": {"NS": ["1", "2.5"]}}},
    },
    {
        "pk": {"S": "v2"},
        "sk": {"S": "VIDEO"},
        "owner_id": {"S": "alice"},
        "created_at": {"S": "2026-12-02T00:00:02Z"},
        "key": {"B": b"\x00\x01binary"},
        "keys": {"BS": [b"a", b"b"]},
        "nested": {"M": {"blob": {"B": b"\xff"}}},
    },
    {
        "pk": {"S": "v3"},
        "sk": {"S": "VIDEO"},
        "owner_id": {"S": "alice"},
        "created_at": {"S": "2026-12-02T00:00:03Z"},
        "version": {"N": "1"},
    },
]

OPERATIONS: dict[str, Operation] = {
    "get_item": lambda c, t: c.get_item(TableName=t, Key={"pk": {"S": "v1"}, "sk": {"S": "VIDEO"}}),
    "get_item binary": lambda c, t: c.get_item(
        TableName=t, Key={"pk": {"S": "v2"}, "sk": {"S": "VIDEO"}}
    ),
    "query index, a page": lambda c, t: c.query(
        TableName=t,
        IndexName="by_owner",
        KeyConditionExpression="owner_id = :o",
        ExpressionAttributeValues={":o": {"S": "alice"}},
        ScanIndexForward=False,
        Limit=2,
    ),
    "query count": lambda c, t: c.query(
        TableName=t,
        IndexName="by_owner",
        KeyConditionExpression="owner_id = :o",
        ExpressionAttributeValues={":o": {"S": "alice"}},
        Select="COUNT",
    ),
    "scan": lambda c, t: c.scan(TableName=t),
    "batch_get_item": lambda c, t: c.batch_get_item(
        RequestItems={
            t: {"Keys": [{"pk": {"S": v}, "sk": {"S": "VIDEO"}} for v in ("v1", "v2", "v3")]}
        }
    ),
    "transact_get_items": lambda c, t: c.transact_get_items(
        TransactItems=[{"Get": {"TableName": t, "Key": {"pk": {"S": "v1"}, "sk": {"S": "VIDEO"}}}}]
    ),
    "update_item all new": lambda c, t: c.update_item(
        TableName=t,
        Key={"pk": {"S": "v3"}, "sk": {"S": "VIDEO"}},
        UpdateExpression="SET version = version + :one, extra = :m",
        ExpressionAttributeValues={":one": {"N": "1"}, ":m": {"M": {"x": {"L": [{"NULL": True}]}}}},
        ReturnValues="ALL_NEW",
    ),
    "put_item all old": lambda c, t: c.put_item(
        TableName=t, Item={**ITEMS[2], "title": {"S": "again"}}, ReturnValues="ALL_OLD"
    ),
    "delete_item all old": lambda c, t: c.delete_item(
        TableName=t, Key={"pk": {"S": "v1"}, "sk": {"S": "VIDEO"}}, ReturnValues="ALL_OLD"
    ),
    "a failed condition returns the item": lambda c, t: c.put_item(
        TableName=t,
        Item=ITEMS[1],
        ConditionExpression="attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    ),
}


def _create_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": key, "AttributeType": "S"}
            for key in ("pk", "sk", "owner_id", "created_at")
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_owner",
                "KeySchema": [
                    {"AttributeName": "owner_id", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for item in ITEMS:
        client.put_item(TableName=name, Item=item)


@pytest.fixture
def client(dynamodb_in_memory: Any) -> Iterator[Any]:
    """Without the shortcut; as it was, afterwards."""
    with dynamodb_wire.PATCH.state(installed=False):
        yield dynamodb_in_memory


def _bodies(client: Any, table: str) -> dict[str, Any]:
    """Each operation's raw response body, in order (writes change what later reads see)."""
    bodies: dict[str, Any] = {}
    current: list[str] = []

    def keep(http_response: Any, **_: Any) -> None:
        bodies[current[0]] = json.loads(http_response.content.replace(table.encode(), b"T"))

    client.meta.events.register("after-call.dynamodb", keep)
    try:
        for name, operation in OPERATIONS.items():
            current[:] = [name]
            with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
                operation(client, table)
    finally:
        client.meta.events.unregister("after-call.dynamodb", keep)
    return bodies


def test_every_operation_writes_what_motos_own_serializer_writes(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    own_table, shortcut_table = (f"{name}-{uuid.uuid4().hex}" for name in ("own", "shortcut"))
    _create_table(client, own_table)
    _create_table(client, shortcut_table)
    walked: list[str] = []
    original = dynamodb_wire._original_structure

    def counting(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        walked.append(shape.name)
        original(self, serialized, value, shape, key)

    # moto's own walk, counted; then the shortcut, whose fallback is the same walk.
    monkeypatch.setattr(BaseJSONSerializer, "_serialize_type_structure", counting)
    own = _bodies(client, own_table)
    monkeypatch.setattr(BaseJSONSerializer, "_serialize_type_structure", original)
    walked_by_moto = walked.count(dynamodb_wire.ATTRIBUTE_VALUE)
    walked.clear()
    monkeypatch.setattr(dynamodb_wire, "_original_structure", counting)
    dynamodb_wire.PATCH.install()
    shortcut = _bodies(client, shortcut_table)

    assert shortcut == own
    assert own["a failed condition returns the item"]["Item"]["key"] == {"B": "AAFiaW5hcnk="}
    assert own["query index, a page"]["LastEvaluatedKey"]
    # Only the binary item's values still take moto's walk.
    assert 0 < walked.count(dynamodb_wire.ATTRIBUTE_VALUE) < walked_by_moto / 4


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"S": ""}, True),
        ({"N": "1"}, True),
        ({"M": {"a": {"L": [{"BOOL": True}, {"NULL": True}]}}}, True),
        ({"SS": ["a"], "NS": ["1"]}, True),
        ({"B": b"x"}, False),
        ({"M": {"a": {"BS": [b"x"]}}}, False),
        ({"S": 1}, False),
        ({"N": 1}, False),
        ({"BOOL": 1}, False),
        ({"X": "?"}, False),
        ({}, False),
        ("S", False),
    ],
)
def test_what_counts_as_wire_form(value: Any, expected: bool) -> None:
    assert dynamodb_wire.in_wire_form(value) is expected
