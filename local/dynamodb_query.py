"""moto's DynamoDB Query, without sorting the whole table first.

moto 5.2's `Table.query` starts from `all_items()`: every item of the table, sorted by its
primary key with `DynamoType` comparisons. It then keeps the items of the queried partition
(or, on an index, those with the index's key) and sorts them again, by a key that is total:
the range key within one partition of the table, and on an index the index's keys followed
by the table's. The first sort therefore decides nothing, yet on a table of a few thousand
videos it is most of what a Query costs, and the API's get, list and create each make one.

Here, while a Query runs, `all_items()` skips that sort, and on the table itself returns
only the queried partition (a dict lookup by the same `DynamoType` equality moto's filter
uses). Scans and every other caller keep moto's sorted list.
tests/unit/test_dynamodb_query.py compares results, order and pages with moto's own path,
so a moto upgrade that changes what Query reads from `all_items()` fails there.
"""

from __future__ import annotations

import inspect
import threading
from typing import Any

from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from local.moto_patch import MotoPatch

_original_query = Table.query
_original_all_items = Table.all_items
_QUERY_SIGNATURE = inspect.signature(_original_query)
_querying = threading.local()  # per thread: moto's server runs a request per thread


def _query(self: Table, *args: Any, **kwargs: Any) -> Any:
    arguments = _QUERY_SIGNATURE.bind(self, *args, **kwargs).arguments
    _querying.scope = (self, None if arguments.get("index_name") else arguments["hash_key"])
    try:
        return _original_query(self, *args, **kwargs)
    finally:
        _querying.scope = None


def _all_items(self: Table) -> list[Item]:
    scope = getattr(_querying, "scope", None)
    if scope is None or scope[0] is not self:
        return _original_all_items(self)
    _, partition = scope
    if partition is None:  # an index: every item, in no particular order
        return list(_items(self, self.items.values()))
    return list(_items(self, [self.items[partition]] if partition in self.items else []))


def _items(table: Table, partitions: Any) -> Any:
    for partition in partitions:
        if table.range_key_attr:
            yield from partition.values()
        else:
            yield partition


PATCH = MotoPatch([(Table, "query", _query), (Table, "all_items", _all_items)])
