"""The synthesized template's IAM policies with their references resolved to the offline
stack's names, evaluated by moto's own IAM policy engine.

The offline stack mirrors the template through the same contracts CDK fills: each function's
environment, the transcoder container's environment, and the ASL's ${Placeholders}. Pairing
the template's side of each contract (a Ref or Fn::GetAtt) with the offline side (a value)
names every resource the policies reach.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult

from cdk import constants
from local.config import ACCOUNT, REGION, Names
from local.iam_audit import STATE_MACHINE, TRANSCODER_TASK, Call, arn
from tests.infrastructure.conftest import Synthesized
from tests.infrastructure.policies import as_list, role_of_service, role_statements

Statement = dict[str, Any]

FUNCTION_SERVICES = {  # offline function (an attribute of Names) -> its Powertools service
    "api_function": constants.API_SERVICE,
    "probe_function": constants.PROBE_SERVICE,
    "finalise_function": constants.FINALISE_SERVICE,
    "record_failure_function": constants.RECORD_FAILURE_SERVICE,
}
PSEUDO_PARAMETERS = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
}
_PLACEHOLDER = re.compile(r"\$\{([\w:.]+)\}")


# --- the offline side of each contract -----------------------------------------------------


@dataclass(frozen=True)
class OfflineContracts:
    """Values the offline stack gave each contract, read back from moto."""

    function_environments: Mapping[str, Mapping[str, str]]  # by Powertools service
    task_environment: Mapping[str, str]
    task_family: str
    definition_substitutions: Mapping[str, str]


def filled_placeholders(template: Any, filled: Any) -> dict[str, str]:
    """What each ${Placeholder} of the ASL became in the offline state machine's definition."""
    if isinstance(template, str):
        names = _PLACEHOLDER.findall(template)
        if not names:
            return {}
        pattern, seen = re.escape(template), set()
        for name in names:
            placeholder = re.escape("${" + name + "}")
            group = f"(?P={name})" if name in seen else f"(?P<{name}>.*?)"
            pattern = pattern.replace(placeholder, group, 1)
            seen.add(name)
        match = re.fullmatch(pattern, filled)
        assert match, f"offline definition does not fit {template!r}: {filled!r}"
        return match.groupdict()
    pairs: Iterable[tuple[Any, Any]] = ()
    if isinstance(template, dict):
        pairs = ((value, filled[key]) for key, value in template.items())
    elif isinstance(template, list):
        pairs = zip(template, filled, strict=True)
    found: dict[str, str] = {}
    for template_value, filled_value in pairs:
        found.update(filled_placeholders(template_value, filled_value))
    return found


# --- template references -> offline names ------------------------------------------------

# A resource's ARN from its Ref, for the types whose Ref is not the ARN.
_ARN_OF_REF: dict[str, Callable[[str], str]] = {
    "AWS::S3::Bucket": lambda name: f"arn:aws:s3:::{name}",
    "AWS::DynamoDB::Table": lambda name: arn("dynamodb", f"table/{name}"),
    "AWS::SQS::Queue": lambda url: arn("sqs", url.rsplit("/", 1)[-1]),
    "AWS::Lambda::Function": lambda name: arn("lambda", f"function:{name}"),
    "AWS::ECS::Cluster": lambda name: arn("ecs", f"cluster/{name}"),
    # No role exists offline: a role is named after its logical id.
    "AWS::IAM::Role": lambda name: f"arn:aws:iam::{ACCOUNT}:role/{name}",
}
_REF_OF_ARN: dict[str, Callable[[str], str]] = {
    "AWS::Lambda::Function": lambda value: value.split(":function:", 1)[1],
    "AWS::ECS::Cluster": lambda value: value.split(":cluster/", 1)[1],
}


