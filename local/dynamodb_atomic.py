"""moto's DynamoDB, answering one request at a time, so that a conditional write is atomic.

DynamoDB applies each write to an item atomically: of two conditional updates that expect
the same state, one succeeds and the other fails its condition. moto 5.2 checks a condition
and then changes the item in place, with no lock, and its server runs each request in a
thread of its own. So offline, two such updates could both succeed where DynamoDB refuses
one. A response could also be serialized from an item that another request was changing at
that moment. moto then answered 500 after its write had landed, and the SDK's retry found
that write and failed its own condition: a completed upload reported 409 "already complete"
to the client that had just completed it.

Here every DynamoDB request moto answers holds one lock from its parsed parameters to its
serialized response, whoever sends it: the API and pipeline functions, and the state
machine's own Claim. That is stricter than DynamoDB, which does not order requests to
different items, but never looser, so nothing passes offline that DynamoDB would refuse.
The cost is small: moto's DynamoDB is pure Python, so its requests already take turns under
the interpreter lock. tests/unit/test_dynamodb_atomic.py races conditional updates of one
item against each other and checks that exactly one of each round succeeds.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.dynamodb.responses import DynamoHandler

from local.moto_patch import MotoPatch

_original_call_action = DynamoHandler.call_action
_one_at_a_time = threading.RLock()


def _call_action(self: DynamoHandler) -> Any:
    with _one_at_a_time:
        return _original_call_action(self)


PATCH = MotoPatch([(DynamoHandler, "call_action", _call_action)])
