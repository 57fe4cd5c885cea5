"""Opaque cursors: a query's LastEvaluatedKey as URL-safe base64 JSON, checked on the way
back in so that a cursor can only continue the list it came from."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Any

from lambdas.core.errors import FieldError
from lambdas.core.models import VIDEO_SORT_KEY

TABLE_KEYS = ("pk", "sk")
MAX_KEY_VALUE_LENGTH = 1024


def encode_cursor(last_evaluated_key: Mapping[str, Any]) -> str:
    text = json.dumps(last_evaluated_key, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(
    cursor: str | None, *, index_keys: Sequence[str], fixed: Mapping[str, str]
) -> dict[str, dict[str, str]] | None:
    """The start key for the next page, or None for the first page. `fixed` holds key values
    the cursor must repeat (the owner of the list, the catalog's partition)."""
    if not cursor:
        return None
    invalid = FieldError("cursor", "is not a cursor this list returned")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as error:
        raise invalid from error
    expected = {*TABLE_KEYS, *index_keys}
    if not isinstance(key, dict) or set(key) != expected:
        raise invalid
    values: dict[str, str] = {}
    for name, typed in key.items():
        if not (isinstance(typed, dict) and set(typed) == {"S"} and isinstance(typed["S"], str)):
            raise invalid
        if not 0 < len(typed["S"]) <= MAX_KEY_VALUE_LENGTH:
            raise invalid
        values[name] = typed["S"]
    if values["sk"] != VIDEO_SORT_KEY or any(values[k] != v for k, v in fixed.items()):
        raise invalid
    return {name: {"S": value} for name, value in values.items()}