class OfflineNames:
    """Resolves the template's intrinsic functions to the offline stack's values."""

    def __init__(self, synthesized: Synthesized, offline: OfflineContracts):
        self._resources = synthesized.resources
        self._attributes: dict[str, dict[str, str]] = {}
        self._literals: dict[str, str] = {}  # names CDK wrote out, e.g. the task family
        for service, variables in offline.function_environments.items():
            self._pair(_environment(_function(synthesized, service)), variables)
        _, task = synthesized.one("AWS::ECS::TaskDefinition")
        container = task["Properties"]["ContainerDefinitions"][0]
        self._pair(
            {e["Name"]: e["Value"] for e in container.get("Environment", [])},
            offline.task_environment,
        )
        self._literals[task["Properties"]["Family"]] = offline.task_family
        _, machine = synthesized.one("AWS::StepFunctions::StateMachine")
        self._pair(
            machine["Properties"]["DefinitionSubstitutions"], offline.definition_substitutions
        )
        for logical_id, resource in self._resources.items():
            if resource["Type"] == "AWS::IAM::Role":
                self._know(logical_id, "Ref", logical_id)

    def _pair(self, template: Mapping[str, Any], offline: Mapping[str, str]) -> None:
        for key, reference in template.items():
            if key not in offline or not isinstance(reference, dict):
                continue
            if "Ref" in reference:
                self._know(reference["Ref"], "Ref", offline[key])
            elif "Fn::GetAtt" in reference:
                logical_id, attribute = reference["Fn::GetAtt"]
                self._know(logical_id, attribute, offline[key])

    def _know(self, logical_id: str, attribute: str, value: str) -> None:
        known = self._attributes.setdefault(logical_id, {})
        known[attribute] = value
        resource_type = self._resources[logical_id]["Type"]
        if attribute == "Arn" and resource_type in _REF_OF_ARN:
            known.setdefault("Ref", _REF_OF_ARN[resource_type](value))
        if "Ref" in known:
            ref = known["Ref"]
            arn_of = _ARN_OF_REF.get(resource_type)
            known.setdefault("Arn", arn_of(ref) if arn_of else ref)

    def resolve(self, value: Any) -> Any:
        if isinstance(value, str):
            for literal, offline in self._literals.items():
                value = value.replace(literal, offline)
            return value
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and (function := next(iter(value))) in self._intrinsics:
            return self._intrinsics[function](value[function])
        return {key: self.resolve(item) for key, item in value.items()}

    @property
    def _intrinsics(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": lambda name: self._attribute(name, "Ref"),
            "Fn::GetAtt": lambda argument: self._attribute(*argument),
            "Fn::Join": lambda argument: argument[0].join(
                self.resolve(part) for part in argument[1]
            ),
            "Fn::Sub": lambda argument: self._sub(
                *(argument if isinstance(argument, list) else [argument])
            ),
            "Fn::Select": lambda argument: self.resolve(argument[1])[int(argument[0])],
            "Fn::Split": lambda argument: self.resolve(argument[1]).split(argument[0]),
        }

    def _attribute(self, logical_id: str, attribute: str) -> str:
        if logical_id in PSEUDO_PARAMETERS:
            return PSEUDO_PARAMETERS[logical_id]
        # Not part of the offline stack (log groups, the web bucket): matches no call.
        return self._attributes.get(logical_id, {}).get(attribute, f"unresolved:{logical_id}")

    def _sub(self, text: str, variables: Mapping[str, Any] | None = None) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if variables and name in variables:
                return str(self.resolve(variables[name]))
            logical_id, _, attribute = name.partition(".")
            return self._attribute(logical_id, attribute or "Ref")

        return _PLACEHOLDER.sub(replace, text)


def _function(synthesized: Synthesized, service: str) -> dict[str, Any]:
    for function in synthesized.of_type("AWS::Lambda::Function").values():
        if _environment(function).get("POWERTOOLS_SERVICE_NAME") == service:
            return function
    raise AssertionError(f"no function for service {service}")


def _environment(function: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = function["Properties"].get("Environment", {}).get("Variables", {})
    return variables


# --- principals and their policies -------------------------------------------------------


def principal_roles(synthesized: Synthesized, names: Names) -> dict[str, str]:
    """Each recorded principal's role, by logical id."""
    roles = {
        getattr(names, attribute): role_of_service(synthesized, service)
        for attribute, service in FUNCTION_SERVICES.items()
    }
    _, task = synthesized.one("AWS::ECS::TaskDefinition")
    roles[TRANSCODER_TASK] = task["Properties"]["TaskRoleArn"]["Fn::GetAtt"][0]
    _, machine = synthesized.one("AWS::StepFunctions::StateMachine")
    roles[STATE_MACHINE] = machine["Properties"]["RoleArn"]["Fn::GetAtt"][0]
    return roles


@dataclass(frozen=True)
class Grant:
    principal: str
    actions: list[str]
    statement: Statement  # resolved

    def describe(self) -> str:
        resources = ", ".join(as_list(self.statement.get("Resource", "*")))
        return f"{self.principal}: {', '.join(self.actions)} on {resources}"


class PrincipalPolicies:
    """One principal's identity policies, resolved, as moto's evaluator reads them."""

    def __init__(self, principal: str, statements: list[Statement]):
        self.principal = principal
        self.statements = statements

    def allows(self, call: Call) -> bool:
        return _permitted(self.statements, call)

    def unused(self, calls: Iterable[Call]) -> list[Grant]:
        """The actions of each statement that none of `calls` needed."""
        calls = list(calls)
        grants = []
        for statement in self.statements:
            if statement.get("Effect") != "Allow":
                continue
            unused = [
                action
                for action in as_list(statement.get("Action", []))
                if not any(_permitted([{**statement, "Action": action}], c) for c in calls)
            ]
            if unused:
                grants.append(Grant(self.principal, unused, statement))
        return grants


def _permitted(statements: list[Statement], call: Call) -> bool:
    document = json.dumps({"Version": "2012-10-17", "Statement": statements})
    result = IAMPolicy(document).is_action_permitted(
        call.action, call.resource, incoming_condition_values=dict(call.conditions)
    )
    return result == PermissionResult.PERMITTED


def principal_policies(
    synthesized: Synthesized, names: OfflineNames, role_logical_id: str, principal: str
) -> PrincipalPolicies:
    role = synthesized.resources[role_logical_id]["Properties"]
    # A managed policy's statements are not in the template; ours attach none.
    assert not role.get("ManagedPolicyArns"), f"{role_logical_id} has managed policies"
    statements = [names.resolve(s) for s in role_statements(synthesized, role_logical_id)]
    return PrincipalPolicies(principal, statements)
