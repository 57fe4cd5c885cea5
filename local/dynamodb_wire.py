"""moto's DynamoDB responses, serialized without walking what is already in wire form.

moto 5.2 serializes every response through botocore's shape model, member by member. A
DynamoDB item reaches that serializer already as DynamoDB's JSON (`{"S": "..."}`,
`{"M": {...}}`), so the walk changes nothing, yet it is most of what a Query costs offline
(a page of 17 videos: about three thousand member visits). Here an attribute value, or a
map of them, that is in wire form is written as it is. Anything else takes moto's own path:
binary values (which it base64-encodes), a member that is not an AttributeValue's, a value of
the wrong type. tests/unit/test_dynamodb_wire.py compares the two on every operation the
project uses, so a moto upgrade that changes the serializer fails there.
"""

from __future__ import annotations

from typing import Any

from moto.core.serialize import BaseJSONSerializer

from local.moto_patch import MotoPatch

ATTRIBUTE_VALUE = "AttributeValue"
SERVICES = frozenset({"dynamodb", "dynamodbstreams"})  # other services name shapes so too
_SCALARS = {"S": str, "N": str, "BOOL": bool, "NULL": bool}
_SETS = ("SS", "NS")

_original_structure = BaseJSONSerializer._serialize_type_structure
_original_map = BaseJSONSerializer._serialize_type_map


def in_wire_form(value: Any) -> bool:
    """Whether `value` is an AttributeValue as DynamoDB's JSON writes it, binary-free."""
    return isinstance(value, dict) and bool(value) and all(map(_member_in_wire_form, value.items()))


def _member_in_wire_form(member: tuple[str, Any]) -> bool:
    kind, inner = member
    scalar = _SCALARS.get(kind)
    if scalar is not None:
        return type(inner) is scalar
    if kind in _SETS:
        return isinstance(inner, list) and all(type(item) is str for item in inner)
    if kind == "M":
        return isinstance(inner, dict) and all(map(in_wire_form, inner.values()))
    if kind == "L":
        return isinstance(inner, list) and all(map(in_wire_form, inner))
    return False  # B, BS (moto base64-encodes them) or not an AttributeValue member


def _dynamodb(serializer: BaseJSONSerializer) -> bool:
    return serializer.operation_model.service_model.service_name in SERVICES


def _structure(self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str) -> None:
    if key and shape.name == ATTRIBUTE_VALUE and _dynamodb(self) and in_wire_form(value):
        self._default_serialize(serialized, value, shape, key)
        return
    _original_structure(self, serialized, value, shape, key)


def _map(self: BaseJSONSerializer, serialized: Any, value: Any, shape: Any, key: str) -> None:
    if (
        getattr(shape.value, "name", None) == ATTRIBUTE_VALUE
        and _dynamodb(self)
        and isinstance(value, dict)
        and all(type(name) is str for name in value)
        and all(map(in_wire_form, value.values()))
    ):
        self._default_serialize(serialized, value, shape, key)
        return
    _original_map(self, serialized, value, shape, key)


PATCH = MotoPatch(
    [
        (BaseJSONSerializer, "_serialize_type_structure", _structure),
        (BaseJSONSerializer, "_serialize_type_map", _map),
    ]
)
