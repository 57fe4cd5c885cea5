"""Reading IAM out of a synthesized template."""

from __future__ import annotations

from typing import Any

from tests.infrastructure.conftest import Synthesized

Statement = dict[str, Any]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def role_statements(synthesized: Synthesized, role_logical_id: str) -> list[Statement]:
    """Every Allow/Deny statement attached to a role: inline and AWS::IAM::Policy."""
    role = synthesized.resources[role_logical_id]
    statements: list[Statement] = [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]
    for policy in synthesized.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_logical_id} in policy["Properties"].get("Roles", []):
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def actions(statements: list[Statement]) -> set[str]:
    return {action for statement in statements for action in as_list(statement["Action"])}


def function_of_service(synthesized: Synthesized, service: str) -> dict[str, Any]:
    """The function whose POWERTOOLS_SERVICE_NAME is `service`."""
    for function in synthesized.of_type("AWS::Lambda::Function").values():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if variables.get("POWERTOOLS_SERVICE_NAME") == service:
            return function
    raise AssertionError(f"no function for service {service}")


def role_of_service(synthesized: Synthesized, service: str) -> str:
    role_logical_id: str = function_of_service(synthesized, service)["Properties"]["Role"][
        "Fn::GetAtt"
    ][0]
    return role_logical_id


def arn_ref(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def objects_of(logical_id: str, pattern: str) -> dict[str, Any]:
    """How CDK renders `bucket.arn_for_objects(pattern)`."""
    return {"Fn::Join": ["", [arn_ref(logical_id), f"/{pattern}"]]}
