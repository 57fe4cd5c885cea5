"""moto's Query with the partition shortcut (local/dynamodb_query.py) returns what moto's own
Query returns: the same items in the same order, the same pages and counts, on the table and
on an index, for tables with and without a range key; and it no longer sorts the table."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto.dynamodb.models.table import Table

from local import dynamodb_query

Query = Callable[[Any, str], list[dict[str, Any]]]
OWNERS = ("alice", "bob", "carol")


def _pages(client: Any, **request: Any) -> list[dict[str, Any]]:
    """Every page, each without its consumed capacity (moto's is constant)."""
    pages, start = [], None
    while True:
        page = client.query(**request, **({"ExclusiveStartKey": start} if start else {}))
        page.pop("ResponseMetadata")
        pages.append(page)
        start = page.get("LastEvaluatedKey")
        if not start:
            return pages


def _owner(owner: str, values: dict[str, Any] | None = None, **extra: Any) -> Query:
    request = {
        "IndexName": "by_owner",
        "KeyConditionExpression": "owner_id = :o",
        **extra,
        "ExpressionAttributeValues": {":o": {"S": owner}, **(values or {})},
    }
    return lambda c, t: _pages(c, TableName=t, **request)


QUERIES: dict[str, Query] = {
    "a partition": lambda c, t: _pages(
        c,
        TableName=t,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "v7"}},
    ),
    "a partition, newest first, in pages": lambda c, t: _pages(
        c,
        TableName=t,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "v3"}},
        ScanIndexForward=False,
        Limit=2,
    ),
    "a partition, a range of sort keys": lambda c, t: _pages(
        c,
        TableName=t,
        KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
        ExpressionAttributeValues={":p": {"S": "v5"}, ":s": {"S": "LOG#"}},
        ConsistentRead=True,
    ),
    "a partition that is not there": lambda c, t: _pages(
        c,
        TableName=t,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "x"}},
    ),
    "an index, newest first, in pages": _owner("alice", ScanIndexForward=False, Limit=3),
    "an index, a range": _owner(
        "bob", KeyConditionExpression="owner_id = :o AND created_at > :c", values={":c": {"S": "0"}}
    ),
    "an index, counted with a filter": _owner(
        "carol",
        Select="COUNT",
        FilterExpression="#s IN (:u, :p)",
        ExpressionAttributeNames={"#s": "status"},
        values={":u": {"S": "UPLOADED"}, ":p": {"S": "PROCESSING"}},
    ),
    "an index, projected": _owner("alice", ProjectionExpression="pk, title"),
}


RANGE_KEY_QUERIES = {"a partition, a range of sort keys"}


def _create_table(client: Any, name: str, *, range_key: bool) -> None:
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": key, "AttributeType": "S"}
            for key in ("pk", *(("sk",) if range_key else ()), "owner_id", "created_at")
        ],
        KeySchema=keys,
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
    rng = random.Random(16)  # the same items in every table, written in a shuffled order
    items = []
    for video in range(12):
        for sort_key in ("VIDEO", "LOG#2", "LOG#1", "LOG#3") if range_key else ("VIDEO",):
            item = {"pk": {"S": f"v{video}"}, "title": {"S": f"t{video}{sort_key}"}}
            if range_key:
                item["sk"] = {"S": sort_key}
            if sort_key == "VIDEO":  # only videos are in the index
                item["owner_id"] = {"S": OWNERS[video % 3]}
                # equal index keys for some: the table's key decides their order
                item["created_at"] = {"S": str(video // 6)}
                item["status"] = {"S": rng.choice(["UPLOADED", "PROCESSING", "COMPLETED"])}
            items.append(item)
    rng.shuffle(items)
    for item in items:
        client.put_item(TableName=name, Item=item)


@pytest.fixture
def client(dynamodb_in_memory: Any) -> Iterator[Any]:
    """Without the shortcut; as it was, afterwards."""
    with dynamodb_query.PATCH.state(installed=False):
        yield dynamodb_in_memory


def _answers(client: Any, table: str, *, range_key: bool) -> dict[str, Any]:
    answers = {
        name: query(client, table)
        for name, query in QUERIES.items()
        if range_key or name not in RANGE_KEY_QUERIES
    }
    answers["scan"] = client.scan(TableName=table)["Items"]
    return answers


@pytest.mark.parametrize("range_key", [True, False], ids=["pk+sk", "pk only"])
def test_queries_answer_as_motos_own_query_does(
    client: Any, monkeypatch: pytest.MonkeyPatch, range_key: bool
) -> None:
    table = f"query-{uuid.uuid4().hex}"
    _create_table(client, table, range_key=range_key)
    own = _answers(client, table, range_key=range_key)

    sorts: list[str] = []
    original = dynamodb_query._original_all_items

    def counting(self: Table) -> Any:
        sorts.append(self.name)
        return original(self)

    monkeypatch.setattr(dynamodb_query, "_original_all_items", counting)
    dynamodb_query.PATCH.install()
    shortcut = _answers(client, table, range_key=range_key)

    assert shortcut == own
    assert sorts == [table]  # the scan's: no query sorted the table
    pages = own["an index, newest first, in pages"]
    assert [len(page["Items"]) for page in pages] == [3, 1]  # alice has 4 videos
    assert own["a partition that is not there"] == [{"Count": 0, "ScannedCount": 0, "Items": []}]
    if range_key:
        assert [len(page["Items"]) for page in own["a partition, newest first, in pages"]] == [2, 2]
        assert [i["sk"]["S"] for i in own["a partition, a range of sort keys"][0]["Items"]] == [
            "LOG#1",
            "LOG#2",
            "LOG#3",
        ]


def test_uninstall_restores_motos_query() -> None:
    with dynamodb_query.PATCH.state(installed=False):
        assert Table.query is dynamodb_query._original_query
        assert Table.all_items is dynamodb_query._original_all_items
